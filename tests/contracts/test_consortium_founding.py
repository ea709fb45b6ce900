"""Founding rules found by mutation testing: no account twice, no admin demoted at founding;
RemoveMember works in a consortium that has no validators."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from contracts.errors import decode_error
from contracts.founding import Founding, FoundingAccount, FoundingCity, Role, city_id
from tests.contracts.harness import Deployment, revert_data

ZERO = "0x" + "00" * 20


def _deploy_error(deployment: Deployment, founding: Founding) -> tuple[str, dict[str, object]]:
    try:
        deployment.new_consortium(founding, deployment.cities["aachen"].admin)
    except Exception as exc:
        data = revert_data(exc)
        assert data is not None, exc
        return decode_error(data)
    raise AssertionError("the founding was accepted")


@pytest.mark.parametrize("case", ["demotes an admin", "lists an account twice"])
def test_a_founding_account_cannot_be_an_admin_or_repeated(deployment: Deployment, case: str) -> None:
    admin_a, admin_b, clerk = (deployment.new_account() for _ in range(3))
    cities = (FoundingCity("aachen", admin_a.address), FoundingCity("soest", admin_b.address))
    accounts: tuple[FoundingAccount, ...]
    if case == "demotes an admin":
        accounts = (FoundingAccount("aachen", admin_a.address, Role.CLERK),)
    else:
        accounts = (
            FoundingAccount("aachen", clerk.address, Role.CLERK),
            FoundingAccount("aachen", clerk.address, Role.CLERK),
        )
    name, args = _deploy_error(deployment, Founding(cities, accounts))
    assert name == "BadFounding" and "twice" in str(args["reason"])


def test_a_member_can_be_removed_when_there_are_no_validators(deployment: Deployment) -> None:
    admins: list[LocalAccount] = [deployment.new_account() for _ in range(2)]
    founding = Founding((FoundingCity("aachen", admins[0].address), FoundingCity("soest", admins[1].address)))
    consortium = deployment.new_consortium(founding, deployment.cities["aachen"].admin)
    remove_member = 1
    proposal = consortium.functions.propose(remove_member, city_id("soest"), ZERO, b"\0" * 32)
    proposal.call({"from": admins[0].address})  # not refused with LastValidator
    assert consortium.functions.validators().call() == []
