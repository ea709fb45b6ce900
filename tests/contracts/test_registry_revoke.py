"""Conformance tests of RegistryAttestations.revoke(): a clerk of the issuing city closes a document
(signed by the clerk, relayed by a gateway of the city); every refusal reverts with its custom error
and changes nothing.

See registry_support for how the tests share the deployment and check refusals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from contracts.founding import Role, city_id
from ledger.records import Revocation
from tests.contracts.harness import Deployment
from tests.contracts.registry_support import (
    ZERO_HASH,
    Refusal,
    Status,
    assert_refused,
    attest_fn,
    attestation,
    attestation_count,
    attested,
    block_time,
    chain_time,
    fresh_hash,
    record_of,
    revoke,
    revoke_fn,
    send,
    status,
    supersede,
)

# ----------------------------------------------------------------------------------- revoke()


@pytest.mark.parametrize("by", ["issuing-clerk", "another-clerk-of-the-city"])
def test_revoke_by_a_clerk_of_the_issuing_city_closes_the_document(deployment: Deployment, by: str) -> None:
    d = deployment
    aachen = d.cities["aachen"]
    a = attested(d)
    clerk = aachen.clerk if by == "issuing-clerk" else d.add_account("aachen", Role.CLERK)
    count = attestation_count(d)
    v = Revocation(a.document_hash, 5, clerk.address)

    receipt = send(d, revoke_fn(d, v, clerk), aachen.gateway)

    assert status(d, a.document_hash) == Status.REVOKED
    record = record_of(d, a.document_hash)
    assert record["current"] == record["closedAs"] == Status.REVOKED
    assert (record["closeReason"], record["closedBy"], record["closedAt"]) == (
        5,
        clerk.address,
        block_time(d, receipt),
    )
    assert record["successorHash"] == ZERO_HASH
    assert (record["clerk"], record["subjectRef"]) == (aachen.clerk.address, a.subject_ref)
    assert attestation_count(d) == count
    (log,) = d.registry.events.Revoked().process_receipt(receipt)
    assert dict(log["args"]) == {
        "documentHash": a.document_hash,
        "city": city_id("aachen"),
        "clerk": clerk.address,
        "reason": 5,
    }


def test_revoke_of_an_expired_document_is_allowed(deployment: Deployment) -> None:
    d = deployment
    now = chain_time(d)
    a = attested(d, valid_until=now + 5)
    d.backend.advance_time(20)
    assert status(d, a.document_hash) == Status.EXPIRED
    revoke(d, a.document_hash)
    assert status(d, a.document_hash) == Status.REVOKED


def _revocation(
    d: Deployment,
    document_hash: bytes,
    *,
    city: str = "aachen",
    reason: int = 1,
    signer: LocalAccount | None = None,
    relay: LocalAccount | None = None,
    error: str,
    args: dict[str, Any] | None = None,
) -> Refusal:
    clerk = signer or d.cities[city].clerk
    v = Revocation(document_hash, reason, clerk.address)
    return Refusal(
        revoke_fn(d, v, clerk), relay or d.cities[city].gateway, error, args or {}, (document_hash,)
    )


def _revoke_reason_zero(d: Deployment) -> Refusal:
    return _revocation(d, attested(d).document_hash, reason=0, error="MissingReason")


def _revoke_unknown(d: Deployment) -> Refusal:
    h = fresh_hash()
    return _revocation(d, h, error="UnknownDocument", args={"documentHash": h})


def _revoke_by_other_city(d: Deployment) -> Refusal:
    a = attested(d)
    return _revocation(
        d,
        a.document_hash,
        city="gelsenkirchen",
        error="WrongCity",
        args={"expected": city_id("aachen"), "actual": city_id("gelsenkirchen")},
    )


def _revoke_relayed_by_other_city(d: Deployment) -> Refusal:
    a = attested(d)
    return _revocation(
        d,
        a.document_hash,
        relay=d.cities["gelsenkirchen"].gateway,
        error="WrongCity",
        args={"expected": city_id("aachen"), "actual": city_id("gelsenkirchen")},
    )


def _revoke_twice(d: Deployment) -> Refusal:
    a = attested(d)
    revoke(d, a.document_hash)
    return _revocation(
        d, a.document_hash, error="NotOpen", args={"documentHash": a.document_hash, "status": Status.REVOKED}
    )


def _revoke_superseded(d: Deployment) -> Refusal:
    a = attested(d)
    supersede(d, a.document_hash, attested(d).document_hash)
    return _revocation(
        d,
        a.document_hash,
        error="NotOpen",
        args={"documentHash": a.document_hash, "status": Status.SUPERSEDED},
    )


def _revoke_signed_by_another_key(d: Deployment) -> Refusal:
    a = attested(d)
    aachen = d.cities["aachen"]
    v = Revocation(a.document_hash, 1, aachen.clerk.address)
    fn = d.registry.functions.revoke(v.as_abi(), v.sign(d.registry_domain, aachen.admin.key))
    return Refusal(
        fn, aachen.gateway, "BadSignature", {"expectedSigner": aachen.clerk.address}, (a.document_hash,)
    )


def _revoke_signature_for_another_document(d: Deployment) -> Refusal:
    a, b = attested(d), attested(d)
    aachen = d.cities["aachen"]
    v = Revocation(a.document_hash, 1, aachen.clerk.address)
    other = Revocation(b.document_hash, 1, aachen.clerk.address)
    fn = d.registry.functions.revoke(v.as_abi(), other.sign(d.registry_domain, aachen.clerk.key))
    return Refusal(
        fn,
        aachen.gateway,
        "BadSignature",
        {"expectedSigner": aachen.clerk.address},
        (a.document_hash, b.document_hash),
    )


def _revoke_signature_for_another_reason(d: Deployment) -> Refusal:
    a = attested(d)
    aachen = d.cities["aachen"]
    v = Revocation(a.document_hash, 1, aachen.clerk.address)
    fn = d.registry.functions.revoke(
        v.as_abi(), Revocation(a.document_hash, 2, v.clerk).sign(d.registry_domain, aachen.clerk.key)
    )
    return Refusal(
        fn, aachen.gateway, "BadSignature", {"expectedSigner": aachen.clerk.address}, (a.document_hash,)
    )


def _revoke_with_attestation_signature(d: Deployment) -> Refusal:
    a = attested(d)
    aachen = d.cities["aachen"]
    v = Revocation(a.document_hash, 1, aachen.clerk.address)
    fn = d.registry.functions.revoke(v.as_abi(), a.sign(d.registry_domain, aachen.clerk.key))
    return Refusal(
        fn, aachen.gateway, "BadSignature", {"expectedSigner": aachen.clerk.address}, (a.document_hash,)
    )


def _revoke_garbage_signature(d: Deployment) -> Refusal:
    a = attested(d)
    aachen = d.cities["aachen"]
    v = Revocation(a.document_hash, 1, aachen.clerk.address)
    fn = d.registry.functions.revoke(v.as_abi(), b"\x5a" * 65)
    return Refusal(
        fn, aachen.gateway, "BadSignature", {"expectedSigner": aachen.clerk.address}, (a.document_hash,)
    )


def _revoke_signed_by_gateway(d: Deployment) -> Refusal:
    a = attested(d)
    gateway = d.cities["aachen"].gateway
    return _revocation(d, a.document_hash, signer=gateway, error="NotAClerk", args={"clerk": gateway.address})


def _revoke_signed_by_admin(d: Deployment) -> Refusal:
    a = attested(d)
    admin = d.cities["aachen"].admin
    return _revocation(d, a.document_hash, signer=admin, error="NotAClerk", args={"clerk": admin.address})


def _revoke_sent_by_clerk(d: Deployment) -> Refusal:
    a = attested(d)
    clerk = d.cities["aachen"].clerk
    return _revocation(d, a.document_hash, relay=clerk, error="NotAGateway", args={"sender": clerk.address})


def _revoke_sent_by_outsider(d: Deployment) -> Refusal:
    a = attested(d)
    return _revocation(
        d, a.document_hash, relay=d.outsider, error="NotAGateway", args={"sender": d.outsider.address}
    )


REVOKE_REFUSALS: list[Any] = [
    pytest.param(_revoke_reason_zero, id="reason-0-MissingReason"),
    pytest.param(_revoke_unknown, id="unattested-hash-UnknownDocument"),
    pytest.param(_revoke_by_other_city, id="clerk-of-another-city-WrongCity"),
    pytest.param(_revoke_relayed_by_other_city, id="relayed-by-another-citys-gateway-WrongCity"),
    pytest.param(_revoke_twice, id="revoked-twice-NotOpen"),
    pytest.param(_revoke_superseded, id="superseded-document-NotOpen"),
    pytest.param(_revoke_signed_by_another_key, id="signed-by-another-key-BadSignature"),
    pytest.param(_revoke_signature_for_another_document, id="signature-for-another-document-BadSignature"),
    pytest.param(_revoke_signature_for_another_reason, id="signature-for-another-reason-BadSignature"),
    pytest.param(_revoke_with_attestation_signature, id="attestation-signature-BadSignature"),
    pytest.param(_revoke_garbage_signature, id="garbage-signature-BadSignature"),
    pytest.param(_revoke_signed_by_gateway, id="signed-by-gateway-NotAClerk"),
    pytest.param(_revoke_signed_by_admin, id="signed-by-admin-NotAClerk"),
    pytest.param(_revoke_sent_by_clerk, id="sent-by-clerk-NotAGateway"),
    pytest.param(_revoke_sent_by_outsider, id="sent-by-outsider-NotAGateway"),
]


@pytest.mark.parametrize("make_refusal", REVOKE_REFUSALS)
def test_revoke_refusals_revert_with_their_error_and_change_nothing(
    deployment: Deployment, make_refusal: Callable[[Deployment], Refusal]
) -> None:
    assert_refused(deployment, make_refusal(deployment))


def test_removed_clerk_can_no_longer_revoke_but_the_citys_other_clerks_can(deployment: Deployment) -> None:
    d = deployment
    aachen = d.cities["aachen"]
    clerk = d.add_account("aachen", Role.CLERK)
    a = attestation(d, clerk=clerk)
    send(d, attest_fn(d, a, clerk), aachen.gateway)
    v = Revocation(a.document_hash, 3, clerk.address)
    # While active, the clerk could revoke it.
    d.registry.functions.revoke(v.as_abi(), v.sign(d.registry_domain, clerk.key)).call(
        {"from": aachen.gateway.address}
    )

    send(d, d.consortium.functions.removeAccount(clerk.address), aachen.admin)

    assert_refused(
        d,
        Refusal(
            revoke_fn(d, v, clerk), aachen.gateway, "NotAClerk", {"clerk": clerk.address}, (a.document_hash,)
        ),
    )
    late = attestation(d, clerk=clerk)
    assert_refused(
        d,
        Refusal(
            attest_fn(d, late, clerk),
            aachen.gateway,
            "NotAClerk",
            {"clerk": clerk.address},
            (late.document_hash,),
        ),
    )
    assert status(d, a.document_hash) == Status.VALID
    revoke(d, a.document_hash)
    assert record_of(d, a.document_hash)["closedBy"] == aachen.clerk.address
