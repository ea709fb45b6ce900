"""A Python client of the registry service for clerks' software (and the tests, benchmark and demo):
signs in with the clerk's key, signs every record locally (eth-account) and posts it."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import requests
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from ledger.records import Attestation, Domain, Revocation, Supersession

TIMEOUT = 30


class RegistryClientError(Exception):
    def __init__(self, response: requests.Response) -> None:
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            error = {"code": "http", "message": response.text[:200]}
        super().__init__(f"{response.status_code} {error.get('code')}: {error.get('message')}")
        self.status = response.status_code
        self.error = error


class RegistryClient:
    def __init__(self, url: str, clerk: LocalAccount | None = None) -> None:
        self.url = url.rstrip("/")
        self.clerk = clerk
        self.http = requests.Session()
        self.token: str | None = None
        self._info: dict[str, Any] | None = None

    def _call(self, method: str, path: str, ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        response = self.http.request(method, self.url + path, headers=headers, timeout=TIMEOUT, **kwargs)
        if response.status_code not in ok:
            raise RegistryClientError(response)
        return response.json() if response.content else None

    # ---------------------------------------------------------------- anyone

    def info(self) -> dict[str, Any]:
        if self._info is None:
            self._info = self._call("GET", "/v1/info")
        return self._info

    @property
    def domain(self) -> Domain:
        d = self.info()["domain"]
        return Domain(d["name"], int(d["chainId"]), d["verifyingContract"], d["version"])

    def verify(self, document_hash: bytes | str) -> dict[str, Any]:
        hex_hash = document_hash.hex() if isinstance(document_hash, bytes) else document_hash
        answer: dict[str, Any] = self._call("GET", f"/v1/verify/{hex_hash}")
        return answer

    def verify_file(self, document: bytes, name: str = "auskunft.pdf") -> dict[str, Any]:
        answer: dict[str, Any] = self._call("POST", "/v1/verify", files={"file": (name, document)})
        return answer

    def proof(self, document_hash: bytes) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("GET", f"/v1/attestations/{document_hash.hex()}/proof")
        return answer

    def wait_status(self, document_hash: bytes, done: Any, timeout: float = 60) -> dict[str, Any]:
        """Polls until done(answer) holds; `done` may also be a status name."""
        check = done if callable(done) else (lambda answer: answer["status"] == done)
        deadline = time.monotonic() + timeout
        while True:
            answer = self.verify(document_hash)
            if check(answer) or time.monotonic() > deadline:
                return answer
            time.sleep(0.2)

    # ----------------------------------------------------------------- clerks

    def _key(self) -> LocalAccount:
        if self.clerk is None:
            raise ValueError("this client has no clerk key")
        return self.clerk

    def login(self) -> dict[str, Any]:
        clerk = self._key()
        challenge = self._call("POST", "/v1/auth/challenge", json={"address": clerk.address})
        signature = Account.sign_message(encode_defunct(text=challenge["message"]), clerk.key).signature
        session: dict[str, Any] = self._call(
            "POST",
            "/v1/auth/login",
            json={"nonce": challenge["nonce"], "signature": "0x" + bytes(signature).hex(), "bearer": True},
        )
        self.token = session["token"]
        return session

    def draft(
        self,
        document: bytes,
        register_type: str = "Melderegister",
        subject: str = "Mustermann, Erika, 1964-08-12",
        valid_until: int = 0,
    ) -> Attestation:
        """The service's draft for an uploaded document, checked against what was asked for."""
        fields = {"registerType": register_type, "subject": subject, "validUntil": str(valid_until)}
        files = {"file": ("auskunft.pdf", document)}
        answer = self._call("POST", "/v1/drafts/upload", data=fields, files=files)
        attestation = Attestation.from_json(answer["attestation"])
        if (
            attestation.document_hash != hashlib.sha256(document).digest()
            or attestation.clerk != self._key().address
            or attestation.valid_until != valid_until
        ):
            raise ValueError("the service's draft is not the attestation asked for")
        return attestation

    def issue(self, attestation: Attestation) -> dict[str, Any]:
        signature = attestation.sign(self.domain, self._key().key)
        body = {"attestation": attestation.to_json(), "signature": "0x" + signature.hex()}
        answer: dict[str, Any] = self._call("POST", "/v1/attestations", ok=(200, 202), json=body)
        return answer

    def attest(self, document: bytes, **draft: Any) -> dict[str, Any]:
        return self.issue(self.draft(document, **draft))

    def revoke(self, document_hash: bytes, reason: int = 1, note: str | None = None) -> dict[str, Any]:
        revocation = Revocation(document_hash, reason, self._key().address)
        body: dict[str, Any] = {
            "revocation": revocation.to_json(),
            "signature": "0x" + revocation.sign(self.domain, self._key().key).hex(),
        }
        if note is not None:
            body["note"] = note
        path = f"/v1/attestations/{document_hash.hex()}/revocation"
        answer: dict[str, Any] = self._call("POST", path, ok=(200, 202), json=body)
        return answer

    def supersede(self, document_hash: bytes, successor: bytes, reason: int = 10) -> dict[str, Any]:
        supersession = Supersession(document_hash, successor, reason, self._key().address)
        body = {
            "supersession": supersession.to_json(),
            "signature": "0x" + supersession.sign(self.domain, self._key().key).hex(),
        }
        path = f"/v1/attestations/{document_hash.hex()}/supersession"
        answer: dict[str, Any] = self._call("POST", path, ok=(200, 202), json=body)
        return answer

    def audit(self, **params: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("GET", "/v1/audit", params=params)
        return answer
