"""Revoking and superseding, only by a clerk of the issuing city and only once, each with a reason;
the audit list of the city (JSON and CSV) with clerk, time, transaction and the chain's verdict."""

from __future__ import annotations

import csv
import io
import os
from typing import Any

import pytest
import requests

from apps.registry.client import RegistryClient
from ledger.records import Revocation, Supersession
from tests.apps.conftest import assert_error
from tests.apps.registry.conftest import AACHEN_CLERK, TIMEOUT, Registry, document, issue, sha


def auth(clerk: RegistryClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {clerk.token}"}


def revoke_body(
    registry: Registry, digest: bytes, reason: int = 1, key: bytes = AACHEN_CLERK.key
) -> dict[str, Any]:
    revocation = Revocation(digest, reason, AACHEN_CLERK.address)
    return {
        "revocation": revocation.to_json(),
        "signature": "0x" + revocation.sign(registry.domain, key).hex(),
    }


def supersede_body(registry: Registry, digest: bytes, successor: bytes, reason: int = 10) -> dict[str, Any]:
    supersession = Supersession(digest, successor, reason, AACHEN_CLERK.address)
    signature = supersession.sign(registry.domain, AACHEN_CLERK.key)
    return {"supersession": supersession.to_json(), "signature": "0x" + signature.hex()}


def post(registry: Registry, clerk: RegistryClient, path: str, body: Any) -> requests.Response:
    return registry.post(path, json=body, headers=auth(clerk))


def refused(
    registry: Registry, clerk: RegistryClient, path: str, body: Any, status: int, code: str, field: str | None
) -> dict[str, Any]:
    before = registry.outbox_total()
    error = assert_error(post(registry, clerk, path, body), status, code, field)
    assert registry.outbox_total() == before
    return error


def revocation_path(digest: bytes) -> str:
    return f"/v1/attestations/{digest.hex()}/revocation"


def supersession_path(digest: bytes) -> str:
    return f"/v1/attestations/{digest.hex()}/supersession"


# ------------------------------------------------------------------ revoke


def test_a_revoked_document_says_so_with_reason_clerk_and_time(
    registry: Registry, clerk: RegistryClient
) -> None:
    _, digest = issue(clerk)
    answer = clerk.revoke(digest, reason=3, note="Antrag vom 26.11.")
    assert answer["status"] == "valid" and answer["pendingChange"] == "revocation"
    revoked = clerk.wait_status(digest, "revoked", TIMEOUT)
    closed = revoked["closed"]
    assert closed["reason"] == 3 and closed["by"] == AACHEN_CLERK.address and closed["at"] > 0
    assert closed["reasonLabel"]["de"] == "auf Antrag der betroffenen Person"
    assert "pendingChange" not in revoked and revoked["proof"]  # the issuance stays provable


def test_revoking_twice_is_409_while_pending_and_once_recorded(
    registry: Registry, clerk: RegistryClient
) -> None:
    _, digest = issue(clerk)
    path = revocation_path(digest)
    assert post(registry, clerk, path, revoke_body(registry, digest)).status_code == 202
    resent = post(registry, clerk, path, revoke_body(registry, digest))  # the identical request again
    assert resent.status_code == 200
    refused(registry, clerk, path, revoke_body(registry, digest, reason=2), 409, "change_pending", "hash")
    clerk.wait_status(digest, "revoked", TIMEOUT)
    refused(registry, clerk, path, revoke_body(registry, digest, reason=2), 409, "already_revoked", "hash")
    other = supersede_body(registry, digest, issue(clerk)[1])
    refused(registry, clerk, supersession_path(digest), other, 409, "already_revoked", "hash")


def test_revoking_an_unknown_document_is_404(registry: Registry, clerk: RegistryClient) -> None:
    digest = sha(document())
    refused(
        registry,
        clerk,
        revocation_path(digest),
        revoke_body(registry, digest),
        404,
        "unknown_document",
        "hash",
    )


def test_a_document_of_another_city_cannot_be_revoked_or_superseded_here(
    registry: Registry, clerk: RegistryClient
) -> None:
    digest = registry.attest_elsewhere("gelsenkirchen", document())
    error = refused(
        registry, clerk, revocation_path(digest), revoke_body(registry, digest), 403, "other_city", "hash"
    )
    assert "gelsenkirchen" in error["message"]
    _, successor = issue(clerk)
    body = supersede_body(registry, digest, successor)
    refused(registry, clerk, supersession_path(digest), body, 403, "other_city", "hash")
    assert clerk.verify(digest)["status"] == "valid"


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"reason": 0}, "unknown_reason", "revocation.reason"),
        ({"reason": 10}, "unknown_reason", "revocation.reason"),  # a supersession reason
        ({"reason": 70_000}, "invalid_field", "revocation.reason"),
        ({"documentHash": "0x" + "11" * 32}, "hash_mismatch", "revocation.documentHash"),
        ({"clerk": "0x" + "22" * 20}, "clerk_mismatch", "revocation.clerk"),
    ],
)
def test_a_bad_revocation_is_refused(
    registry: Registry, clerk: RegistryClient, change: dict[str, Any], code: str, field: str
) -> None:
    digest = sha(document())
    body = revoke_body(registry, digest)
    body["revocation"] |= change
    status = 403 if code == "clerk_mismatch" else 422
    refused(registry, clerk, revocation_path(digest), body, status, code, field)


