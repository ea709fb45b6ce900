"""Conformance tests of RegistryAttestations.status() as chain time passes, and a property test:
random sequences of attest / revoke / supersede / time steps are accepted or refused as a reference
model says, and leave every document in the status the model gives it.

See registry_support for how the tests share the deployment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from web3.contract.contract import ContractFunction

from ledger.records import Revocation, Supersession
from tests.contracts.harness import Deployment
from tests.contracts.registry_support import (
    Status,
    attest_fn,
    attestation,
    attestation_count,
    attested,
    chain_time,
    fresh_hash,
    record_of,
    revoke_fn,
    send,
    status,
    supersede_fn,
)

# ----------------------------------------------------------------------------------- status()


def test_status_of_an_unseen_hash_is_unknown(deployment: Deployment) -> None:
    d = deployment
    h = fresh_hash()
    assert status(d, h) == Status.UNKNOWN
    assert record_of(d, h)["current"] == Status.UNKNOWN
    assert record_of(d, h)["recordedAt"] == 0


def test_status_is_valid_through_valid_until_and_expired_after_it(deployment: Deployment) -> None:
    d = deployment
    now = chain_time(d)
    a = attestation(d, issued_at=now, valid_until=now + 60)
    receipt = send(d, attest_fn(d, a, d.cities["aachen"].clerk), d.cities["aachen"].gateway)
    assert status(d, a.document_hash) == Status.VALID
    while chain_time(d) <= a.valid_until:
        d.backend.advance_time(max(2, a.valid_until - chain_time(d)))
    assert status(d, a.document_hash) == Status.EXPIRED
    assert record_of(d, a.document_hash)["current"] == Status.EXPIRED
    # Every block since the attestation: Valid while its time <= validUntil, Expired after.
    seen = set()
    for number in range(receipt["blockNumber"], d.w3.eth.block_number + 1):
        block_ts = int(d.w3.eth.get_block(number)["timestamp"])
        expected = Status.VALID if block_ts <= a.valid_until else Status.EXPIRED
        assert d.registry.functions.status(a.document_hash).call(block_identifier=number) == expected
        seen.add(expected)
    assert seen == {Status.VALID, Status.EXPIRED}


def test_status_without_expiry_stays_valid_as_time_passes(deployment: Deployment) -> None:
    d = deployment
    a = attested(d, valid_until=0)
    d.backend.advance_time(86400)
    assert status(d, a.document_hash) == Status.VALID


# ----------------------------------------------------- property: random operation sequences

N_DOCS = 3
MODEL_CITIES = ("aachen", "gelsenkirchen")
# Chain time is shared (on the node, by the whole session), so the steps are kept short.
VALIDITY = 900  # an expiring document's validUntil - issuedAt
SHORT_STEP = 30  # the longest run of short steps (and blocks) stays far below VALIDITY
LONG_STEP = VALIDITY + 100  # expires everything attested before it


@dataclass(frozen=True)
class AttestOp:
    doc: int
    city: str
    expires: bool


@dataclass(frozen=True)
class RevokeOp:
    """Revocation of `doc` by the clerk of its city, or with `foreign` of the other city."""

    doc: int
    foreign: bool


@dataclass(frozen=True)
class SupersedeOp:
    """Supersession of `doc` by `successor`, signed as RevokeOp is."""

    doc: int
    successor: int
    foreign: bool


@dataclass(frozen=True)
class AdvanceOp:
    seconds: int


Op = AttestOp | RevokeOp | SupersedeOp | AdvanceOp

_docs = st.integers(0, N_DOCS - 1)
# Mostly the first city and mostly the document's own city, so that the accepted paths are common.
_cities = st.sampled_from((*[MODEL_CITIES[0]] * 3, MODEL_CITIES[1]))
_foreign = st.sampled_from((False, False, False, True))
_attest = st.builds(AttestOp, doc=_docs, city=_cities, expires=st.booleans())
# The successor is mostly another of the documents, now and then the document itself.
_supersede = st.builds(
    lambda doc, step, foreign: SupersedeOp(doc, (doc + step) % N_DOCS, foreign),
    doc=_docs,
    step=st.sampled_from((1, 2, 1, 2, 0)),
    foreign=_foreign,
)
OPS: st.SearchStrategy[Op] = st.one_of(
    _attest,
    st.builds(RevokeOp, doc=_docs, foreign=_foreign),
    _supersede,
    _supersede,
    st.builds(AdvanceOp, seconds=st.sampled_from([SHORT_STEP, LONG_STEP])),
)


@dataclass
class ModelDoc:
    city: str
    valid_until: int
    closed: Status = Status.UNKNOWN

    def status(self, now: int) -> Status:
        if self.closed != Status.UNKNOWN:
            return self.closed
        if self.valid_until != 0 and now > self.valid_until:
            return Status.EXPIRED
        return Status.VALID


def model_status(docs: dict[int, ModelDoc], i: int, now: int) -> Status:
    doc = docs.get(i)
    return Status.UNKNOWN if doc is None else doc.status(now)


def acting_city(op: AttestOp | RevokeOp | SupersedeOp, docs: dict[int, ModelDoc]) -> str:
    """The city whose clerk signs `op` and whose gateway relays it."""
    if isinstance(op, AttestOp):
        return op.city
    own = docs[op.doc].city if op.doc in docs else MODEL_CITIES[0]
    return next(c for c in MODEL_CITIES if c != own) if op.foreign else own


def expected_refusal(
    op: AttestOp | RevokeOp | SupersedeOp, city: str, docs: dict[int, ModelDoc], now: int
) -> str | None:
    """The error the contract must refuse `op` by `city` with, or None if it must accept it."""
    if isinstance(op, AttestOp):
        return "AlreadyAttested" if op.doc in docs else None
    if isinstance(op, SupersedeOp) and op.successor == op.doc:
        return "SelfSupersession"
    doc = docs.get(op.doc)
    if doc is None:
        return "UnknownDocument"
    if doc.city != city:
        return "WrongCity"
    if doc.closed != Status.UNKNOWN:
        return "NotOpen"
    if isinstance(op, SupersedeOp):
        successor = docs.get(op.successor)
        if successor is None:
            return "UnknownDocument"
        if successor.city != doc.city:
            return "WrongCity"
        if successor.status(now) != Status.VALID:
            return "SuccessorNotValid"
    return None


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    initial=st.lists(
        st.tuples(st.sampled_from((True, True, True, False)), _cities, st.booleans()),
        min_size=N_DOCS,
        max_size=N_DOCS,
    ),
    later=st.lists(OPS, min_size=2, max_size=10),
)
def test_random_operation_sequences_follow_the_status_model(
    deployment: Deployment, initial: list[tuple[bool, str, bool]], later: list[Op]
) -> None:
    """Attestations of some of a few fresh documents (`initial`: whether, by which city and whether
    it expires), then random attest / revoke / supersede / time steps: accepted exactly when the model
    accepts, refused with the model's error otherwise, and the status of every document the step may
    have changed (and the attestation count) as the model says after each step."""
    d = deployment
    hashes = [fresh_hash() for _ in range(N_DOCS)]
    docs: dict[int, ModelDoc] = {}
    count = attestation_count(d)

    def check(indices: Iterable[int], after: Op | None) -> None:
        now = chain_time(d)
        for i in indices:
            assert status(d, hashes[i]) == model_status(docs, i, now), f"document {i} after {after}"
        assert attestation_count(d) == count

    first: list[Op] = [AttestOp(i, city, expires) for i, (made, city, expires) in enumerate(initial) if made]
    for op in [*first, *later]:
        now = chain_time(d)
        if isinstance(op, AdvanceOp):
            d.backend.advance_time(op.seconds)
            check(range(N_DOCS), op)
            continue
        city = acting_city(op, docs)
        clerk, gateway = d.cities[city].clerk, d.cities[city].gateway
        fn: ContractFunction
        valid_until = now + VALIDITY if isinstance(op, AttestOp) and op.expires else 0
        if isinstance(op, AttestOp):
            a = attestation(d, city, document_hash=hashes[op.doc], issued_at=now, valid_until=valid_until)
            fn = attest_fn(d, a, clerk)
        elif isinstance(op, RevokeOp):
            fn = revoke_fn(d, Revocation(hashes[op.doc], 1, clerk.address), clerk)
        else:
            fn = supersede_fn(d, Supersession(hashes[op.doc], hashes[op.successor], 1, clerk.address), clerk)
        refusal = expected_refusal(op, city, docs, now)
        event(f"{type(op).__name__} -> {refusal or 'accepted'}")
        if refusal is not None:
            d.expect_revert(fn, gateway, refusal)  # a call: it cannot change anything
            continue
        send(d, fn, gateway)
        if isinstance(op, AttestOp):
            docs[op.doc] = ModelDoc(city, valid_until)
            count += 1
        else:
            docs[op.doc].closed = Status.REVOKED if isinstance(op, RevokeOp) else Status.SUPERSEDED
        check({op.doc, op.successor} if isinstance(op, SupersedeOp) else {op.doc}, op)
    check(range(N_DOCS), None)
