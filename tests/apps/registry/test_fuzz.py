"""Hypothesis against the registry API: random JSON to every route that takes a body, re-signed
attestations with random field values, random hashes in paths, random bytes and forms as uploads:
never a 5xx, and every 4xx in the error shape {"error": {"code", "message"[, "field"]}}."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.registry.client import RegistryClient
from ledger.records import Attestation, short_text
from tests.apps.registry.conftest import AACHEN_CLERK, Registry, document, sha

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=70),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=14), inner, max_size=5),
    max_leaves=14,
)
FIELDS = st.sampled_from(
    ["attestation", "signature", "revocation", "supersession", "note", "documentHash", "registerType",
     "subject", "subjectRef", "validUntil", "address", "nonce", "bearer"]
)  # fmt: skip
BODIES = JSON | st.dictionaries(FIELDS, JSON, max_size=4)
HASH = "ab" * 32
ROUTES = [
    "/v1/attestations",
    "/v1/drafts",
    f"/v1/attestations/{HASH}/revocation",
    f"/v1/attestations/{HASH}/supersession",
    "/v1/auth/challenge",
    "/v1/auth/login",
]


def check(reply: requests.Response) -> None:
    assert reply.status_code < 500, (reply.status_code, reply.text)
    if reply.status_code >= 400:
        body = reply.json()
        assert set(body) == {"error"}, body
        assert {"code", "message"} <= set(body["error"]) <= {"code", "message", "field"}, body


def auth(clerk: RegistryClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {clerk.token}"}


@pytest.mark.parametrize("route", ROUTES)
def test_random_json_never_gets_a_5xx(registry: Registry, clerk: RegistryClient, route: str) -> None:
    @FUZZ
    @given(body=BODIES)
    def run(body: Any) -> None:
        data = json.dumps(body).encode("utf-8", "surrogatepass")  # NaN and lone surrogates too
        check(registry.post(route, data=data, headers=auth(clerk) | {"Content-Type": "application/json"}))

    run()


def test_re_signed_attestations_with_random_fields_never_get_a_5xx(
    registry: Registry, clerk: RegistryClient
) -> None:
    now = int(time.time())
    times = st.sampled_from(
        [0, 1, now - 90_000, now - 60, now, now + 200, now + 400, 2**64 - 1]
    ) | st.integers(0, 2**64 - 1)
    changes = st.fixed_dictionaries(
        {},
        optional={
            "register_type": st.sampled_from([short_text("Melderegister"), b"\0" * 32, b"\xff" * 32])
            | st.binary(min_size=32, max_size=32),
            "subject_ref": st.just(b"\0" * 32) | st.binary(min_size=32, max_size=32),
            "issued_at": times,
            "valid_until": times,
            "document_hash": st.just(b"\0" * 32) | st.binary(min_size=32, max_size=32),
        },
    )

    @FUZZ
    @given(change=changes, resign=st.booleans())
    def run(change: dict[str, Any], resign: bool) -> None:
        base = Attestation(
            sha(document()), short_text("Melderegister"), os.urandom(32), now, 0, AACHEN_CLERK.address
        )
        attestation = replace(base, **change)
        signed = attestation if resign else base
        body = {
            "attestation": attestation.to_json(),
            "signature": "0x" + signed.sign(registry.domain, AACHEN_CLERK.key).hex(),
        }
        check(registry.post("/v1/attestations", json=body, headers=auth(clerk)))

    run()


def test_random_hashes_in_paths_never_get_a_5xx(registry: Registry) -> None:
    @FUZZ
    @given(text=st.text(min_size=1, max_size=80) | st.from_regex(r"(0x)?[0-9a-fA-F]{60,68}", fullmatch=True))
    def run(text: str) -> None:
        quoted = quote(text, safe="")
        for path in (
            f"/v1/verify/{quoted}",
            f"/v1/attestations/{quoted}/proof",
            f"/v1/attestations/{quoted}/qr.svg",
        ):
            check(registry.get(path))

    run()


def test_random_uploads_never_get_a_5xx(registry: Registry, clerk: RegistryClient) -> None:
    content_types = st.sampled_from(
        ["application/pdf", "multipart/form-data", "multipart/form-data; boundary=x", "text/plain", "",
         "application/x-www-form-urlencoded", "multipart/form-data; boundary=" + "b" * 300]
    )  # fmt: skip

    @FUZZ
    @given(data=st.binary(max_size=2000), content_type=content_types)
    def raw(data: bytes, content_type: str) -> None:
        headers = {"Content-Type": content_type} if content_type else {}
        check(registry.post("/v1/verify", data=data, headers=headers))
        check(registry.post("/v1/drafts/upload", data=data, headers=headers | auth(clerk)))

    @FUZZ
    @given(
        fields=st.dictionaries(FIELDS | st.text(max_size=10), st.text(max_size=50), max_size=5),
        name=st.sampled_from(["file", "other", ""]),
        content=st.binary(max_size=500),
    )
    def forms(fields: dict[str, str], name: str, content: bytes) -> None:
        files = {name: ("x.pdf", content)} if name else None
        check(registry.post("/v1/drafts/upload", data=fields, files=files, headers=auth(clerk)))

    raw()
    forms()
