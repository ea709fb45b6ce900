"""Helpers and fixtures shared by the Consortium conformance tests (test_consortium_*.py).

Tests that change membership (or need a particular founding) run on a Consortium of their own
(`Gov`, built by `make_gov`) so that the shared deployment stays as founded. Their admins come from
`pool`: GATEWAYs of the shared Consortium, because a permissioned node only accepts transactions
from its ADMIN and GATEWAY accounts.

Transactions go through `send`: `Deployment.transact` with a fixed gas limit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, NamedTuple

import pytest
from eth_account.signers.local import LocalAccount
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
    ADMIT_CITY = 6


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
