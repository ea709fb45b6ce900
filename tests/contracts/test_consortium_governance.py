"""Conformance tests of the Consortium's governance: who may propose and vote, which proposals are
refused, and how votes decide (yes from more than half of the members, rejection once a proposal
can no longer pass, the voting period), with a property test of ballots against a reference model.

Proposals run on a Consortium of their own (`make_gov`), except one that the shared Consortium
rejects without effect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import NamedTuple

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.founding import DEFAULT_VOTING_PERIOD, ZERO_ADDRESS, Role, city_id
from tests.contracts.consortium_support import (
    CITIES,
    NOBODY,
    ZERO32,
    Gov,
    Invalid,
    Kind,
    Proposal,
    State,
    cid,
    events,
    expect_revert,
    gateway_of,
    make_gov,
    node_of,
    reverts,
    send,
    validator_of,
)
from tests.contracts.consortium_support import pool as pool  # a pytest fixture
from tests.contracts.harness import Deployment

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
