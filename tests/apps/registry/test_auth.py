"""Clerk sign-in: challenge and response with the clerk's key, sessions (bearer token or HttpOnly
cookie), and every refusal: no session, a stranger's key, a clerk of another city, a replayed or
expired challenge, an expired or ended session, a cookie without the CSRF header, a revoked role."""

from __future__ import annotations

import os
import sqlite3

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from apps.registry.auth import MAX_OPEN_CHALLENGES, token_hash
from apps.registry.client import RegistryClient, RegistryClientError
from contracts.founding import Role
from tests.apps.conftest import assert_error
from tests.apps.registry.conftest import AACHEN_CLERK, GELSENKIRCHEN_CLERK, Registry, document, sha

WRITES = [
    ("POST", "/v1/drafts"),
    ("POST", "/v1/drafts/upload"),
    ("POST", "/v1/attestations"),
    ("POST", f"/v1/attestations/{'ab' * 32}/revocation"),
    ("POST", f"/v1/attestations/{'ab' * 32}/supersession"),
    ("GET", "/v1/audit"),
    ("GET", "/v1/auth/session"),
    ("POST", "/v1/auth/logout"),
]


def challenge(registry: Registry, address: str) -> dict[str, str]:
    reply = registry.post("/v1/auth/challenge", json={"address": address})
    assert reply.status_code == 200, reply.text
    answer: dict[str, str] = reply.json()
    return answer


def signed(message: str, account: LocalAccount) -> str:
    return "0x" + bytes(Account.sign_message(encode_defunct(text=message), account.key).signature).hex()


@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p[:28]}" for m, p in WRITES])
def test_without_a_session_every_clerk_route_is_401(registry: Registry, method: str, path: str) -> None:
    before = registry.outbox_total()
    reply = registry.http.request(method, registry.url + path, json={}, timeout=30)
    assert_error(reply, 401, "unauthenticated")
    bearer = registry.http.request(
        method, registry.url + path, json={}, headers={"Authorization": "Bearer forged"}, timeout=30
    )
    assert_error(bearer, 401, "unauthenticated")
    assert registry.outbox_total() == before


def test_the_challenge_names_this_service_the_chain_and_an_expiry(registry: Registry) -> None:
    answer = challenge(registry, AACHEN_CLERK.address.lower())  # any spelling of the address
    message = answer["message"]
    assert message.startswith(f"{registry.url.removeprefix('http://')} wants you to sign in")
    assert f"URI: {registry.url}" in message
    assert f"Chain ID: {registry.description['chainId']}" in message
    assert f"Nonce: {answer['nonce']}" in message
    assert "Expiration Time: " in message
    assert "Aachen" in message


def test_a_key_that_is_no_clerk_gets_no_challenge(registry: Registry) -> None:
    stranger = Account.create()
    assert_error(registry.post("/v1/auth/challenge", json={"address": stranger.address}), 403, "not_a_clerk")
    scale = registry.description["accounts"]["aachen"]["scales"][0]["address"]
    assert_error(registry.post("/v1/auth/challenge", json={"address": scale}), 403, "not_a_clerk")


def test_a_clerk_of_another_city_is_refused(registry: Registry) -> None:
    reply = registry.post("/v1/auth/challenge", json={"address": GELSENKIRCHEN_CLERK.address})
    error = assert_error(reply, 403, "other_city")
    assert "gelsenkirchen" in error["message"]


@pytest.mark.parametrize("address", ["", "0x1234", "not an address", 42, None, "0x" + "g" * 40])
def test_a_malformed_address_is_422(registry: Registry, address: object) -> None:
    reply = registry.post("/v1/auth/challenge", json={"address": address})
    assert_error(reply, 422, "invalid_field", "address")


def test_a_signature_by_another_key_is_refused_and_uses_up_the_challenge(registry: Registry) -> None:
    answer = challenge(registry, AACHEN_CLERK.address)
    forged = signed(answer["message"], Account.create())
    reply = registry.post("/v1/auth/login", json={"nonce": answer["nonce"], "signature": forged})
    assert_error(reply, 401, "bad_signature", "signature")
    genuine = signed(answer["message"], AACHEN_CLERK)
    again = registry.post("/v1/auth/login", json={"nonce": answer["nonce"], "signature": genuine})
    assert_error(again, 401, "challenge_invalid", "nonce")


