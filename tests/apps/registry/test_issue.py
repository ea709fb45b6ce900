"""Drafts and issuing: an attestation from an uploaded extract or from its SHA-256, what the answer
carries (QR codes, proof), idempotent resends, and every refusal with a clear 4xx that changes
nothing."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from typing import Any

import pytest
import requests

from apps.registry.client import RegistryClient
from apps.registry.drafts import normalize_subject
from ledger.records import Attestation, salted_ref, short_text
from ledger.verify import load_trust, verify_bundle
from tests.apps.conftest import assert_error
from tests.apps.registry.conftest import (
    AACHEN_CLERK,
    GELSENKIRCHEN_CLERK,
    TIMEOUT,
    Registry,
    document,
    issue,
    sha,
)


def auth(clerk: RegistryClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {clerk.token}"}


def post_attestation(registry: Registry, clerk: RegistryClient, body: Any) -> requests.Response:
    return registry.post("/v1/attestations", json=body, headers=auth(clerk))


def signed_body(
    registry: Registry, attestation: Attestation, key: bytes = AACHEN_CLERK.key
) -> dict[str, Any]:
    return {
        "attestation": attestation.to_json(),
        "signature": "0x" + attestation.sign(registry.domain, key).hex(),
    }


def fresh(**changes: Any) -> Attestation:
    now = int(time.time())
    attestation = Attestation(
        sha(document()), short_text("Melderegister"), os.urandom(32), now, 0, AACHEN_CLERK.address
    )
    return replace(attestation, **changes)


def refused(
    registry: Registry, clerk: RegistryClient, body: Any, status: int, code: str, field: str | None = None
) -> None:
    before = registry.outbox_total()
    assert_error(post_attestation(registry, clerk, body), status, code, field)
    assert registry.outbox_total() == before


# ------------------------------------------------------------------ drafts


def test_a_draft_from_an_upload_carries_the_files_hash_and_the_salted_subject(
    registry: Registry, clerk: RegistryClient
) -> None:
    data = document()
    until = int(time.time()) + 86_400
    reply = registry.post(
        "/v1/drafts/upload",
        headers=auth(clerk),
        files={"file": ("Meldebescheinigung Muster.pdf", data, "application/pdf")},
        data={
            "registerType": "Gewerberegister",
            "subject": "  Musterfrau,   ÉRIKA ",
            "validUntil": str(until),
        },
    )
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    attestation = Attestation.from_json(answer["attestation"])
    assert attestation.document_hash == sha(data)
    assert attestation.register_type == short_text("Gewerberegister")
    assert attestation.subject_ref == salted_ref(registry.salt, "musterfrau, érika")
    assert normalize_subject("  Musterfrau,   ÉRIKA ") == "musterfrau, érika"
    assert attestation.clerk == AACHEN_CLERK.address and attestation.valid_until == until
    assert abs(attestation.issued_at - time.time()) < 60
    assert answer["fileName"] == "Meldebescheinigung Muster.pdf" and answer["size"] == len(data)
    assert answer["digest"] == "0x" + attestation.digest(registry.domain).hex()
    assert answer["typedData"]["domain"] == registry.domain.to_json()
    assert answer["typedData"]["primaryType"] == "Attestation"


def test_a_draft_from_a_hash_and_a_given_subject_ref(registry: Registry, clerk: RegistryClient) -> None:
    digest, ref = sha(document()), os.urandom(32)
    body = {
        "documentHash": "0x" + digest.hex().upper(),
        "registerType": "Melderegister",
        "subjectRef": "0x" + ref.hex(),
    }
    reply = registry.post("/v1/drafts", json=body, headers=auth(clerk))
    assert reply.status_code == 200, reply.text
    attestation = Attestation.from_json(reply.json()["attestation"])
    assert (attestation.document_hash, attestation.subject_ref, attestation.valid_until) == (digest, ref, 0)


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"documentHash": "abc"}, 422, "invalid_hash", "documentHash"),
        ({"documentHash": "zz" * 32}, 422, "invalid_hash", "documentHash"),
        ({"documentHash": "00" * 32}, 422, "invalid_hash", "documentHash"),
        ({"documentHash": None}, 422, "invalid_hash", "documentHash"),
        ({"registerType": "Handelsregister"}, 422, "unknown_register_type", "registerType"),
        ({"subjectRef": "0x" + "11" * 32}, 422, "invalid_field", "subject"),  # both given
        ({"subject": None}, 422, "invalid_field", "subject"),  # neither
        ({"subject": "   "}, 422, "invalid_field", "subject"),
        ({"subject": "x" * 201}, 422, "invalid_field", "subject"),
        ({"validUntil": 1}, 422, "already_expired", "validUntil"),
        ({"validUntil": -5}, 422, "invalid_field", "validUntil"),
        ({"validUntil": "tomorrow"}, 422, "invalid_field", "validUntil"),
        ({"validUntil": 2**64}, 422, "invalid_field", "validUntil"),
        ({"validUntil": 2**64 - 1}, 422, "bad_validity", "validUntil"),
        ({"validUntil": 253_402_300_800}, 422, "bad_validity", "validUntil"),  # 10000-01-01
        ({"clerk": GELSENKIRCHEN_CLERK.address}, 422, "unknown_field", "clerk"),
    ],
)
def test_a_bad_draft_request_is_422(
    registry: Registry, clerk: RegistryClient, change: dict[str, Any], status: int, code: str, field: str
) -> None:
    body = {"documentHash": sha(document()).hex(), "registerType": "Melderegister", "subject": "Max Muster"}
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    assert_error(registry.post("/v1/drafts", json=body, headers=auth(clerk)), status, code, field)


def test_uploads_that_are_empty_oversize_or_without_a_file_are_refused(
    registry: Registry, clerk: RegistryClient
) -> None:
    fields = {"registerType": "Melderegister", "subject": "Max Muster"}
    url = "/v1/drafts/upload"
    empty = registry.post(url, headers=auth(clerk), files={"file": ("leer.pdf", b"")}, data=fields)
    assert_error(empty, 422, "empty_file", "file")
    assert_error(registry.post(url, headers=auth(clerk), data=fields), 422, "missing_file", "file")
    limit = clerk.info()["maxUploadBytes"]
    big = registry.post(
        url, headers=auth(clerk), files={"file": ("gross.pdf", b"\0" * (limit + 1))}, data=fields
    )
    assert_error(big, 413, "too_large", "file")

    def chunks() -> Any:  # no Content-Length: the limit holds while streaming
        yield b"\0" * (limit // 2)
        yield b"\0" * (limit // 2 + 2)

    streamed = registry.post("/v1/verify", headers={"Content-Type": "application/pdf"}, data=chunks())
    assert_error(streamed, 413, "too_large", "file")
    raw = registry.post(url, headers=auth(clerk) | {"Content-Type": "application/pdf"}, data=document())
    assert_error(raw, 422, "missing_file", "file")  # a draft needs its fields beside the file


# ------------------------------------------------------------------ issuing


def test_an_issued_attestation_becomes_valid_with_qr_codes_and_a_proof_that_verifies_offline(
    registry: Registry, clerk: RegistryClient
) -> None:
    data = document()
    answer = clerk.attest(data, register_type="Personenstandsregister")
    hex_hash = sha(data).hex()
    assert answer["status"] == "pending" and answer["city"] == "aachen"
    assert answer["verifyUrl"] == f"{registry.url}/verify/{hex_hash}"
    issued = Attestation.from_json(answer["attestation"])
    assert (
        issued.document_hash == sha(data)
        and issued.recover(registry.domain, bytes.fromhex(answer["signature"][2:])) == AACHEN_CLERK.address
    )
    final = clerk.wait_status(sha(data), lambda a: "block" in a, TIMEOUT)  # valid, receipt read
    assert final["status"] == "valid"
    assert final["registerType"] == "Personenstandsregister" and final["clerk"] == AACHEN_CLERK.address
    assert final["transaction"].startswith("0x") and final["block"]["number"] > 0
    png = registry.get(final["qr"]["png"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    svg = registry.get(final["qr"]["svg"])
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content and f"/verify/{hex_hash}".encode() in svg.content
    proof = registry.get(final["proof"])
    assert proof.status_code == 200 and "attachment" in proof.headers["content-disposition"]
    verdict = verify_bundle(proof.json(), load_trust(registry.data_dir / "trust.json"))
    assert verdict.valid, verdict.describe()


def test_an_identical_resend_answers_200_and_a_second_attestation_of_the_document_409(
    registry: Registry, clerk: RegistryClient
) -> None:
    attestation = fresh()
    body = signed_body(registry, attestation)
    assert post_attestation(registry, clerk, body).status_code == 202
    resent = post_attestation(registry, clerk, body)
    assert (
        resent.status_code == 200 and resent.json()["documentHash"] == "0x" + attestation.document_hash.hex()
    )
    other = replace(attestation, subject_ref=os.urandom(32))
    refused(
        registry, clerk, signed_body(registry, other), 409, "already_attested", "attestation.documentHash"
    )


def test_a_document_another_city_attested_cannot_be_attested_again(
    registry: Registry, clerk: RegistryClient
) -> None:
    digest = registry.attest_elsewhere("gelsenkirchen", document())
    body = {"documentHash": digest.hex(), "registerType": "Melderegister", "subject": "Max Muster"}
    reply = registry.post("/v1/drafts", json=body, headers=auth(clerk))
    error = assert_error(reply, 409, "already_attested", "documentHash")
    assert "gelsenkirchen" in error["message"]
    attestation = fresh(document_hash=digest)
    refused(
        registry,
        clerk,
        signed_body(registry, attestation),
        409,
        "already_attested",
        "attestation.documentHash",
    )


def test_a_record_signed_by_another_key_or_naming_another_clerk_is_refused(
    registry: Registry, clerk: RegistryClient
) -> None:
    attestation = fresh()
    body = signed_body(registry, attestation, GELSENKIRCHEN_CLERK.key)
    refused(registry, clerk, body, 422, "bad_signature", "signature")
    theirs = fresh(clerk=GELSENKIRCHEN_CLERK.address)  # relaying a colleague's signature
    refused(
        registry,
        clerk,
        signed_body(registry, theirs, GELSENKIRCHEN_CLERK.key),
        403,
        "clerk_mismatch",
        "attestation.clerk",
    )
    other_domain = replace(registry.domain, chain_id=1)
    wrong = {
        "attestation": attestation.to_json(),
        "signature": "0x" + attestation.sign(other_domain, AACHEN_CLERK.key).hex(),
    }
    refused(registry, clerk, wrong, 422, "bad_signature", "signature")


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        (
            {"register_type": short_text("Handelsregister")},
            "unknown_register_type",
            "attestation.registerType",
        ),
        ({"register_type": b"\xff" * 32}, "unknown_register_type", "attestation.registerType"),
        ({"subject_ref": b"\0" * 32}, "invalid_field", "attestation.subjectRef"),
        ({"document_hash": b"\0" * 32}, "invalid_hash", "attestation.documentHash"),
        ({"valid_until": 1}, "bad_validity", "attestation.validUntil"),
        ({"valid_until": 2**63}, "bad_validity", "attestation.validUntil"),  # found by test_fuzz
        ({"valid_until": 2**64 - 1}, "bad_validity", "attestation.validUntil"),
        ({"issued_at": int(time.time()) + 3600}, "clock_skew", "attestation.issuedAt"),
        ({"issued_at": int(time.time()) - 3 * 86_400}, "too_old", "attestation.issuedAt"),
    ],
    ids=[
        "register-type",
        "register-type-binary",
        "zero-subject",
        "zero-hash",
        "validity",
        "validity-2**63",
        "validity-max",
        "future",
        "old",
    ],
)
def test_an_implausible_attestation_is_422(
    registry: Registry, clerk: RegistryClient, changes: dict[str, Any], code: str, field: str
) -> None:
    attestation = fresh(**changes)
    refused(registry, clerk, signed_body(registry, attestation), 422, code, field)


def test_an_attestation_already_expired_is_422(registry: Registry, clerk: RegistryClient) -> None:
    now = int(time.time())
    attestation = fresh(issued_at=now - 7200, valid_until=now - 3600)
    refused(
        registry, clerk, signed_body(registry, attestation), 422, "already_expired", "attestation.validUntil"
    )


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ([], "invalid_body", None),
        ({"attestation": {}, "signature": "0x00"}, "invalid_field", "attestation.documentHash"),
        ({"signature": "0x00"}, "invalid_field", "attestation"),
        ({"attestation": "x", "signature": "0x"}, "invalid_field", "attestation"),
        ({"extra": 1}, "unknown_field", "extra"),
    ],
)
def test_a_malformed_issue_body_is_422(
    registry: Registry, clerk: RegistryClient, body: Any, code: str, field: str | None
) -> None:
    refused(registry, clerk, body, 422, code, field)


def test_malformed_fields_and_signatures_are_422_with_the_field(
    registry: Registry, clerk: RegistryClient
) -> None:
    body = signed_body(registry, fresh())
    for name, value in [("issuedAt", -1), ("validUntil", 2**64), ("clerk", "0x12"), ("documentHash", "0x12")]:
        bad = {"attestation": body["attestation"] | {name: value}, "signature": body["signature"]}
        refused(registry, clerk, bad, 422, "invalid_field", f"attestation.{name}")
    for signature in ["0x12", "0x" + "zz" * 65, 7, None]:
        refused(registry, clerk, body | {"signature": signature}, 422, "invalid_field", "signature")


def test_bodies_that_are_not_json_or_too_large_are_refused(registry: Registry, clerk: RegistryClient) -> None:
    before = registry.outbox_total()
    for data in [b"{", b"", b"\xc3\x28", b"[" * 200_000]:
        reply = registry.post("/v1/attestations", data=data, headers=auth(clerk))
        assert reply.status_code in (400, 413), reply.text
        assert reply.json()["error"]["code"] in ("invalid_json", "too_large")
    assert_error(
        registry.post("/v1/attestations", data=b"{" + b" " * 70_000 + b"}", headers=auth(clerk)),
        413,
        "too_large",
    )
    assert_error(
        registry.post("/v1/attestations", data=b"[" * 2000, headers=auth(clerk)), 400, "invalid_json"
    )
    assert registry.outbox_total() == before


def test_an_attestation_with_expiry_turns_expired(registry: Registry, clerk: RegistryClient) -> None:
    until = int(time.time()) + 3
    _, digest = issue(clerk, valid_until=until)
    time.sleep(max(0.0, until + 1 - time.time()))
    answer = clerk.verify(digest)
    assert answer["status"] == "expired" and answer["validUntil"] == until
