"""Conformance tests of RegistryAttestations.supersede(): a clerk of the issuing city marks a document
superseded by a valid successor of the same city; every refusal reverts with its custom error and
changes nothing.

See registry_support for how the tests share the deployment and check refusals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from contracts.founding import Role, city_id
from ledger.records import Revocation, Supersession
from tests.contracts.harness import Deployment
from tests.contracts.registry_support import (
    Refusal,
    Status,
    assert_refused,
    attestation_count,
    attested,
    block_time,
    chain_time,
    fresh_hash,
    record_of,
    revoke,
    status,
    supersede,
    supersede_fn,
)

# --------------------------------------------------------------------------------- supersede()


def test_supersede_marks_the_old_document_superseded_by_its_successor(deployment: Deployment) -> None:
    d = deployment
    aachen = d.cities["aachen"]
    old, new = attested(d), attested(d)
    clerk = d.add_account("aachen", Role.CLERK)
    count = attestation_count(d)

    receipt = supersede(d, old.document_hash, new.document_hash, clerk=clerk, reason=4)

    assert status(d, old.document_hash) == Status.SUPERSEDED
    assert status(d, new.document_hash) == Status.VALID
    record = record_of(d, old.document_hash)
    assert record["current"] == record["closedAs"] == Status.SUPERSEDED
    assert record["successorHash"] == new.document_hash
    assert (record["closeReason"], record["closedBy"], record["closedAt"]) == (
        4,
        clerk.address,
        block_time(d, receipt),
    )
    assert record_of(d, new.document_hash)["closedAs"] == Status.UNKNOWN
    assert attestation_count(d) == count
    (log,) = d.registry.events.Superseded().process_receipt(receipt)
    assert dict(log["args"]) == {
        "documentHash": old.document_hash,
        "successorHash": new.document_hash,
        "city": city_id("aachen"),
        "clerk": clerk.address,
        "reason": 4,
    }
    assert aachen.clerk.address == record["clerk"]


def _supersession(
    d: Deployment,
    old: bytes,
    new: bytes,
    *,
    city: str = "aachen",
    reason: int = 1,
    error: str,
    args: dict[str, Any] | None = None,
    signature: bytes | None = None,
) -> Refusal:
    clerk = d.cities[city].clerk
    s = Supersession(old, new, reason, clerk.address)
    sig = signature if signature is not None else s.sign(d.registry_domain, clerk.key)
    fn = d.registry.functions.supersede(s.as_abi(), sig)
    return Refusal(fn, d.cities[city].gateway, error, args or {}, (old, new))


def _supersede_reason_zero(d: Deployment) -> Refusal:
    return _supersession(
        d, attested(d).document_hash, attested(d).document_hash, reason=0, error="MissingReason"
    )


def _supersede_by_itself(d: Deployment) -> Refusal:
    h = attested(d).document_hash
    return _supersession(d, h, h, error="SelfSupersession", args={"documentHash": h})


def _supersede_unknown_old(d: Deployment) -> Refusal:
    h = fresh_hash()
    return _supersession(d, h, attested(d).document_hash, error="UnknownDocument", args={"documentHash": h})


def _supersede_by_unknown_successor(d: Deployment) -> Refusal:
    h = fresh_hash()
    return _supersession(d, attested(d).document_hash, h, error="UnknownDocument", args={"documentHash": h})


def _supersede_by_other_citys_successor(d: Deployment) -> Refusal:
    return _supersession(
        d,
        attested(d).document_hash,
        attested(d, "gelsenkirchen").document_hash,
        error="WrongCity",
        args={"expected": city_id("aachen"), "actual": city_id("gelsenkirchen")},
    )


def _supersede_by_clerk_of_other_city(d: Deployment) -> Refusal:
    return _supersession(
        d,
        attested(d).document_hash,
        attested(d, "gelsenkirchen").document_hash,
        city="gelsenkirchen",
        error="WrongCity",
        args={"expected": city_id("aachen"), "actual": city_id("gelsenkirchen")},
    )


def _supersede_by_revoked_successor(d: Deployment) -> Refusal:
    new = attested(d).document_hash
    revoke(d, new)
    return _supersession(
        d,
        attested(d).document_hash,
        new,
        error="SuccessorNotValid",
        args={"successorHash": new, "status": Status.REVOKED},
    )


def _supersede_by_superseded_successor(d: Deployment) -> Refusal:
    new, newest = attested(d).document_hash, attested(d).document_hash
    supersede(d, new, newest)
    return _supersession(
        d,
        attested(d).document_hash,
        new,
        error="SuccessorNotValid",
        args={"successorHash": new, "status": Status.SUPERSEDED},
    )


def _supersede_by_expired_successor(d: Deployment) -> Refusal:
    new = attested(d, valid_until=chain_time(d) + 5).document_hash
    d.backend.advance_time(20)
    assert status(d, new) == Status.EXPIRED
    return _supersession(
        d,
        attested(d).document_hash,
        new,
        error="SuccessorNotValid",
        args={"successorHash": new, "status": Status.EXPIRED},
    )


def _supersede_superseded(d: Deployment) -> Refusal:
    old = attested(d).document_hash
    supersede(d, old, attested(d).document_hash)
    return _supersession(
        d,
        old,
        attested(d).document_hash,
        error="NotOpen",
        args={"documentHash": old, "status": Status.SUPERSEDED},
    )


def _supersede_revoked(d: Deployment) -> Refusal:
    old = attested(d).document_hash
    revoke(d, old)
    return _supersession(
        d,
        old,
        attested(d).document_hash,
        error="NotOpen",
        args={"documentHash": old, "status": Status.REVOKED},
    )


def _supersede_signed_by_another_key(d: Deployment) -> Refusal:
    old, new = attested(d).document_hash, attested(d).document_hash
    aachen = d.cities["aachen"]
    sig = Supersession(old, new, 1, aachen.clerk.address).sign(d.registry_domain, aachen.admin.key)
    return _supersession(
        d, old, new, signature=sig, error="BadSignature", args={"expectedSigner": aachen.clerk.address}
    )


def _supersede_signature_for_another_successor(d: Deployment) -> Refusal:
    old, new, other = attested(d).document_hash, attested(d).document_hash, attested(d).document_hash
    aachen = d.cities["aachen"]
    sig = Supersession(old, other, 1, aachen.clerk.address).sign(d.registry_domain, aachen.clerk.key)
    return _supersession(
        d, old, new, signature=sig, error="BadSignature", args={"expectedSigner": aachen.clerk.address}
    )


def _supersede_with_revocation_signature(d: Deployment) -> Refusal:
    old, new = attested(d).document_hash, attested(d).document_hash
    aachen = d.cities["aachen"]
    sig = Revocation(old, 1, aachen.clerk.address).sign(d.registry_domain, aachen.clerk.key)
    return _supersession(
        d, old, new, signature=sig, error="BadSignature", args={"expectedSigner": aachen.clerk.address}
    )


def _supersede_sent_by_clerk(d: Deployment) -> Refusal:
    refusal = _supersession(d, attested(d).document_hash, attested(d).document_hash, error="NotAGateway")
    clerk = d.cities["aachen"].clerk
    return Refusal(refusal.fn, clerk, "NotAGateway", {"sender": clerk.address}, refusal.watched)


def _supersede_signed_by_scale(d: Deployment) -> Refusal:
    old, new = attested(d).document_hash, attested(d).document_hash
    aachen = d.cities["aachen"]
    scale = aachen.scales[0]
    s = Supersession(old, new, 1, scale.address)
    return Refusal(
        supersede_fn(d, s, scale), aachen.gateway, "NotAClerk", {"clerk": scale.address}, (old, new)
    )


SUPERSEDE_REFUSALS: list[Any] = [
    pytest.param(_supersede_reason_zero, id="reason-0-MissingReason"),
    pytest.param(_supersede_by_itself, id="successor-is-itself-SelfSupersession"),
    pytest.param(_supersede_unknown_old, id="unattested-old-UnknownDocument"),
    pytest.param(_supersede_by_unknown_successor, id="unattested-successor-UnknownDocument"),
    pytest.param(_supersede_by_other_citys_successor, id="successor-of-another-city-WrongCity"),
    pytest.param(_supersede_by_clerk_of_other_city, id="clerk-of-another-city-WrongCity"),
    pytest.param(_supersede_by_revoked_successor, id="revoked-successor-SuccessorNotValid"),
    pytest.param(_supersede_by_superseded_successor, id="superseded-successor-SuccessorNotValid"),
    pytest.param(_supersede_by_expired_successor, id="expired-successor-SuccessorNotValid"),
    pytest.param(_supersede_superseded, id="already-superseded-NotOpen"),
    pytest.param(_supersede_revoked, id="revoked-old-NotOpen"),
    pytest.param(_supersede_signed_by_another_key, id="signed-by-another-key-BadSignature"),
    pytest.param(
        _supersede_signature_for_another_successor, id="signature-for-another-successor-BadSignature"
    ),
    pytest.param(_supersede_with_revocation_signature, id="revocation-signature-BadSignature"),
    pytest.param(_supersede_sent_by_clerk, id="sent-by-clerk-NotAGateway"),
    pytest.param(_supersede_signed_by_scale, id="signed-by-scale-NotAClerk"),
]


@pytest.mark.parametrize("make_refusal", SUPERSEDE_REFUSALS)
def test_supersede_refusals_revert_with_their_error_and_change_nothing(
    deployment: Deployment, make_refusal: Callable[[Deployment], Refusal]
) -> None:
    assert_refused(deployment, make_refusal(deployment))
