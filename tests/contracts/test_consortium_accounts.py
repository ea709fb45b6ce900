"""Conformance tests of the Consortium's account permissioning: which accounts may send which
transactions (transactionAllowed), and how a city's admins manage the city's accounts (setAccount /
removeAccount). They run on the shared deployment's Consortium.
"""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from contracts.founding import ZERO_ADDRESS, Role, city_id
from tests.contracts.consortium_support import (
    NO_ROLE,
    NOBODY,
    TARGET,
    ZERO32,
    address_of,
    allowed,
    events,
    expect_revert,
    reverts,
    role_of,
    send,
)
from tests.contracts.harness import Deployment

# ------------------------------------------------------------------ transactionAllowed


@pytest.mark.parametrize(
    ("who", "may_call", "may_create"),
    [
        ("admin", True, True),
        ("gateway", True, False),
        ("clerk", False, False),
        ("scale", False, False),
        ("validator", False, False),
        ("outsider", False, False),
    ],
)
def test_transaction_allowed_by_role(
    deployment: Deployment, who: str, may_call: bool, may_create: bool
) -> None:
    keys = deployment.cities["gelsenkirchen"]
    sender = {"scale": keys.scales[0], "outsider": deployment.outsider}.get(who) or getattr(keys, who)
    c = deployment.consortium
    assert allowed(c, sender.address, TARGET) is may_call
    assert allowed(c, sender.address, ZERO_ADDRESS) is may_create
    assert allowed(c, sender.address, deployment.consortium.address) is may_call


@pytest.mark.parametrize("who", ["admin", "gateway"])
def test_nobody_may_move_ether(deployment: Deployment, who: str) -> None:
    sender: LocalAccount = getattr(deployment.cities["paderborn"], who)
    c = deployment.consortium
    assert allowed(c, sender.address, TARGET, 0)
    assert not allowed(c, sender.address, TARGET, 1)
    assert not allowed(c, sender.address, ZERO_ADDRESS, 10**18)


# ------------------------------------------------------------- setAccount / removeAccount


@pytest.mark.parametrize("who", ["gateway", "clerk", "scale", "validator", "outsider"])
def test_only_an_admin_manages_accounts(deployment: Deployment, who: str) -> None:
    d = deployment
    keys = d.cities["aachen"]
    sender = {"scale": keys.scales[0], "outsider": d.outsider}.get(who) or getattr(keys, who)
    f = d.consortium.functions
    args = expect_revert(d, f.setAccount(NOBODY, Role.GATEWAY, ZERO32, 0), sender, "NotAnAdmin")
    assert args == {"sender": sender.address}
    args = expect_revert(d, f.removeAccount(keys.clerk.address), sender, "NotAnAdmin")
    assert args == {"sender": sender.address}


def test_an_admin_cannot_change_its_own_account(deployment: Deployment) -> None:
    d = deployment
    admin = d.cities["aachen"].admin
    f = d.consortium.functions
    expected = {"account": admin.address, "reason": "an admin cannot change its own account"}
    assert (
        expect_revert(d, f.setAccount(admin.address, Role.GATEWAY, ZERO32, 0), admin, "InvalidAccount")
        == expected
    )
    assert expect_revert(d, f.removeAccount(admin.address), admin, "InvalidAccount") == expected


@pytest.mark.parametrize(
    ("account", "role", "ref", "valid_until", "reason"),
    [
        (ZERO_ADDRESS, Role.GATEWAY, ZERO32, 0, "zero address"),
        (NOBODY, Role.NONE, ZERO32, 0, "role NONE: use removeAccount"),
        (NOBODY, Role.SCALE, b"DE-CAL".ljust(32, b"\0"), 0, "scale without calibration expiry"),
        (NOBODY, Role.CLERK, ZERO32, 2**40, "calibration only applies to scales"),
        (NOBODY, Role.GATEWAY, b"DE-CAL".ljust(32, b"\0"), 0, "calibration only applies to scales"),
        (NOBODY, Role.ADMIN, ZERO32, 1, "calibration only applies to scales"),
    ],
)
def test_set_account_refuses_invalid_records(
    deployment: Deployment, account: str, role: Role, ref: bytes, valid_until: int, reason: str
) -> None:
    d = deployment
    fn = d.consortium.functions.setAccount(account, role, ref, valid_until)
    args = expect_revert(d, fn, d.cities["aachen"].admin, "InvalidAccount")
    assert args == {"account": account, "reason": reason}


@pytest.mark.parametrize("attr", ["admin", "gateway", "clerk"])
def test_an_admin_cannot_take_an_account_of_another_city(deployment: Deployment, attr: str) -> None:
    d = deployment
    other: LocalAccount = getattr(d.cities["gelsenkirchen"], attr)
    fn = d.consortium.functions.setAccount(other.address, Role.CLERK, ZERO32, 0)
    args = expect_revert(d, fn, d.cities["aachen"].admin, "InvalidAccount")
    assert args == {"account": other.address, "reason": "account of another city"}
    assert role_of(d.consortium, other.address)[0] == city_id("gelsenkirchen")