def test_a_challenge_works_once_and_not_after_it_expired(registry: Registry) -> None:
    answer = challenge(registry, AACHEN_CLERK.address)
    body = {"nonce": answer["nonce"], "signature": signed(answer["message"], AACHEN_CLERK)}
    assert registry.post("/v1/auth/login", json=body).status_code == 200
    assert_error(registry.post("/v1/auth/login", json=body), 401, "challenge_invalid", "nonce")
    late = challenge(registry, AACHEN_CLERK.address)
    registry.execute("UPDATE challenges SET expires_at = 0 WHERE nonce = ?", late["nonce"])
    body = {"nonce": late["nonce"], "signature": signed(late["message"], AACHEN_CLERK)}
    assert_error(registry.post("/v1/auth/login", json=body), 401, "challenge_invalid", "nonce")
    unknown = {"nonce": os.urandom(16).hex(), "signature": body["signature"]}
    assert_error(registry.post("/v1/auth/login", json=unknown), 401, "challenge_invalid", "nonce")


@pytest.mark.parametrize(
    "body",
    [[], {"nonce": 5, "signature": "0x"}, {"nonce": "x" * 65, "signature": "0x"}, {"nonce": "abc"}],
    ids=["list", "nonce-number", "nonce-long", "no-signature"],
)
def test_a_malformed_login_is_422(registry: Registry, body: object) -> None:
    reply = registry.post("/v1/auth/login", json=body)
    assert reply.status_code == 422, reply.text
    assert set(reply.json()["error"]) >= {"code", "message"}


def test_the_cookie_session_is_httponly_strict_and_needs_the_csrf_header(registry: Registry) -> None:
    answer = challenge(registry, AACHEN_CLERK.address)
    body = {"nonce": answer["nonce"], "signature": signed(answer["message"], AACHEN_CLERK)}
    reply = registry.post("/v1/auth/login", json=body)
    assert reply.status_code == 200, reply.text
    assert "token" not in reply.json()  # the page never sees the token
    cookie = reply.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    token = reply.cookies["govchain_registry_session"]
    jar = {"govchain_registry_session": token}
    draft = {"documentHash": sha(document()).hex(), "registerType": "Melderegister", "subject": "Max Muster"}
    assert registry.get("/v1/auth/session", cookies=jar).json()["clerk"] == AACHEN_CLERK.address
    assert_error(registry.post("/v1/drafts", json=draft, cookies=jar), 403, "csrf")
    headers = {"X-Requested-With": "govchain-registry"}
    assert registry.post("/v1/drafts", json=draft, cookies=jar, headers=headers).status_code == 200
    assert registry.post("/v1/auth/logout", cookies=jar, headers=headers).status_code == 204
    assert_error(registry.get("/v1/auth/session", cookies=jar), 401, "unauthenticated")


def test_an_expired_session_is_refused(registry: Registry) -> None:
    client = registry.client()
    assert client.token is not None
    assert client._call("GET", "/v1/auth/session")["city"] == "aachen"
    registry.execute("UPDATE sessions SET expires_at = 0 WHERE token_hash = ?", token_hash(client.token))
    with pytest.raises(RegistryClientError) as refused:
        client._call("GET", "/v1/auth/session")
    assert refused.value.status == 401 and "expired" in refused.value.error["message"]


def test_a_clerk_whose_role_was_removed_can_no_longer_write(registry: Registry) -> None:
    clerk = registry.register("aachen", Role.CLERK)
    client = registry.client(clerk)
    data = document()
    attestation = client.draft(data)
    registry.set_role("aachen", clerk.address, None)  # the admin removes the clerk
    before = registry.outbox_total()
    with pytest.raises(RegistryClientError) as refused:
        client.issue(attestation)
    assert refused.value.status == 403 and refused.value.error["code"] == "not_a_clerk"
    assert registry.outbox_total() == before
    assert client.verify(sha(data))["status"] == "unknown"
    with pytest.raises(RegistryClientError) as again:
        RegistryClient(registry.url, clerk).login()
    assert again.value.status == 403


def test_too_many_open_challenges_are_429(registry: Registry) -> None:
    far = 2**40
    rows = [(f"flood-{i}", AACHEN_CLERK.address, "x", far) for i in range(MAX_OPEN_CHALLENGES)]
    with sqlite3.connect(registry.store_path) as db:
        db.executemany(
            "INSERT INTO challenges (nonce, address, message, expires_at) VALUES (?, ?, ?, ?)", rows
        )
    try:
        reply = registry.post("/v1/auth/challenge", json={"address": AACHEN_CLERK.address})
        assert_error(reply, 429, "too_many_challenges")
    finally:
        registry.execute("DELETE FROM challenges WHERE nonce LIKE 'flood-%'")
    assert registry.post("/v1/auth/challenge", json={"address": AACHEN_CLERK.address}).status_code == 200
