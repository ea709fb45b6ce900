"""The Consortium's proposal kinds, states and refusal reasons (mirroring Consortium.sol), and the
plain sentences an operator reads for the contract's custom errors."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from contracts.errors import decode_error
from contracts.founding import city_name


class Kind(IntEnum):
    ADD_MEMBER = 0
    REMOVE_CITY = 1  # RemoveMember: also drops the city's nodes and validators
    ALLOW_NODE = 2
    REVOKE_NODE = 3
    ADD_VALIDATOR = 4
    REMOVE_VALIDATOR = 5
    ADMIT_CITY = 6  # member + node certificate + validator in one vote

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


class State(IntEnum):
    NONE = 0
    OPEN = 1
    EXECUTED = 2
    REJECTED = 3
    FAILED = 4


INVALID = {
    1: "the city name is empty",
    2: "the city is already a member",
    3: "the city is not a member",
    4: "the account or validator address is zero",
    5: "the ADMIN account already has a role in a member city",
    6: "the last member cannot be removed",
    7: "the node fingerprint is zero",
    8: "this node certificate is already allowed",
    9: "no node with this certificate fingerprint is allowed",
    10: "this address is already a validator",
    11: "this address is not a validator",
    12: "the last validator cannot be removed",
}


@dataclass(frozen=True)
class ProposalView:
    id: int
    kind: Kind
    state: State
    deadline: int
    yes: int
    no: int
    proposer_city: str
    city: str
    account: str
    fingerprint: bytes
    validator: str | None = None  # AdmitCity only

    @classmethod
    def from_call(cls, pid: int, raw: Any, validator: str | None) -> ProposalView:
        kind, state, deadline, yes, no, proposer, city, account, fingerprint = raw
        return cls(
            pid, Kind(kind), State(state), int(deadline), int(yes), int(no),
            city_name(bytes(proposer)), city_name(bytes(city)) if any(city) else "-",
            str(account), bytes(fingerprint), validator,
        )  # fmt: skip

    def subject(self) -> str:
        zero = "0x" + "00" * 20
        parts = []
        if self.kind in (Kind.ADD_MEMBER, Kind.ADMIT_CITY):
            parts.append(f"admin {self.account}")
        elif self.account != zero:
            parts.append(f"validator {self.account}")
        if any(self.fingerprint):
            parts.append(f"node 0x{self.fingerprint.hex()[:16]}…")
        if self.validator and self.validator != zero:
            parts.append(f"validator {self.validator}")
        return ", ".join(parts) or "-"


def _when(unix: int) -> str:
    return datetime.datetime.fromtimestamp(unix, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def explain_revert(data: bytes) -> str:
    """What a Consortium revert means, in a sentence."""
    name, args = decode_error(data)
    if name == "NotAnAdmin":
        return f"{args['sender']} is not an ADMIN of a member city (use the city's ADMIN key)"
    if name == "InvalidProposal":
        return f"the Consortium refuses this proposal: {INVALID.get(args['reason'], args['reason'])}"
    if name == "UnknownProposal":
        return f"there is no proposal {args['id']}"
    if name == "ProposalClosed":
        return f"proposal {args['id']} is closed: {State(args['state']).name.lower()}"
    if name == "ProposalExpired":
        return f"proposal {args['id']} expired at {_when(args['deadline'])}"
    if name == "AlreadyVoted":
        return f"{city_name(args['city'])} already voted on proposal {args['id']}"
    shown = ", ".join(f"{k}={v}" for k, v in args.items())
    return f"the contract refused: {name}({shown})"