@pytest.mark.parametrize(
    ("role", "ref", "valid_until"),
    [
        (Role.ADMIN, ZERO32, 0),
        (Role.GATEWAY, ZERO32, 0),
        (Role.CLERK, ZERO32, 0),
        (Role.SCALE, b"DE-M-TEST-0001".ljust(32, b"\0"), 2**40),
    ],
)
def test_an_admin_sets_accounts_of_its_city(
    deployment: Deployment, role: Role, ref: bytes, valid_until: int
) -> None:
    d = deployment
    account = address_of(f"paderborn {role.name}")
    receipt = send(
        d, d.consortium.functions.setAccount(account, role, ref, valid_until), d.cities["paderborn"].admin
    )
    paderborn = city_id("paderborn")
    assert events(d.consortium, receipt, "AccountSet") == [
        {
            "city": paderborn,
            "account": account,
            "role": role,
            "calibrationRef": ref,
            "calibrationValidUntil": valid_until,
        }
    ]
    assert role_of(d.consortium, account) == (paderborn, role, valid_until)
    record, active = d.consortium.functions.accountOf(account).call()
    assert active
    assert record == (paderborn, role, 1, valid_until, ref)


def test_an_admin_changes_the_role_of_its_own_citys_account(deployment: Deployment) -> None:
    d = deployment
    account = d.add_account("aachen", Role.GATEWAY)
    assert allowed(d.consortium, account.address)
    send(
        d, d.consortium.functions.setAccount(account.address, Role.CLERK, ZERO32, 0), d.cities["aachen"].admin
    )
    assert role_of(d.consortium, account.address) == (city_id("aachen"), Role.CLERK, 0)
    assert not allowed(d.consortium, account.address)


def test_a_second_admin_manages_accounts_of_its_city(deployment: Deployment) -> None:
    d = deployment
    second = d.add_account("gelsenkirchen", Role.ADMIN)
    assert allowed(d.consortium, second.address, ZERO_ADDRESS)
    clerk = address_of("clerk set by a second admin")
    receipt = send(d, d.consortium.functions.setAccount(clerk, Role.CLERK, ZERO32, 0), second)
    assert events(d.consortium, receipt, "AccountSet")[0]["city"] == city_id("gelsenkirchen")
    assert role_of(d.consortium, clerk) == (city_id("gelsenkirchen"), Role.CLERK, 0)
    # ... and can manage the first admin, but still not itself.
    first = d.cities["gelsenkirchen"].admin
    assert not reverts(
        d.consortium.functions.setAccount(first.address, Role.ADMIN, ZERO32, 0), second.address
    )
    expect_revert(d, d.consortium.functions.removeAccount(second.address), second, "InvalidAccount")


def test_an_admin_removes_an_account_of_its_city(deployment: Deployment) -> None:
    d = deployment
    admin = d.cities["paderborn"].admin
    account = d.add_account("paderborn", Role.GATEWAY)
    receipt = send(d, d.consortium.functions.removeAccount(account.address), admin)
    assert events(d.consortium, receipt, "AccountRemoved") == [
        {"city": city_id("paderborn"), "account": account.address}
    ]
    assert role_of(d.consortium, account.address) == NO_ROLE
    assert not d.consortium.functions.accountOf(account.address).call()[1]
    assert not allowed(d.consortium, account.address)
    args = expect_revert(d, d.consortium.functions.removeAccount(account.address), admin, "InvalidAccount")
    assert args == {"account": account.address, "reason": "not an account of this city"}


def test_a_removed_account_may_join_another_city(deployment: Deployment) -> None:
    d = deployment
    account = d.add_account("paderborn", Role.CLERK)
    fn = d.consortium.functions.setAccount(account.address, Role.GATEWAY, ZERO32, 0)
    expect_revert(d, fn, d.cities["aachen"].admin, "InvalidAccount")
    send(d, d.consortium.functions.removeAccount(account.address), d.cities["paderborn"].admin)
    send(d, fn, d.cities["aachen"].admin)
    assert role_of(d.consortium, account.address) == (city_id("aachen"), Role.GATEWAY, 0)


@pytest.mark.parametrize("attr", ["admin", "gateway", "clerk"])
def test_an_admin_cannot_remove_an_account_of_another_city(deployment: Deployment, attr: str) -> None:
    d = deployment
    other: LocalAccount = getattr(d.cities["gelsenkirchen"], attr)
    args = expect_revert(
        d, d.consortium.functions.removeAccount(other.address), d.cities["aachen"].admin, "InvalidAccount"
    )
    assert args == {"account": other.address, "reason": "not an account of this city"}


def test_removing_an_unknown_account_is_refused(deployment: Deployment) -> None:
    d = deployment
    args = expect_revert(
        d, d.consortium.functions.removeAccount(NOBODY), d.cities["aachen"].admin, "InvalidAccount"
    )
    assert args == {"account": NOBODY, "reason": "not an account of this city"}
