"""Clerk sign-in by challenge and response, no passwords: the service hands out a one-time nonce
inside a Sign-In with Ethereum message (EIP-4361 wording, bound to this service's origin, the chain
and an expiry); the clerk signs it with the key registered as CLERK of this city (EIP-191
personal_sign); the service recovers the address, checks the role on chain and opens a session.

A session is a random token; the database keeps only its SHA-256, the clerk and the expiry."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.address import is_hex_address, to_checksum_address

from apps.registry.chain import RegistryChain
from apps.registry.errors import RegistryError, invalid, unauthenticated
from apps.registry.store import AuditEntry, Challenge, RegistryStore, Session
from contracts.founding import Role, city_id, city_name

MAX_OPEN_CHALLENGES = 1000


@dataclass(frozen=True)
class Clerk:
    """An authenticated clerk: the session's address and when the session ends."""

    address: str
    expires_at: float
    token_hash: str


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class ClerkAuth:
    def __init__(
        self,
        city: str,
        display_name: str,
        origin: str,
        chain_id: int,
        chain: RegistryChain,
        store: RegistryStore,
        session_ttl_s: int,
        challenge_ttl_s: int,
    ) -> None:
        self.city = city
        self.city_id = city_id(city)
        self.display_name = display_name
        self.origin = origin
        self.chain_id = chain_id
        self.chain = chain
        self.store = store
        self.session_ttl_s = session_ttl_s
        self.challenge_ttl_s = challenge_ttl_s

    def require_clerk_role(self, address: str) -> None:
        """The account must be a CLERK of this service's city right now (read on chain)."""
        city, role, _ = self.chain.role_of(address)
        if role != Role.CLERK:
            raise RegistryError(403, "not_a_clerk", f"{address} is not registered as a clerk")
        if city != self.city_id:
            raise RegistryError(
                403,
                "other_city",
                f"{address} is a clerk of {city_name(city)}, this service is {self.city}'s",
            )

    def challenge(self, address: object) -> dict[str, object]:
        if not isinstance(address, str) or not is_hex_address(address):
            raise invalid("must be a 0x-prefixed 20-byte hex address", "address")
        address = to_checksum_address(address)
        self.require_clerk_role(address)
        now = time.time()
        nonce = secrets.token_hex(16)
        expires = now + self.challenge_ttl_s
        message = "\n".join(
            [
                f"{urlsplit(self.origin).netloc} wants you to sign in with your Ethereum account:",
                address,
                "",
                f"Anmeldung als Sachbearbeiter:in beim Registerdienst {self.display_name} / "
                f"Clerk sign-in to the registry service of {self.display_name}",
                "",
                f"URI: {self.origin}",
                "Version: 1",
                f"Chain ID: {self.chain_id}",
                f"Nonce: {nonce}",
                f"Issued At: {_iso(now)}",
                f"Expiration Time: {_iso(expires)}",
            ]
        )
        if not self.store.add_challenge(Challenge(nonce, address, message, expires), MAX_OPEN_CHALLENGES):
            raise RegistryError(429, "too_many_challenges", "too many open sign-in challenges: retry shortly")
        return {"nonce": nonce, "message": message, "expiresAt": int(expires)}

    def login(self, nonce: object, signature: object) -> tuple[str, Clerk]:
        """Checks the signed challenge; returns (session token, clerk). Each nonce works once."""
        if not isinstance(nonce, str) or not 0 < len(nonce) <= 64:
            raise invalid("the nonce of a sign-in challenge", "nonce")
        if not isinstance(signature, str) or not 0 < len(signature) <= 200:
            raise invalid("0x followed by 130 hex digits", "signature")
        challenge = self.store.take_challenge(nonce)
        if challenge is None:
            raise RegistryError(
                401,
                "challenge_invalid",
                "unknown, used or expired sign-in challenge: request a new one",
                "nonce",
            )
        try:
            signer = Account.recover_message(encode_defunct(text=challenge.message), signature=signature)
        except Exception:  # any malformed signature
            signer = None
        if signer != challenge.address:
            raise RegistryError(
                401,
                "bad_signature",
                "the signature is not the clerk's signature of the challenge",
                "signature",
            )
        self.require_clerk_role(challenge.address)
        token = secrets.token_urlsafe(32)
        now = time.time()
        clerk = Clerk(challenge.address, now + self.session_ttl_s, token_hash(token))
        self.store.add_session(Session(clerk.token_hash, clerk.address, now, clerk.expires_at))
        self.store.add_audit(AuditEntry(now, "login", clerk.address))
        return token, clerk

    def session(self, token: str | None) -> Clerk:
        if not token:
            raise unauthenticated()
        if len(token) > 200:
            raise unauthenticated("not a session token")
        session = self.store.session(token_hash(token))
        if session is None:
            raise unauthenticated("no such session (logged out or never opened): log in again")
        if session.expires_at < time.time():
            self.store.end_session(session.token_hash)
            raise unauthenticated("the session has expired: log in again")
        return Clerk(session.clerk, session.expires_at, session.token_hash)

    def logout(self, clerk: Clerk) -> None:
        if self.store.end_session(clerk.token_hash):
            self.store.add_audit(AuditEntry(time.time(), "logout", clerk.address))
