"""Conformance tests of what executed proposals do in the Consortium: admitting, removing and
readmitting member cities (with their accounts, validators, nodes and ballots), allowing and
revoking nodes, adding and removing validators, and proposals that a competing one made invalid.

Each test runs on a Consortium of its own (`make_gov`).
"""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from contracts.founding import ZERO_ADDRESS, Role, city_id
from tests.contracts.consortium_support import (
    CITIES,
    NO_ROLE,
    NOBODY,
    ZERO32,
    Invalid,
    Kind,
    State,
    allowed,
    events,
    expect_revert,
    gateway_of,
    make_gov,
    node_of,
    role_of,
    send,
    validator_of,
)
from tests.contracts.consortium_support import pool as pool  # a pytest fixture
from tests.contracts.harness import Deployment

# --------------------------------------- executed proposals: members, nodes, validators


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
