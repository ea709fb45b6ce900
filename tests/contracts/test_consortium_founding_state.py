"""Conformance tests of the Consortium: its founding state (members, voting period, accounts,
validators and nodes) and the constructor's refusals of bad foundings.

Tests that need a particular founding deploy a Consortium of their own (see consortium_support).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from contracts.founding import (
    DEFAULT_VOTING_PERIOD,
    ZERO_ADDRESS,
    Founding,
    FoundingAccount,
    FoundingCity,
    Role,
    city_id,
)
from tests.contracts.consortium_support import (
    CITIES,
    NO_ROLE,
    NOBODY,
    ZERO32,
    Invalid,
    deploy_error,
    make_gov,
    node_of,
    role_of,
    validator_of,
)
from tests.contracts.consortium_support import pool as pool  # a pytest fixture
from tests.contracts.harness import Deployment

# ------------------------------------------------------------------------ founding state


def test_founding_members_and_voting_period(deployment: Deployment) -> None:
    f = deployment.consortium.functions
    ids = [city_id(name) for name in deployment.cities]
    assert f.members().call() == ids
    assert f.memberCount().call() == len(ids)
    assert all(f.isMember(city).call() for city in ids)
    assert not f.isMember(city_id("soest")).call()
    assert not f.isMember(ZERO32).call()
    assert f.votingPeriod().call() == DEFAULT_VOTING_PERIOD


@pytest.mark.parametrize(
    ("attr", "role"), [("admin", Role.ADMIN), ("gateway", Role.GATEWAY), ("clerk", Role.CLERK)]
)
def test_founding_accounts_have_their_roles(deployment: Deployment, attr: str, role: Role) -> None:
    c = deployment.consortium
    for name, keys in deployment.cities.items():
        account: LocalAccount = getattr(keys, attr)
        assert role_of(c, account.address) == (city_id(name), role, 0)
        record, active = c.functions.accountOf(account.address).call()
        assert active
        assert record == (city_id(name), role, 1, 0, ZERO32)


def test_founding_scales_carry_their_calibration(deployment: Deployment) -> None:
    c = deployment.consortium
    expiries = set()
    for name, keys in deployment.cities.items():
        for i, scale in enumerate(keys.scales):
            city, role, valid_until = role_of(c, scale.address)
            assert (city, role) == (city_id(name), Role.SCALE)
            assert valid_until > deployment.backend.chain_time() + 300 * 86400
            expiries.add(valid_until)
            record, active = c.functions.accountOf(scale.address).call()
            assert active
            ref = f"DE-M-{name[:3].upper()}-{i:04d}".encode().ljust(32, b"\0")
            assert record == (city_id(name), Role.SCALE, 1, valid_until, ref)
    assert len(expiries) == 1


def test_accounts_without_a_role(deployment: Deployment) -> None:
    c = deployment.consortium
    for account in (deployment.outsider.address, deployment.cities["aachen"].validator.address, ZERO_ADDRESS):
        assert role_of(c, account) == NO_ROLE
        record, active = c.functions.accountOf(account).call()
        assert not active
        assert record[1] == Role.NONE


def test_founding_validators(deployment: Deployment) -> None:
    f = deployment.consortium.functions
    assert f.validators().call() == [k.validator.address for k in deployment.cities.values()]
    for name, keys in deployment.cities.items():
        assert f.isValidator(keys.validator.address).call()
        assert f.validatorCity(keys.validator.address).call() == city_id(name)
    assert not f.isValidator(deployment.cities["aachen"].admin.address).call()
    assert f.validatorCity(deployment.outsider.address).call() == ZERO32
    # Node certificates depend on the backend (a real node founds its own); each belongs to a member.
    for fingerprint in f.nodeFingerprints().call():
        assert f.nodeAllowed(fingerprint).call()
        assert f.isMember(f.nodeCity(fingerprint).call()).call()


def test_founding_nodes_and_optional_validators(deployment: Deployment, pool: list[LocalAccount]) -> None:
    gov = make_gov(deployment, pool, 3, validators=("aachen", "coesfeld"), nodes=("bochum", "coesfeld"))
    f = gov.c.functions
    assert f.nodeFingerprints().call() == [node_of("bochum"), node_of("coesfeld")]
    for name in ("bochum", "coesfeld"):
        assert f.nodeAllowed(node_of(name)).call()
        assert f.nodeCity(node_of(name)).call() == city_id(name)
    for unknown in (node_of("aachen"), ZERO32):
        assert not f.nodeAllowed(unknown).call()
        assert f.nodeCity(unknown).call() == ZERO32
    assert f.validators().call() == [validator_of("aachen"), validator_of("coesfeld")]
    assert not f.isValidator(ZERO_ADDRESS).call()
    assert f.proposalCount().call() == 0


# ----------------------------------------------------------------- constructor refusals

FoundingCase = Callable[[Sequence[LocalAccount]], Founding]


def _cities(*admins: LocalAccount) -> tuple[FoundingCity, ...]:
    return tuple(FoundingCity(name, a.address) for name, a in zip(CITIES, admins, strict=False))


CONSTRUCTOR_REFUSALS: list[Any] = [
    pytest.param(
        lambda a: Founding(cities=()),
        "BadFounding",
        {"reason": "no cities"},
        id="no cities",
    ),
    pytest.param(
        lambda a: Founding(_cities(a[0]), voting_period=0),
        "BadFounding",
        {"reason": "voting period is zero"},
        id="zero voting period",
    ),
    pytest.param(
        lambda a: Founding((FoundingCity("aachen", a[0].address), FoundingCity("aachen", a[1].address))),
        "InvalidProposal",
        {"reason": Invalid.ALREADY_MEMBER},
        id="duplicate city",
    ),
    pytest.param(
        lambda a: Founding((FoundingCity("aachen", ZERO_ADDRESS),)),
        "InvalidProposal",
        {"reason": Invalid.ZERO_ACCOUNT},
        id="zero admin",
    ),
    pytest.param(
        lambda a: Founding(_cities(a[0], a[0])),
        "InvalidProposal",
        {"reason": Invalid.ACCOUNT_TAKEN},
        id="admin reused across cities",
    ),
    pytest.param(
        lambda a: Founding(
            (FoundingCity("aachen", a[0].address, NOBODY), FoundingCity("bochum", a[1].address, NOBODY))
        ),
        "InvalidProposal",
        {"reason": Invalid.ALREADY_VALIDATOR},
        id="duplicate validator",
    ),
    pytest.param(
        lambda a: Founding(
            (
                FoundingCity("aachen", a[0].address, node_fingerprint=node_of("x")),
                FoundingCity("bochum", a[1].address, node_fingerprint=node_of("x")),
            )
        ),
        "InvalidProposal",
        {"reason": Invalid.NODE_ALREADY_ALLOWED},
        id="duplicate fingerprint",
    ),
    pytest.param(
        lambda a: Founding(_cities(a[0]), (FoundingAccount("bochum", a[1].address, Role.GATEWAY),)),
        "BadFounding",
        {"reason": "account of a city that is not founding"},
        id="account of a non-founding city",
    ),
    pytest.param(
        lambda a: Founding(_cities(a[0]), (FoundingAccount("aachen", a[1].address, Role.SCALE, b"DE-CAL"),)),
        "InvalidAccount",
        {"reason": "scale without calibration expiry"},
        id="scale without calibration expiry",
    ),
    pytest.param(
        lambda a: Founding(_cities(a[0]), (FoundingAccount("aachen", a[1].address, Role.CLERK, b"", 1),)),
        "InvalidAccount",
        {"reason": "calibration only applies to scales"},
        id="calibration on a clerk",
    ),
    pytest.param(
        lambda a: Founding(_cities(a[0]), (FoundingAccount("aachen", a[1].address, Role.NONE),)),
        "InvalidAccount",
        {"reason": "role NONE: use removeAccount"},
        id="role NONE",
    ),
    pytest.param(
        lambda a: Founding(_cities(a[0]), (FoundingAccount("aachen", ZERO_ADDRESS, Role.GATEWAY),)),
        "InvalidAccount",
        {"reason": "zero address"},
        id="zero account",
    ),
    pytest.param(
        lambda a: Founding(_cities(a[0], a[1]), (FoundingAccount("bochum", a[0].address, Role.GATEWAY),)),
        "InvalidAccount",
        {"reason": "account of another city"},
        id="account is another city's admin",
    ),
]


@pytest.mark.parametrize(("case", "error", "expected"), CONSTRUCTOR_REFUSALS)
def test_constructor_refuses_bad_founding(
    deployment: Deployment, pool: list[LocalAccount], case: FoundingCase, error: str, expected: dict[str, Any]
) -> None:
    name, args = deploy_error(deployment, case(pool))
    assert name == error, args
    assert {k: args[k] for k in expected} == expected


def test_constructor_accepts_a_complete_founding(deployment: Deployment, pool: list[LocalAccount]) -> None:
    a = pool
    founding = Founding(
        (
            FoundingCity("aachen", a[0].address, validator_of("aachen"), node_of("aachen")),
            FoundingCity("bochum", a[1].address),
        ),
        (
            FoundingAccount("aachen", a[2].address, Role.SCALE, b"DE-CAL", 2**40),
            FoundingAccount("bochum", a[3].address, Role.ADMIN),  # a second admin
        ),
        voting_period=1,
    )
    c = deployment.new_consortium(founding, deployment.cities["aachen"].admin)
    assert role_of(c, a[2].address) == (city_id("aachen"), Role.SCALE, 2**40)
    assert role_of(c, a[3].address) == (city_id("bochum"), Role.ADMIN, 0)
    assert c.functions.votingPeriod().call() == 1
