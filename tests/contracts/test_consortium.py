"""Conformance tests of the Consortium: founding state, constructor refusals, account permissioning,
the cities' self-service and governance.

Tests that change membership (or need a particular founding) run on a Consortium of their own
(`Gov`, built by `make_gov`) so that the shared deployment stays as founded. Their admins come from
`pool`: GATEWAYs of the shared Consortium, because a permissioned node only accepts transactions
from its ADMIN and GATEWAY accounts.

Transactions go through `send`: `Deployment.transact` with a fixed gas limit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, NamedTuple

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD
from web3.types import TxReceipt

from contracts.errors import decode_error
from contracts.founding import (
    DEFAULT_VOTING_PERIOD,
    ZERO_ADDRESS,
    Founding,
    FoundingAccount,
    FoundingCity,
    Role,
    city_id,
    city_name,
)
from tests.contracts.harness import Deployment, revert_data

ZERO32 = b"\0" * 32


class Kind(IntEnum):
    """Mirrors Consortium.ProposalKind."""

    ADD_MEMBER = 0
    REMOVE_MEMBER = 1
    ALLOW_NODE = 2
    REVOKE_NODE = 3
    ADD_VALIDATOR = 4
    REMOVE_VALIDATOR = 5


class State(IntEnum):
    """Mirrors Consortium.ProposalState."""

    NONE = 0
    OPEN = 1
    EXECUTED = 2
    REJECTED = 3
    FAILED = 4


class Invalid(IntEnum):
    """Mirrors Consortium.Invalid."""

    NONE = 0
    ZERO_CITY = 1
    ALREADY_MEMBER = 2
    NOT_A_MEMBER = 3
    ZERO_ACCOUNT = 4
    ACCOUNT_TAKEN = 5
    LAST_MEMBER = 6
    ZERO_FINGERPRINT = 7
    NODE_ALREADY_ALLOWED = 8
    UNKNOWN_NODE = 9
    ALREADY_VALIDATOR = 10
    NOT_A_VALIDATOR = 11
    LAST_VALIDATOR = 12


class Proposal(NamedTuple):
    kind: int
    state: int
    deadline: int
    yes: int
    no: int
    proposer_city: bytes
    city: bytes
    account: str
    fingerprint: bytes


def address_of(label: str) -> str:
    """A deterministic address nobody holds a key for."""
    return str(Web3.to_checksum_address(Web3.keccak(text=label)[:20]))


def validator_of(name: str) -> str:
    return address_of(f"validator/{name}")


def gateway_of(name: str) -> str:
    return address_of(f"gateway/{name}")


def node_of(name: str) -> bytes:
    return hashlib.sha256(f"node/{name}".encode()).digest()


NOBODY = address_of("nobody")  # an address that never had a role anywhere
CITIES = ("aachen", "bochum", "coesfeld", "duisburg", "essen", "frechen")
SPARES = 4
TARGET = address_of("some contract")


def cid(city: str | bytes) -> bytes:
    return city if isinstance(city, bytes) else city_id(city)


# ------------------------------------------------------------------------------- helpers


TX_GAS = 3_000_000


def send(d: Deployment, fn: ContractFunction, sender: LocalAccount) -> TxReceipt:
    """`Deployment.transact` with a fixed gas limit (eth-tester's gas estimation re-runs each
    transaction a dozen times); a failure names the custom error the call now reverts with."""
    try:
        return d.transact(fn, sender, gas=TX_GAS)
    except AssertionError:
        try:
            fn.call({"from": sender.address})
        except Exception as exc:
            data = revert_data(exc)
            raise AssertionError(f"{fn.fn_name} failed: {data and decode_error(data)}") from exc
        raise


def expect_revert(d: Deployment, fn: ContractFunction, sender: LocalAccount, error: str) -> dict[str, Any]:
    """`Deployment.expect_revert` with addresses in the arguments checksummed, as web3 returns them."""
    args = d.expect_revert(fn, sender, error)
    return {k: Web3.to_checksum_address(v) if Web3.is_address(v) else v for k, v in args.items()}


def reverts(fn: ContractFunction, sender: str) -> bool:
    try:
        fn.call({"from": sender})
    except Exception as exc:
        if revert_data(exc) is None:
            raise
        return True
    return False


def events(contract: Contract, receipt: TxReceipt, name: str) -> list[dict[str, Any]]:
    return [dict(e["args"]) for e in contract.events[name]().process_receipt(receipt, errors=DISCARD)]


def allowed(contract: Contract, sender: str, target: str = TARGET, value: int = 0) -> bool:
    result = contract.functions.transactionAllowed(sender, target, value, 0, 30_000_000, b"\x01\x02").call()
    return bool(result)


def role_of(contract: Contract, account: str) -> tuple[bytes, int, int]:
    city, role, valid_until = contract.functions.roleOf(account).call()
    return bytes(city), int(role), int(valid_until)


NO_ROLE = (ZERO32, Role.NONE, 0)


def deploy_error(d: Deployment, founding: Founding) -> tuple[str, dict[str, Any]]:
    """The custom error with which the constructor refuses `founding`."""
    try:
        d.new_consortium(founding, d.cities["aachen"].admin)
    except Exception as exc:
        data = revert_data(exc)
        if data is None:
            raise
        return decode_error(data)
    raise AssertionError("the constructor accepted the founding")


@dataclass
class Gov:
    """A Consortium of its own: city i has admin pool[i], gateway `gateway_of(name)`, validator
    `validator_of(name)` and node `node_of(name)` (where founded with them)."""

    d: Deployment
    c: Contract
    admins: dict[str, LocalAccount]
    spare: list[LocalAccount] = field(default_factory=list)  # funded accounts without a role here

    def admin(self, by: str | LocalAccount) -> LocalAccount:
        return self.admins[by] if isinstance(by, str) else by

    def propose(
        self,
        by: str | LocalAccount,
        kind: Kind,
        city: str | bytes = ZERO32,
        account: str = ZERO_ADDRESS,
        fingerprint: bytes = ZERO32,
    ) -> tuple[int, TxReceipt]:
        pid = int(self.c.functions.proposalCount().call())
        receipt = send(
            self.d, self.c.functions.propose(kind, cid(city), account, fingerprint), self.admin(by)
        )
        return pid, receipt

    def vote(self, by: str | LocalAccount, pid: int, support: bool) -> TxReceipt:
        return send(self.d, self.c.functions.vote(pid, support), self.admin(by))

    def expect_vote_revert(self, by: str | LocalAccount, pid: int, error: str) -> dict[str, Any]:
        return expect_revert(self.d, self.c.functions.vote(pid, True), self.admin(by), error)

    def proposal(self, pid: int) -> Proposal:
        return Proposal(*self.c.functions.getProposal(pid).call())

    def state(self, pid: int) -> State:
        return State(self.proposal(pid).state)

    def enact(
        self,
        by: str,
        kind: Kind,
        city: str | bytes = ZERO32,
        account: str = ZERO_ADDRESS,
        fingerprint: bytes = ZERO32,
    ) -> tuple[int, TxReceipt]:
        """Proposes and has the other members vote yes until it executes; returns the deciding receipt."""
        pid, receipt = self.propose(by, kind, city, account, fingerprint)
        for member in self.c.functions.members().call():
            if self.state(pid) != State.OPEN:
                break
            if city_name(member) != by:
                receipt = self.vote(city_name(member), pid, True)
        assert self.state(pid) == State.EXECUTED
        return pid, receipt

    def snapshot(self) -> tuple[list[bytes], list[str], list[bytes]]:
        f = self.c.functions
        return f.members().call(), f.validators().call(), f.nodeFingerprints().call()


def make_gov(
    d: Deployment,
    pool: Sequence[LocalAccount],
    members: int = 3,
    *,
    voting_period: int = DEFAULT_VOTING_PERIOD,
    validators: Sequence[str] | None = None,
    nodes: Sequence[str] | None = None,
) -> Gov:
    """A Consortium of the first `members` CITIES, each with a gateway; by default every city
    brings a validator and a node."""
    names = CITIES[:members]
    with_validator = set(names if validators is None else validators)
    with_node = set(names if nodes is None else nodes)
    founding = Founding(
        cities=tuple(
            FoundingCity(
                name,
                pool[i].address,
                validator_of(name) if name in with_validator else ZERO_ADDRESS,
                node_of(name) if name in with_node else ZERO32,
            )
            for i, name in enumerate(names)
        ),
        accounts=tuple(FoundingAccount(name, gateway_of(name), Role.GATEWAY) for name in names),
        voting_period=voting_period,
    )
    return Gov(
        d=d,
        c=d.new_consortium(founding, d.cities["aachen"].admin),
        admins={name: pool[i] for i, name in enumerate(names)},
        spare=list(pool[len(CITIES) :]),
    )


@pytest.fixture(scope="module")
def pool(deployment: Deployment) -> list[LocalAccount]:
    """Accounts for the admins of separate consortia (any of them may reuse these). Each is a
    GATEWAY of the shared Consortium, as a permissioned node lets nobody else send transactions."""
    names = list(deployment.cities)
    return [deployment.add_account(names[i % len(names)], Role.GATEWAY) for i in range(len(CITIES) + SPARES)]


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


# ------------------------------------------------------------------------- governance


@pytest.mark.parametrize("who", ["gateway", "clerk", "scale", "validator", "outsider"])
def test_only_an_admin_proposes_or_votes(deployment: Deployment, who: str) -> None:
    d = deployment
    keys = d.cities["paderborn"]
    sender = {"scale": keys.scales[0], "outsider": d.outsider}.get(who) or getattr(keys, who)
    f = d.consortium.functions
    propose = f.propose(Kind.ADD_VALIDATOR, city_id("paderborn"), NOBODY, ZERO32)
    assert expect_revert(d, propose, sender, "NotAnAdmin") == {"sender": sender.address}
    assert expect_revert(d, f.vote(0, True), sender, "NotAnAdmin") == {"sender": sender.address}
    assert not reverts(propose, keys.admin.address)


def test_the_shared_consortium_rejects_a_proposal_without_effect(deployment: Deployment) -> None:
    """Governance on the shared (genesis-allocated or deployed) Consortium; leaves it as it was."""
    d = deployment
    c = d.consortium
    names = list(d.cities)
    fingerprint = node_of("shared")
    nodes = c.functions.nodeFingerprints().call()
    pid = int(c.functions.proposalCount().call())
    propose = c.functions.propose(Kind.ALLOW_NODE, city_id(names[0]), ZERO_ADDRESS, fingerprint)
    send(d, propose, d.cities[names[0]].admin)
    send(d, c.functions.vote(pid, False), d.cities[names[1]].admin)
    assert Proposal(*c.functions.getProposal(pid).call()).state == State.OPEN
    receipt = send(d, c.functions.vote(pid, False), d.cities[names[2]].admin)
    assert events(c, receipt, "ProposalRejected") == [{"id": pid}]
    proposal = Proposal(*c.functions.getProposal(pid).call())
    assert (proposal.state, proposal.yes, proposal.no) == (State.REJECTED, 1, 2)
    assert not c.functions.nodeAllowed(fingerprint).call()
    assert c.functions.nodeFingerprints().call() == nodes


@pytest.fixture(scope="module")
def standing_gov(deployment: Deployment, pool: list[LocalAccount]) -> Gov:
    """A 3-city Consortium shared by tests that leave it unchanged (they only read or make calls
    that revert)."""
    return make_gov(deployment, pool, 3)


SETUPS: dict[str, Callable[[Deployment, Sequence[LocalAccount]], Gov]] = {
    "1 city": lambda d, pool: make_gov(d, pool, 1),
    "2 cities, 1 validator": lambda d, pool: make_gov(d, pool, 2, validators=("bochum",)),
}


@pytest.mark.parametrize(
    ("setup", "kind", "city", "account", "fingerprint", "reason"),
    [
        ("3 cities", Kind.ADD_MEMBER, ZERO32, NOBODY, ZERO32, Invalid.ZERO_CITY),
        ("3 cities", Kind.ADD_MEMBER, "bochum", NOBODY, ZERO32, Invalid.ALREADY_MEMBER),
        ("3 cities", Kind.ADD_MEMBER, "duisburg", ZERO_ADDRESS, ZERO32, Invalid.ZERO_ACCOUNT),
        ("3 cities", Kind.ADD_MEMBER, "duisburg", gateway_of("bochum"), ZERO32, Invalid.ACCOUNT_TAKEN),
        ("3 cities", Kind.REMOVE_MEMBER, "duisburg", ZERO_ADDRESS, ZERO32, Invalid.NOT_A_MEMBER),
        ("1 city", Kind.REMOVE_MEMBER, "aachen", ZERO_ADDRESS, ZERO32, Invalid.LAST_MEMBER),
        ("3 cities", Kind.ALLOW_NODE, "duisburg", ZERO_ADDRESS, node_of("new"), Invalid.NOT_A_MEMBER),
        ("3 cities", Kind.ALLOW_NODE, "bochum", ZERO_ADDRESS, ZERO32, Invalid.ZERO_FINGERPRINT),
        (
            "3 cities",
            Kind.ALLOW_NODE,
            "bochum",
            ZERO_ADDRESS,
            node_of("coesfeld"),
            Invalid.NODE_ALREADY_ALLOWED,
        ),
        ("3 cities", Kind.REVOKE_NODE, "bochum", ZERO_ADDRESS, node_of("new"), Invalid.UNKNOWN_NODE),
        ("3 cities", Kind.ADD_VALIDATOR, "duisburg", NOBODY, ZERO32, Invalid.NOT_A_MEMBER),
        ("3 cities", Kind.ADD_VALIDATOR, "bochum", ZERO_ADDRESS, ZERO32, Invalid.ZERO_ACCOUNT),
        (
            "3 cities",
            Kind.ADD_VALIDATOR,
            "bochum",
            validator_of("coesfeld"),
            ZERO32,
            Invalid.ALREADY_VALIDATOR,
        ),
        ("3 cities", Kind.REMOVE_VALIDATOR, "bochum", NOBODY, ZERO32, Invalid.NOT_A_VALIDATOR),
        (
            "2 cities, 1 validator",
            Kind.REMOVE_VALIDATOR,
            "bochum",
            validator_of("bochum"),
            ZERO32,
            Invalid.LAST_VALIDATOR,
        ),
    ],
    ids=lambda v: v.name if isinstance(v, IntEnum) else None,
)
def test_invalid_proposals_are_refused(
    deployment: Deployment,
    pool: list[LocalAccount],
    setup: str,
    kind: Kind,
    city: str | bytes,
    account: str,
    fingerprint: bytes,
    reason: Invalid,
    standing_gov: Gov,
) -> None:
    gov = standing_gov if setup == "3 cities" else SETUPS[setup](deployment, pool)
    fn = gov.c.functions.propose(kind, cid(city), account, fingerprint)
    assert expect_revert(deployment, fn, gov.admins["aachen"], "InvalidProposal") == {"reason": reason}
    assert gov.c.functions.proposalCount().call() == 0


def test_the_proposers_city_votes_yes_at_once(deployment: Deployment, pool: list[LocalAccount]) -> None:
    gov = make_gov(deployment, pool, 3)
    pid, receipt = gov.propose("bochum", Kind.ADD_VALIDATOR, "coesfeld", NOBODY)
    deadline = deployment.w3.eth.get_block(receipt["blockNumber"])["timestamp"] + DEFAULT_VOTING_PERIOD
    bochum, coesfeld = city_id("bochum"), city_id("coesfeld")
    assert events(gov.c, receipt, "ProposalCreated") == [
        {
            "id": pid,
            "kind": Kind.ADD_VALIDATOR,
            "proposerCity": bochum,
            "city": coesfeld,
            "account": NOBODY,
            "fingerprint": ZERO32,
            "deadline": deadline,
        }
    ]
    assert events(gov.c, receipt, "VoteCast") == [
        {"id": pid, "city": bochum, "support": True, "yes": 1, "no": 0}
    ]
    assert gov.proposal(pid) == (
        Kind.ADD_VALIDATOR,
        State.OPEN,
        deadline,
        1,
        0,
        bochum,
        coesfeld,
        NOBODY,
        ZERO32,
    )
    assert gov.c.functions.hasVoted(pid, bochum).call()
    assert not gov.c.functions.hasVoted(pid, coesfeld).call()
    assert gov.c.functions.proposalCount().call() == pid + 1 == 1


def test_each_city_votes_once_whichever_of_its_admins_votes(
    deployment: Deployment, pool: list[LocalAccount]
) -> None:
    gov = make_gov(deployment, pool, 3)
    second = gov.spare[0]
    send(deployment, gov.c.functions.setAccount(second.address, Role.ADMIN, ZERO32, 0), gov.admins["aachen"])
    pid, _ = gov.propose(second, Kind.ADD_VALIDATOR, "aachen", NOBODY)
    aachen, bochum = city_id("aachen"), city_id("bochum")
    for admin in (gov.admins["aachen"], second):
        assert gov.expect_vote_revert(admin, pid, "AlreadyVoted") == {"id": pid, "city": aachen}
    gov.vote("bochum", pid, False)
    assert gov.expect_vote_revert("bochum", pid, "AlreadyVoted") == {"id": pid, "city": bochum}
    proposal = gov.proposal(pid)
    assert (proposal.state, proposal.yes, proposal.no) == (State.OPEN, 1, 1)
    gov.vote("coesfeld", pid, True)
    assert gov.state(pid) == State.EXECUTED


def test_unknown_proposals_are_refused(deployment: Deployment) -> None:
    d = deployment
    f = d.consortium.functions
    admin = d.cities["aachen"].admin
    pid = int(f.proposalCount().call()) + 5
    assert expect_revert(d, f.vote(pid, True), admin, "UnknownProposal") == {"id": pid}
    assert expect_revert(d, f.getProposal(pid), admin, "UnknownProposal") == {"id": pid}


@pytest.mark.parametrize(("support", "closed"), [(True, State.EXECUTED), (False, State.REJECTED)])
def test_closed_proposals_take_no_more_votes(
    deployment: Deployment, pool: list[LocalAccount], support: bool, closed: State
) -> None:
    gov = make_gov(deployment, pool, 4)
    pid, _ = gov.propose("aachen", Kind.ADD_VALIDATOR, "aachen", NOBODY)
    gov.vote("bochum", pid, support)
    gov.vote("coesfeld", pid, support)
    assert gov.state(pid) == closed
    assert gov.expect_vote_revert("duisburg", pid, "ProposalClosed") == {"id": pid, "state": closed}


def test_votes_after_the_deadline_are_refused(deployment: Deployment, pool: list[LocalAccount]) -> None:
    gov = make_gov(deployment, pool, 3, voting_period=60)
    pid, _ = gov.propose("aachen", Kind.ADD_VALIDATOR, "aachen", NOBODY)
    gov.vote("bochum", pid, False)  # within the voting period
    deployment.backend.advance_time(120)
    deadline = gov.proposal(pid).deadline
    assert gov.expect_vote_revert("coesfeld", pid, "ProposalExpired") == {"id": pid, "deadline": deadline}
    assert gov.state(pid) == State.OPEN
    assert not gov.c.functions.isValidator(NOBODY).call()


@pytest.mark.parametrize("members", [1, 3, 4])
def test_a_proposal_passes_with_yes_votes_of_more_than_half_the_members(
    deployment: Deployment, pool: list[LocalAccount], members: int
) -> None:
    gov = make_gov(deployment, pool, members)
    needed = members // 2 + 1
    pid, receipt = gov.propose("aachen", Kind.ADD_VALIDATOR, "aachen", NOBODY)
    for yes in range(1, needed + 1):
        if yes > 1:
            receipt = gov.vote(CITIES[yes - 1], pid, True)
        executed = yes == needed
        assert gov.state(pid) == (State.EXECUTED if executed else State.OPEN), f"{yes} yes of {members}"
        assert gov.c.functions.isValidator(NOBODY).call() is executed
    assert events(gov.c, receipt, "ProposalExecuted") == [{"id": pid}]


@pytest.mark.parametrize("members", [2, 3, 4])
def test_a_proposal_is_rejected_once_it_can_no_longer_pass(
    deployment: Deployment, pool: list[LocalAccount], members: int
) -> None:
    gov = make_gov(deployment, pool, members)
    needed = (members + 1) // 2  # no * 2 >= members
    pid, _ = gov.propose("aachen", Kind.ADD_VALIDATOR, "aachen", NOBODY)
    for no in range(1, needed + 1):
        receipt = gov.vote(CITIES[no], pid, False)
        rejected = no == needed
        assert gov.state(pid) == (State.REJECTED if rejected else State.OPEN), f"{no} no of {members}"
        assert events(gov.c, receipt, "ProposalRejected") == ([{"id": pid}] if rejected else [])
        assert events(gov.c, receipt, "ProposalExecuted") == []
    assert not gov.c.functions.isValidator(NOBODY).call()


def test_add_member_admits_the_city_with_its_first_admin(
    deployment: Deployment, pool: list[LocalAccount]
) -> None:
    gov = make_gov(deployment, pool, 3)
    admin = gov.spare[0]
    duisburg = city_id("duisburg")
    pid, receipt = gov.enact("aachen", Kind.ADD_MEMBER, "duisburg", admin.address)
    assert events(gov.c, receipt, "MemberAdded") == [{"city": duisburg, "admin": admin.address}]
    assert events(gov.c, receipt, "AccountSet") == [
        {
            "city": duisburg,
            "account": admin.address,
            "role": Role.ADMIN,
            "calibrationRef": ZERO32,
            "calibrationValidUntil": 0,
        }
    ]
    assert events(gov.c, receipt, "ProposalExecuted") == [{"id": pid}]
    f = gov.c.functions
    assert f.members().call() == [city_id(n) for n in CITIES[:4]]
    assert f.memberCount().call() == 4
    assert f.isMember(duisburg).call()
    assert role_of(gov.c, admin.address) == (duisburg, Role.ADMIN, 0)
    assert allowed(gov.c, admin.address, ZERO_ADDRESS)
    # The new admin acts for its city.
    send(deployment, f.setAccount(gateway_of("duisburg"), Role.GATEWAY, ZERO32, 0), admin)
    assert role_of(gov.c, gateway_of("duisburg")) == (duisburg, Role.GATEWAY, 0)
    pid, _ = gov.propose(admin, Kind.ALLOW_NODE, "duisburg", fingerprint=node_of("duisburg"))
    assert gov.proposal(pid).proposer_city == duisburg


def test_the_quorum_follows_the_member_count_after_an_admission(
    deployment: Deployment, pool: list[LocalAccount]
) -> None:
    gov = make_gov(deployment, pool, 3)
    gov.enact("aachen", Kind.ADD_MEMBER, "duisburg", gov.spare[0].address)
    gov.admins["duisburg"] = gov.spare[0]
    pid, _ = gov.propose("aachen", Kind.ADD_VALIDATOR, "aachen", NOBODY)
    gov.vote("bochum", pid, True)
    assert gov.state(pid) == State.OPEN  # 2 of 4 is not more than half
    gov.vote("duisburg", pid, True)
    assert gov.state(pid) == State.EXECUTED


def test_remove_member_drops_the_city_with_its_validators_nodes_and_accounts(
    deployment: Deployment, pool: list[LocalAccount]
) -> None:
    gov = make_gov(deployment, pool, 3)
    bochum = city_id("bochum")
    second_validator, second_node = validator_of("bochum/2"), node_of("bochum/2")
    gov.enact("bochum", Kind.ADD_VALIDATOR, "bochum", second_validator)
    gov.enact("bochum", Kind.ALLOW_NODE, "bochum", fingerprint=second_node)
    pid, receipt = gov.enact("aachen", Kind.REMOVE_MEMBER, "bochum")
    assert events(gov.c, receipt, "MemberRemoved") == [{"city": bochum}]
    removed_validators = events(gov.c, receipt, "ValidatorRemoved")
    assert sorted(e["validator"] for e in removed_validators) == sorted(
        [validator_of("bochum"), second_validator]
    )
    assert {e["city"] for e in removed_validators} == {bochum}
    revoked = events(gov.c, receipt, "NodeRevoked")
    assert sorted(e["fingerprint"] for e in revoked) == sorted([node_of("bochum"), second_node])
    assert {e["city"] for e in revoked} == {bochum}
    assert events(gov.c, receipt, "ProposalExecuted") == [{"id": pid}]

    f = gov.c.functions
    assert sorted(f.members().call()) == [city_id("aachen"), city_id("coesfeld")]
    assert f.memberCount().call() == 2
    assert not f.isMember(bochum).call()
    assert sorted(f.validators().call()) == sorted([validator_of("aachen"), validator_of("coesfeld")])
    assert sorted(f.nodeFingerprints().call()) == sorted([node_of("aachen"), node_of("coesfeld")])
    for validator in (validator_of("bochum"), second_validator):
        assert not f.isValidator(validator).call()
        assert f.validatorCity(validator).call() == ZERO32
    for node in (node_of("bochum"), second_node):
        assert not f.nodeAllowed(node).call()
        assert f.nodeCity(node).call() == ZERO32
    for account in (gov.admins["bochum"].address, gateway_of("bochum")):
        assert role_of(gov.c, account) == NO_ROLE
        assert not f.accountOf(account).call()[1]
        assert not allowed(gov.c, account)
        assert not allowed(gov.c, account, ZERO_ADDRESS)
    assert allowed(gov.c, gateway_of("aachen"))
    # Its dead accounts are free for the remaining cities.
    send(deployment, f.setAccount(gateway_of("bochum"), Role.GATEWAY, ZERO32, 0), gov.admins["aachen"])
    assert role_of(gov.c, gateway_of("bochum")) == (city_id("aachen"), Role.GATEWAY, 0)


def test_a_removed_citys_admin_can_no_longer_propose_or_vote(
    deployment: Deployment, pool: list[LocalAccount]
) -> None:
    gov = make_gov(deployment, pool, 3)
    pending, _ = gov.propose("coesfeld", Kind.ADD_VALIDATOR, "coesfeld", NOBODY)
    gov.enact("aachen", Kind.REMOVE_MEMBER, "bochum")
    former = gov.admins["bochum"]
    fn = gov.c.functions.propose(Kind.ADD_VALIDATOR, city_id("aachen"), validator_of("x"), ZERO32)
    assert expect_revert(deployment, fn, former, "NotAnAdmin") == {"sender": former.address}
    assert gov.expect_vote_revert(former, pending, "NotAnAdmin") == {"sender": former.address}
    fn = gov.c.functions.setAccount(gateway_of("bochum"), Role.GATEWAY, ZERO32, 0)
    expect_revert(deployment, fn, former, "NotAnAdmin")


@pytest.mark.parametrize("same_admin", [False, True], ids=["new admin", "former admin"])
def test_a_readmitted_city_starts_a_fresh_membership(
    deployment: Deployment, pool: list[LocalAccount], same_admin: bool
) -> None:
    gov = make_gov(deployment, pool, 3)
    former = gov.admins["bochum"]
    gov.enact("aachen", Kind.REMOVE_MEMBER, "bochum")
    admin = former if same_admin else gov.spare[0]
    gov.enact("aachen", Kind.ADD_MEMBER, "bochum", admin.address)
    bochum = city_id("bochum")
    f = gov.c.functions
    # Accounts of the earlier membership stay dead.
    assert role_of(gov.c, gateway_of("bochum")) == NO_ROLE
    assert not allowed(gov.c, gateway_of("bochum"))
    if not same_admin:
        assert role_of(gov.c, former.address) == NO_ROLE
        fn = f.propose(Kind.ADD_VALIDATOR, bochum, NOBODY, ZERO32)
        assert expect_revert(deployment, fn, former, "NotAnAdmin") == {"sender": former.address}
    # Neither do its validator and node come back.
    assert not f.isValidator(validator_of("bochum")).call()
    assert not f.nodeAllowed(node_of("bochum")).call()
    # A dead account of the earlier membership is no account of the city.
    args = expect_revert(deployment, f.removeAccount(gateway_of("bochum")), admin, "InvalidAccount")
    assert args == {"account": gateway_of("bochum"), "reason": "not an account of this city"}
    # The admission's admin acts for the city.
    assert role_of(gov.c, admin.address) == (bochum, Role.ADMIN, 0)
    assert allowed(gov.c, admin.address)
    send(deployment, f.setAccount(gateway_of("bochum"), Role.GATEWAY, ZERO32, 0), admin)
    assert role_of(gov.c, gateway_of("bochum")) == (bochum, Role.GATEWAY, 0)
    pid, _ = gov.propose(admin, Kind.ADD_VALIDATOR, "bochum", validator_of("bochum"))
    assert gov.proposal(pid).proposer_city == bochum


@pytest.mark.parametrize(
    ("kind", "account", "fingerprint", "event", "subject", "present"),
    [
        (Kind.ALLOW_NODE, ZERO_ADDRESS, node_of("new"), "NodeAllowed", node_of("new"), True),
        (Kind.REVOKE_NODE, ZERO_ADDRESS, node_of("bochum"), "NodeRevoked", node_of("bochum"), False),
        (Kind.ADD_VALIDATOR, NOBODY, ZERO32, "ValidatorAdded", NOBODY, True),
        (
            Kind.REMOVE_VALIDATOR,
            validator_of("bochum"),
            ZERO32,
            "ValidatorRemoved",
            validator_of("bochum"),
            False,
        ),
    ],
    ids=["AllowNode", "RevokeNode", "AddValidator", "RemoveValidator"],
)
def test_node_and_validator_proposals_concern_their_city_and_take_effect_on_execution(
    deployment: Deployment,
    pool: list[LocalAccount],
    kind: Kind,
    account: str,
    fingerprint: bytes,
    event: str,
    subject: str | bytes,
    present: bool,
) -> None:
    gov = make_gov(deployment, pool, 3)
    f = gov.c.functions
    bochum = city_id("bochum")
    is_node = isinstance(subject, bytes)

    def listed() -> bool:
        return subject in (f.nodeFingerprints().call() if is_node else f.validators().call())

    def owner() -> bytes:
        return bytes(f.nodeCity(subject).call() if is_node else f.validatorCity(subject).call())

    def active() -> bool:
        return bool(f.nodeAllowed(subject).call() if is_node else f.isValidator(subject).call())

    # RevokeNode and RemoveValidator concern the owning city, whatever city the proposer names.
    named = "aachen" if kind in (Kind.REVOKE_NODE, Kind.REMOVE_VALIDATOR) else "bochum"
    pid, receipt = gov.propose("aachen", kind, named, account, fingerprint)
    assert gov.proposal(pid).city == bochum
    assert (listed(), active(), owner() == bochum) == (not present,) * 3  # nothing happens before the vote
    assert events(gov.c, receipt, event) == []
    receipt = gov.vote("coesfeld", pid, True)
    assert gov.state(pid) == State.EXECUTED
    key = "fingerprint" if is_node else "validator"
    assert events(gov.c, receipt, event) == [{"city": bochum, key: subject}]
    assert events(gov.c, receipt, "ProposalExecuted") == [{"id": pid}]
    assert (listed(), active(), owner() == bochum) == (present,) * 3
    assert len(f.nodeFingerprints().call() if is_node else f.validators().call()) == 3 + (
        1 if present else -1
    )


Competitor = tuple[Kind, str, str, bytes]  # kind, city, account (or "spareN"), fingerprint


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        pytest.param(
            (Kind.ADD_VALIDATOR, "aachen", NOBODY, ZERO32),
            (Kind.ADD_VALIDATOR, "bochum", NOBODY, ZERO32),
            Invalid.ALREADY_VALIDATOR,
            id="same validator for two cities",
        ),
        pytest.param(
            (Kind.REVOKE_NODE, "", ZERO_ADDRESS, node_of("coesfeld")),
            (Kind.REVOKE_NODE, "", ZERO_ADDRESS, node_of("coesfeld")),
            Invalid.UNKNOWN_NODE,
            id="node revoked twice",
        ),
        pytest.param(
            (Kind.ADD_MEMBER, "duisburg", "spare0", ZERO32),
            (Kind.ADD_MEMBER, "essen", "spare0", ZERO32),
            Invalid.ACCOUNT_TAKEN,
            id="same first admin for two cities",
        ),
        pytest.param(
            (Kind.REMOVE_VALIDATOR, "", validator_of("aachen"), ZERO32),
            (Kind.REMOVE_MEMBER, "bochum", ZERO_ADDRESS, ZERO32),
            Invalid.LAST_VALIDATOR,
            id="removal of the city left holding every validator",
        ),
    ],
)
def test_a_proposal_made_invalid_by_a_competing_one_fails(
    deployment: Deployment, pool: list[LocalAccount], first: Competitor, second: Competitor, reason: Invalid
) -> None:
    gov = make_gov(deployment, pool, 3, validators=("aachen", "bochum"))
    spares = {f"spare{i}": a.address for i, a in enumerate(gov.spare)}

    def propose(by: str, competitor: Competitor) -> int:
        kind, city, account, fingerprint = competitor
        return gov.propose(by, kind, city or ZERO32, spares.get(account, account), fingerprint)[0]

    winner, loser = propose("aachen", first), propose("bochum", second)
    gov.vote("bochum", winner, True)
    assert gov.state(winner) == State.EXECUTED
    before = gov.snapshot()
    # An admission raised the member count to 4, so the loser then needs a third yes.
    deciding = ["aachen", "coesfeld"] if first[0] == Kind.ADD_MEMBER else ["aachen"]
    for voter in deciding:
        assert gov.state(loser) == State.OPEN
        receipt = gov.vote(voter, loser, True)
    assert gov.state(loser) == State.FAILED
    assert events(gov.c, receipt, "ProposalFailed") == [{"id": loser, "reason": reason}]
    assert events(gov.c, receipt, "ProposalExecuted") == []
    assert gov.snapshot() == before
    assert gov.expect_vote_revert("bochum", loser, "ProposalClosed") == {"id": loser, "state": State.FAILED}


# ----------------------------------------------------------------------- property test


class Ballot(NamedTuple):
    members: int
    proposer: int
    votes: list[tuple[int, bool]]  # (city index, support), each city at most once


@st.composite
def ballots(draw: st.DrawFn) -> Ballot:
    members = draw(st.integers(min_value=1, max_value=len(CITIES)))
    proposer = draw(st.integers(min_value=0, max_value=members - 1))
    voters = draw(st.permutations([i for i in range(members) if i != proposer]))
    supports = draw(st.lists(st.booleans(), min_size=len(voters), max_size=len(voters)))
    return Ballot(members, proposer, list(zip(voters, supports, strict=True)))


def reference_outcome(members: int, supports: Sequence[bool]) -> State:
    """The rule: executed as soon as yes * 2 > members, else rejected once no * 2 >= members."""
    yes = no = 0
    for support in supports:
        yes, no = yes + support, no + (not support)
        if yes * 2 > members:
            return State.EXECUTED
        if no * 2 >= members:
            return State.REJECTED
    return State.OPEN


@settings(max_examples=15, deadline=None, database=None)
@given(ballot=ballots())
def test_votes_decide_as_the_reference_model(
    deployment: Deployment, pool: list[LocalAccount], ballot: Ballot
) -> None:
    gov = make_gov(deployment, pool, ballot.members, validators=(), nodes=())
    pid, _ = gov.propose(CITIES[ballot.proposer], Kind.ADD_VALIDATOR, CITIES[ballot.proposer], NOBODY)
    cast_votes = [True]
    for voter, support in ballot.votes:
        expected = reference_outcome(ballot.members, cast_votes)
        assert gov.state(pid) == expected
        if expected == State.OPEN:
            gov.vote(CITIES[voter], pid, support)
            cast_votes.append(support)
        else:
            args = gov.expect_vote_revert(CITIES[voter], pid, "ProposalClosed")
            assert args == {"id": pid, "state": expected}
    final = reference_outcome(ballot.members, cast_votes)
    assert gov.state(pid) == final
    proposal = gov.proposal(pid)
    assert (proposal.yes, proposal.no) == (cast_votes.count(True), cast_votes.count(False))
    assert gov.c.functions.isValidator(NOBODY).call() is (final == State.EXECUTED)


# ------------------------------------------------------------ membership changes and ballots


def test_ballots_of_a_removed_city_no_longer_count(deployment: Deployment, pool: list[LocalAccount]) -> None:
    gov = make_gov(deployment, pool, 4)
    duisburg = city_id("duisburg")
    pid, _ = gov.propose("duisburg", Kind.ADD_VALIDATOR, "aachen", NOBODY)
    gov.vote("aachen", pid, True)  # 2 of 4: open
    gov.enact("bochum", Kind.REMOVE_MEMBER, "duisburg")
    assert not gov.c.functions.hasVoted(pid, duisburg).call()
    receipt = gov.vote("coesfeld", pid, False)
    # Of the three members only aachen is for it: it must not pass.
    assert events(gov.c, receipt, "VoteCast") == [
        {"id": pid, "city": city_id("coesfeld"), "support": False, "yes": 1, "no": 1}
    ]
    assert gov.state(pid) == State.OPEN
    assert not gov.c.functions.isValidator(NOBODY).call()
    gov.vote("bochum", pid, True)  # 2 of 3
    assert gov.state(pid) == State.EXECUTED


def test_a_readmitted_city_votes_afresh(deployment: Deployment, pool: list[LocalAccount]) -> None:
    gov = make_gov(deployment, pool, 3)
    bochum = city_id("bochum")
    pid, _ = gov.propose("coesfeld", Kind.ADD_VALIDATOR, "coesfeld", NOBODY)
    gov.vote("bochum", pid, False)
    gov.enact("aachen", Kind.REMOVE_MEMBER, "bochum")
    gov.enact("aachen", Kind.ADD_MEMBER, "bochum", gov.spare[0].address)
    assert not gov.c.functions.hasVoted(pid, bochum).call()  # its no was cast by the former membership
    receipt = gov.vote(gov.spare[0], pid, True)
    assert events(gov.c, receipt, "VoteCast") == [
        {"id": pid, "city": bochum, "support": True, "yes": 2, "no": 0}
    ]
    assert gov.state(pid) == State.EXECUTED
    assert gov.c.functions.hasVoted(pid, bochum).call()


def test_removing_a_member_never_leaves_the_network_without_validators(
    deployment: Deployment, pool: list[LocalAccount]
) -> None:
    gov = make_gov(deployment, pool, 3, validators=("bochum",))
    fn = gov.c.functions.propose(Kind.REMOVE_MEMBER, city_id("bochum"), ZERO_ADDRESS, ZERO32)
    args = expect_revert(deployment, fn, gov.admins["aachen"], "InvalidProposal")
    assert args == {"reason": Invalid.LAST_VALIDATOR}
    # A city holding only some of the validators may go (see the RemoveMember effects test).
    gov.enact("bochum", Kind.ADD_VALIDATOR, "coesfeld", validator_of("coesfeld"))
    gov.enact("aachen", Kind.REMOVE_MEMBER, "bochum")
    assert gov.c.functions.validators().call() == [validator_of("coesfeld")]
