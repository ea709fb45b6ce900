"""What anyone may ask without signing in: a document's status by hash (DESIGN.md §8) or by upload,
its proof bundle (also for another city's document), the QR codes, the pages and their headers."""

from __future__ import annotations

import os

import pytest

from apps.registry.client import RegistryClient
from ledger.verify import load_trust, verify_bundle
from tests.apps.conftest import assert_error
from tests.apps.registry.conftest import Registry, document, issue, sha


def test_an_unknown_document_is_unknown_in_every_spelling_of_its_hash(registry: Registry) -> None:
    digest = sha(document())
    for spelling in (digest.hex(), digest.hex().upper(), "0x" + digest.hex(), "0X" + digest.hex()):
        reply = registry.get(f"/v1/verify/{spelling}")
        assert reply.status_code == 200, reply.text
        assert reply.json() == {
            "documentHash": "0x" + digest.hex(),
            "status": "unknown",
            "verifyUrl": f"{registry.url}/verify/{digest.hex()}",
        }


@pytest.mark.parametrize(
    "bad", ["abc", "zz" * 32, "00" * 32, "ab" * 33, "0x", "ab" * 31 + "a b", "%00" * 10, "ab" * 31 + "é1"]
)
def test_a_malformed_hash_is_422(registry: Registry, bad: str) -> None:
    assert_error(registry.get(f"/v1/verify/{bad}"), 422, "invalid_hash", "hash")
    assert_error(registry.get(f"/v1/attestations/{bad}/proof"), 422, "invalid_hash", "hash")
    assert_error(registry.get(f"/v1/attestations/{bad}/qr.png"), 422, "invalid_hash", "hash")


def test_verification_by_upload_as_a_form_or_a_raw_body(registry: Registry, clerk: RegistryClient) -> None:
    data, digest = issue(clerk)
    form = registry.post("/v1/verify", files={"file": ("auskunft.pdf", data, "application/pdf")})
    assert form.status_code == 200, form.text
    assert form.json()["status"] == "valid" and form.json()["size"] == len(data)
    raw = registry.post("/v1/verify", data=data, headers={"Content-Type": "application/pdf"})
    assert raw.json()["documentHash"] == "0x" + digest.hex() and raw.json()["status"] == "valid"
    changed = registry.post("/v1/verify", data=data + b" ", headers={"Content-Type": "application/pdf"})
    assert changed.json()["status"] == "unknown"  # one byte more: another document


def test_uploads_that_are_empty_oversize_malformed_or_without_a_file_are_refused(registry: Registry) -> None:
    assert_error(registry.post("/v1/verify", data=b""), 422, "empty_file", "file")
    assert_error(registry.post("/v1/verify", files={"file": ("x.pdf", b"")}), 422, "empty_file", "file")
    assert_error(registry.post("/v1/verify", files={"other": ("x.pdf", b"abc")}), 422, "missing_file", "file")
    assert_error(registry.post("/v1/verify", data={"file": "abc"}), 422, "missing_file", "file")
    two = [("file", ("a.pdf", b"a")), ("file", ("b.pdf", b"b"))]
    assert_error(registry.post("/v1/verify", files=two), 422, "invalid_field", "file")
    limit = RegistryClient(registry.url).info()["maxUploadBytes"]
    big = registry.post("/v1/verify", files={"file": ("gross.pdf", os.urandom(limit + 1))})
    assert_error(big, 413, "too_large", "file")
    headers = {"Content-Type": "multipart/form-data; boundary=xyz"}
    assert_error(registry.post("/v1/verify", data=b"--xyz\r\nnonsense", headers=headers), 400, "invalid_form")
    no_boundary = {"Content-Type": "multipart/form-data"}
    assert_error(registry.post("/v1/verify", data=b"abc", headers=no_boundary), 400, "invalid_form")
    many = {f"f{i}": "x" for i in range(20)}
    assert_error(registry.post("/v1/verify", data=many, files={"file": ("a.pdf", b"a")}), 400, "invalid_form")
    long_field = {"note": "x" * 5000}
    reply = registry.post("/v1/verify", data=long_field, files={"file": ("a.pdf", b"a")})
    assert_error(reply, 422, "invalid_field", "note")


def test_the_proof_of_another_citys_attestation_is_found_on_chain_and_verifies(registry: Registry) -> None:
    digest = registry.attest_elsewhere("gelsenkirchen", document())
    answer = registry.get(f"/v1/verify/{digest.hex()}").json()
    assert answer["status"] == "valid" and answer["city"] == "gelsenkirchen"
    assert "transaction" not in answer  # not relayed by this service
    bundle = registry.get(answer["proof"])
    assert bundle.status_code == 200, bundle.text
    assert bundle.json()["record"]["documentHash"] == "0x" + digest.hex()
    verdict = verify_bundle(bundle.json(), load_trust(registry.data_dir / "trust.json"))
    assert verdict.valid, verdict.describe()
    inline = registry.get(f"/v1/verify/{digest.hex()}", params={"bundle": "true"}).json()
    assert inline["proofBundle"] == bundle.json()
    unknown = registry.get(f"/v1/verify/{sha(document()).hex()}", params={"bundle": "true"}).json()
    assert unknown["status"] == "unknown" and "proofBundle" not in unknown


def test_the_proof_of_an_unknown_document_is_404(registry: Registry) -> None:
    assert_error(
        registry.get(f"/v1/attestations/{sha(document()).hex()}/proof"), 404, "unknown_document", "hash"
    )


def test_pages_are_served_with_a_strict_policy_and_the_browser_crypto_from_this_service(
    registry: Registry,
) -> None:
    digest = sha(document()).hex()
    for path in ("/", f"/verify/{digest}", "/clerk"):
        page = registry.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<html lang="de">' in page.text
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert page.headers["x-content-type-options"] == "nosniff"
    for asset in (
        "/static/verify.js",
        "/static/clerk.js",
        "/static/vendor/noble-hashes/sha3.js",
        "/static/vendor/noble-secp256k1/index.js",
    ):
        reply = registry.get(asset)
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/javascript"), asset
    assert registry.get("/clerk").headers["cache-control"] == "no-store"


def test_unknown_routes_and_methods_answer_in_the_error_shape(registry: Registry) -> None:
    assert_error(registry.get("/v1/nothing"), 404, "not_found")
    assert_error(
        registry.http.delete(registry.url + "/v1/verify/" + "ab" * 32, timeout=30), 405, "method_not_allowed"
    )
    assert_error(registry.get(f"/v1/attestations/{'ab' * 32}/qr.gif"), 422, "invalid_parameter", "kind")
    paths = registry.get("/openapi.json").json()["paths"]
    assert paths["/v1/verify/{document_hash}"]["get"]
    issue_schema = paths["/v1/attestations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert issue_schema["properties"]["attestation"]["required"] == [
        "documentHash", "registerType", "subjectRef", "issuedAt", "validUntil", "clerk"
    ]  # fmt: skip
    assert "multipart/form-data" in paths["/v1/verify"]["post"]["requestBody"]["content"]