def test_a_revocation_signed_by_another_key_or_with_notes_out_of_bounds_is_422(
    registry: Registry, clerk: RegistryClient
) -> None:
    _, digest = issue(clerk)
    path = revocation_path(digest)
    refused(
        registry,
        clerk,
        path,
        revoke_body(registry, digest, key=os.urandom(32)),
        422,
        "bad_signature",
        "signature",
    )
    refused(
        registry,
        clerk,
        path,
        revoke_body(registry, digest) | {"note": "x" * 501},
        422,
        "invalid_field",
        "note",
    )
    refused(registry, clerk, path, revoke_body(registry, digest) | {"note": 5}, 422, "invalid_field", "note")
    refused(registry, clerk, path, revoke_body(registry, digest) | {"why": "x"}, 422, "unknown_field", "why")
    assert clerk.verify(digest)["status"] == "valid"


@pytest.mark.parametrize("bad", ["abc", "zz" * 32, "00" * 32, "ab" * 33])
def test_a_malformed_hash_in_the_path_is_422(registry: Registry, clerk: RegistryClient, bad: str) -> None:
    body = revoke_body(registry, sha(document()))
    refused(registry, clerk, f"/v1/attestations/{bad}/revocation", body, 422, "invalid_hash", "hash")
    refused(registry, clerk, f"/v1/attestations/{bad}/supersession", body, 422, "invalid_hash", "hash")


# ------------------------------------------------------------------ supersede


def test_a_superseded_document_names_its_successor(registry: Registry, clerk: RegistryClient) -> None:
    _, old = issue(clerk)
    _, new = issue(clerk)
    assert clerk.supersede(old, new, reason=10)["pendingChange"] == "supersession"
    answer = clerk.wait_status(old, "superseded", TIMEOUT)
    assert answer["closed"]["successor"] == "0x" + new.hex() and answer["closed"]["reason"] == 10
    assert clerk.verify(new)["status"] == "valid"


def test_superseding_with_an_unknown_or_unfit_successor_is_refused(
    registry: Registry, clerk: RegistryClient
) -> None:
    _, digest = issue(clerk)
    path = supersession_path(digest)
    field = "supersession.successorHash"
    unknown = supersede_body(registry, digest, sha(document()))
    refused(registry, clerk, path, unknown, 422, "unknown_successor", field)
    refused(registry, clerk, path, supersede_body(registry, digest, digest), 422, "self_supersession", field)
    elsewhere = registry.attest_elsewhere("gelsenkirchen", document())
    refused(registry, clerk, path, supersede_body(registry, digest, elsewhere), 422, "other_city", field)
    _, revoked = issue(clerk)
    clerk.revoke(revoked)
    clerk.wait_status(revoked, "revoked", TIMEOUT)
    refused(
        registry, clerk, path, supersede_body(registry, digest, revoked), 422, "successor_not_valid", field
    )
    refused(
        registry,
        clerk,
        path,
        supersede_body(registry, digest, issue(clerk)[1], reason=1),
        422,
        "unknown_reason",
        "supersession.reason",
    )
    assert clerk.verify(digest)["status"] == "valid"


def test_superseding_an_unknown_document_is_404(registry: Registry, clerk: RegistryClient) -> None:
    digest = sha(document())
    body = supersede_body(registry, digest, issue(clerk)[1])
    refused(registry, clerk, supersession_path(digest), body, 404, "unknown_document", "hash")


# ------------------------------------------------------------------ audit


def test_the_audit_lists_who_did_what_with_the_chains_verdict(
    registry: Registry, clerk: RegistryClient
) -> None:
    _, digest = issue(clerk)
    clerk.revoke(digest, reason=5, note='=HYPERLINK("http://evil")')
    clerk.wait_status(digest, "revoked", TIMEOUT)
    entries = clerk.audit(limit=1000)["items"]
    mine = [e for e in entries if e["documentHash"] == "0x" + digest.hex()]
    assert [e["action"] for e in mine] == ["revoked", "issued"]  # newest first
    revoked, issued = mine
    assert revoked["reason"] == 5 and revoked["clerk"] == AACHEN_CLERK.address
    assert issued["state"] == "final" and issued["transaction"].startswith("0x") and issued["block"] > 0
    assert any(e["action"] == "login" for e in entries)
    only = clerk.audit(action="issued", limit=1000)["items"]
    assert {e["action"] for e in only} == {"issued"}
    reply = registry.get("/v1/audit", params={"format": "csv", "limit": 1000}, headers=auth(clerk))
    assert reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.text), delimiter=";"))
    row = next(r for r in rows if r["documentHash"] == "0x" + digest.hex() and r["action"] == "revoked")
    assert row["note"] == '\'=HYPERLINK("http://evil")'  # no formula for the spreadsheet
    assert row["clerk"] == AACHEN_CLERK.address and row["time"].endswith("Z")


def test_the_audit_of_another_city_or_a_bad_query_is_refused(
    registry: Registry, clerk: RegistryClient
) -> None:
    assert_error(
        registry.get("/v1/audit", params={"city": "gelsenkirchen"}, headers=auth(clerk)),
        403,
        "other_city",
        "city",
    )
    for params in (
        {"limit": 0},
        {"limit": 100_000},
        {"offset": -1},
        {"format": "xml"},
        {"action": "deleted"},
    ):
        reply = registry.get("/v1/audit", params=params, headers=auth(clerk))
        assert_error(reply, 422, "invalid_parameter", next(iter(params)))
