"""Conformance tests of AdmitCity: a new city's membership, node certificate and validator in one
proposal (`proposeAdmission`), passing with more than half of the members like every proposal.

Each test runs on a Consortium of its own (`make_gov`).
"""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from contracts.founding import ZERO_ADDRESS, Role, city_id
from tests.contracts.consortium_support import (
    NOBODY,
    ZERO32,
    Gov,
    Invalid,
    Kind,
    State,
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

DUISBURG = city_id("duisburg")
GLADBECK = city_id("gladbeck")  # not among the test CITIES


def _admit(
    gov: Gov,
    by: str,
    admin: str,
    fingerprint: bytes = ZERO32,
    validator: str = ZERO_ADDRESS,
    city: bytes = DUISBURG,
) -> int:
    pid = int(gov.c.functions.proposalCount().call())
    send(gov.d, gov.c.functions.proposeAdmission(city, admin, fingerprint, validator), gov.admin(by))
    return pid


def _snapshot(gov: Gov) -> tuple[object, ...]:
    return (*gov.snapshot(), gov.c.functions.isMember(GLADBECK).call())


def test_admission_brings_member_node_and_validator_in_one_vote(
    deployment: Deployment, pool: list[LocalAccount]
) -> None:
    gov = make_gov(deployment, pool, 3)
    admin = gov.spare[0]
    fp, validator = node_of("duisburg"), validator_of("duisburg")
    pid = _admit(gov, "aachen", admin.address, fp, validator)
    proposal = gov.proposal(pid)
    assert (proposal.kind, proposal.state, proposal.yes) == (Kind.ADMIT_CITY, State.OPEN, 1)
    assert (proposal.city, proposal.account, proposal.fingerprint) == (DUISBURG, admin.address, fp)
    assert gov.c.functions.admissionValidator(pid).call() == validator
    receipt = gov.vote("bochum", pid, True)  # 2 of 3
    assert events(gov.c, receipt, "ProposalExecuted") == [{"id": pid}]
    assert events(gov.c, receipt, "MemberAdded") == [{"city": DUISBURG, "admin": admin.address}]
    assert events(gov.c, receipt, "NodeAllowed") == [{"city": DUISBURG, "fingerprint": fp}]
    assert events(gov.c, receipt, "ValidatorAdded") == [{"city": DUISBURG, "validator": validator}]
    f = gov.c.functions
    assert f.isMember(DUISBURG).call() and f.memberCount().call() == 4
    assert f.nodeAllowed(fp).call() and f.nodeCity(fp).call() == DUISBURG
    assert f.isValidator(validator).call() and f.validatorCity(validator).call() == DUISBURG
    assert role_of(gov.c, admin.address) == (DUISBURG, Role.ADMIN, 0)


def test_the_proposal_event_names_what_is_admitted(deployment: Deployment, pool: list[LocalAccount]) -> None:
    gov = make_gov(deployment, pool, 3)
    admin = gov.spare[0]
    fp, validator = node_of("duisburg"), validator_of("duisburg")
    receipt = send(
        gov.d, gov.c.functions.proposeAdmission(DUISBURG, admin.address, fp, validator), gov.admin("aachen")
    )
    assert events(gov.c, receipt, "AdmissionProposed") == [
        {"id": 0, "city": DUISBURG, "admin": admin.address, "fingerprint": fp, "validator": validator}
    ]


def test_an_admission_without_majority_changes_nothing(
    deployment: Deployment, pool: list[LocalAccount]
) -> None:
    gov = make_gov(deployment, pool, 4)
    before = _snapshot(gov)
    pid = _admit(gov, "aachen", gov.spare[0].address, node_of("new"), validator_of("new"), GLADBECK)
    gov.vote("bochum", pid, True)  # 2 of 4 is not more than half
    assert gov.state(pid) == State.OPEN and _snapshot(gov) == before
    gov.vote("coesfeld", pid, False)
    receipt = gov.vote("duisburg", pid, False)
    assert events(gov.c, receipt, "ProposalRejected") == [{"id": pid}]
    assert _snapshot(gov) == before
    assert not gov.c.functions.nodeAllowed(node_of("new")).call()


def test_propose_with_admit_city_admits_without_a_validator(
    deployment: Deployment, pool: list[LocalAccount]
) -> None:
    gov = make_gov(deployment, pool, 3)
    validators = gov.c.functions.validators().call()
    pid, _ = gov.enact("aachen", Kind.ADMIT_CITY, "duisburg", gov.spare[0].address, node_of("duisburg"))
    assert gov.c.functions.admissionValidator(pid).call() == ZERO_ADDRESS
    assert gov.c.functions.nodeAllowed(node_of("duisburg")).call()
    assert gov.c.functions.validators().call() == validators


@pytest.mark.parametrize(
    ("city", "admin", "fingerprint", "validator", "reason"),
    [
        ("bochum", NOBODY, ZERO32, ZERO_ADDRESS, Invalid.ALREADY_MEMBER),
        (None, NOBODY, ZERO32, ZERO_ADDRESS, Invalid.ZERO_CITY),
        ("duisburg", ZERO_ADDRESS, ZERO32, ZERO_ADDRESS, Invalid.ZERO_ACCOUNT),
        ("duisburg", gateway_of("bochum"), ZERO32, ZERO_ADDRESS, Invalid.ACCOUNT_TAKEN),
        ("duisburg", NOBODY, node_of("bochum"), ZERO_ADDRESS, Invalid.NODE_ALREADY_ALLOWED),
        ("duisburg", NOBODY, ZERO32, validator_of("coesfeld"), Invalid.ALREADY_VALIDATOR),
    ],
)
def test_invalid_admissions_are_refused(
    deployment: Deployment,
    pool: list[LocalAccount],
    city: str | None,
    admin: str,
    fingerprint: bytes,
    validator: str,
    reason: Invalid,
) -> None:
    gov = make_gov(deployment, pool, 3)
    fn = gov.c.functions.proposeAdmission(city_id(city) if city else ZERO32, admin, fingerprint, validator)
    assert expect_revert(gov.d, fn, gov.admin("aachen"), "InvalidProposal") == {"reason": reason}


def test_an_admission_made_invalid_by_a_competing_one_fails(
    deployment: Deployment, pool: list[LocalAccount]
) -> None:
    gov = make_gov(deployment, pool, 3)
    validator = validator_of("shared")
    first = _admit(gov, "aachen", gov.spare[0].address, validator=validator)
    pid = int(gov.c.functions.proposalCount().call())
    other = city_id("essen")
    send(
        gov.d,
        gov.c.functions.proposeAdmission(other, gov.spare[1].address, ZERO32, validator),
        gov.admin("aachen"),
    )
    gov.vote("bochum", first, True)  # duisburg is in with the validator: now four members
    gov.vote("bochum", pid, True)
    receipt = gov.vote("coesfeld", pid, True)
    assert events(gov.c, receipt, "ProposalFailed") == [{"id": pid, "reason": Invalid.ALREADY_VALIDATOR}]
    assert not gov.c.functions.isMember(other).call()
    assert gov.c.functions.validatorCity(validator).call() == DUISBURG


def test_removing_an_admitted_city_drops_its_node_and_validator(
    deployment: Deployment, pool: list[LocalAccount]
) -> None:
    gov = make_gov(deployment, pool, 3)
    fp, validator = node_of("duisburg"), validator_of("duisburg")
    pid = _admit(gov, "aachen", gov.spare[0].address, fp, validator)
    gov.vote("bochum", pid, True)
    _, receipt = gov.enact("aachen", Kind.REMOVE_MEMBER, "duisburg")
    assert events(gov.c, receipt, "ValidatorRemoved") == [{"city": DUISBURG, "validator": validator}]
    assert events(gov.c, receipt, "NodeRevoked") == [{"city": DUISBURG, "fingerprint": fp}]
    assert not gov.c.functions.nodeAllowed(fp).call()
