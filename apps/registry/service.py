"""Issuing, revoking and superseding attestations (DESIGN.md §6): every check before a clerk's
signed record is acknowledged and handed to the city's gateway, and the audit trail of who did it."""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from apps.registry.auth import Clerk, ClerkAuth
from apps.registry.catalog import REVOCATION_REASONS, SUPERSESSION_REASONS, register_type_name
from apps.registry.drafts import Drafts
from apps.registry.errors import (
    LATEST_VALID_UNTIL,
    TOO_LATE,
    RegistryError,
    invalid,
    note_of,
    object_with,
    parse_hash,
    parse_signature,
    record_of,
)
from apps.registry.reader import Lookup, RegistryReader, hex32
from apps.registry.store import AuditEntry, RegistryStore
from contracts.founding import city_id, city_name
from ledger.errors import ConflictError
from ledger.gateway import Gateway
from ledger.outbox import FINAL, KEY_PREFIX, REJECTED
from ledger.records import (
    Attestation,
    Revocation,
    Supersession,
    TypedRecord,
    domain_for,
)

Signed = Attestation | Revocation | Supersession
MAX_CLOCK_SKEW_S = 300  # as RegistryAttestations.MAX_CLOCK_SKEW


@dataclass(frozen=True)
class Limits:
    register_types: tuple[str, ...]
    max_signature_age_s: int = 86_400  # how old a clerk's signature may be when it arrives
    max_upload_bytes: int = 20 * 1024 * 1024


class RegistryService:
    def __init__(
        self,
        city: str,
        gateway: Gateway,
        store: RegistryStore,
        reader: RegistryReader,
        auth: ClerkAuth,
        salt: bytes,
        limits: Limits,
    ) -> None:
        self.city = city
        self.city_id = city_id(city)
        self.gateway = gateway
        self.store = store
        self.reader = reader
        self.auth = auth
        self.salt = salt
        self.limits = limits
        settings = gateway.settings
        self.domain = domain_for(Attestation, settings.chain_id, settings.contracts.registry)
        self.drafts = Drafts(reader, self.domain, salt, limits.register_types)
        self._lock = threading.Lock()  # one decision per document at a time

    # ----------------------------------------------------------------- issue

    def issue(self, clerk: Clerk, body: Any) -> tuple[dict[str, Any], bool]:
        """Checks and durably queues a clerk-signed attestation; returns (status, newly accepted)."""
        body = object_with(body, {"attestation", "signature"})
        attestation = record_of(Attestation, body.get("attestation"), "attestation")
        signature = parse_signature(body.get("signature"))
        key = KEY_PREFIX["attestation"] + hex32(attestation.document_hash)
        with self._lock:
            if self._resent(key, attestation, signature):
                return self._issued(attestation, signature), False
            self._check_signed(clerk, attestation, signature, "attestation")
            self._check_attestation(attestation)
            self.reader.refuse_attested(attestation.document_hash, "attestation.documentHash")
            self._submit("attestation", attestation, signature)
            document = attestation.to_json() | {"registerType": register_type_name(attestation.register_type)}
            entry = AuditEntry(
                time.time(), "issued", clerk.address, hex32(attestation.document_hash), outbox_key=key
            )
            self.store.add_document(document, entry)
        return self._issued(attestation, signature), True

    def _check_attestation(self, a: Attestation) -> None:
        now = int(time.time())
        if register_type_name(a.register_type) not in self.limits.register_types:
            raise invalid(
                f"one of {', '.join(self.limits.register_types)}",
                "attestation.registerType",
                "unknown_register_type",
            )
        if a.document_hash == b"\0" * 32:
            raise invalid("the zero hash is no document's hash", "attestation.documentHash", "invalid_hash")
        if a.subject_ref == b"\0" * 32:
            raise invalid("the salted subject reference is missing", "attestation.subjectRef")
        if a.valid_until and a.valid_until <= a.issued_at:
            raise invalid(
                "validUntil must be after issuedAt (or 0)", "attestation.validUntil", "bad_validity"
            )
        if a.valid_until and a.valid_until <= now:
            raise invalid("validUntil lies in the past", "attestation.validUntil", "already_expired")
        if a.valid_until > LATEST_VALID_UNTIL:
            raise invalid(TOO_LATE, "attestation.validUntil", "bad_validity")
        if a.issued_at > now + MAX_CLOCK_SKEW_S:
            raise invalid(
                "issuedAt lies in the future: check the clock", "attestation.issuedAt", "clock_skew"
            )
        if a.issued_at < now - self.limits.max_signature_age_s:
            raise invalid(
                f"issuedAt is more than {self.limits.max_signature_age_s} s old: sign again",
                "attestation.issuedAt",
                "too_old",
            )

    # --------------------------------------------------------- revoke, supersede

    def revoke(self, clerk: Clerk, hash_text: str, body: Any) -> tuple[dict[str, Any], bool]:
        revocation, signature, note = _closing(hash_text, body, "revocation", Revocation, REVOCATION_REASONS)
        return self._close(clerk, "revocation", revocation, signature, note)

    def supersede(self, clerk: Clerk, hash_text: str, body: Any) -> tuple[dict[str, Any], bool]:
        supersession, signature, note = _closing(
            hash_text, body, "supersession", Supersession, SUPERSESSION_REASONS
        )
        if supersession.successor_hash == supersession.document_hash:
            raise invalid(
                "a document cannot supersede itself", "supersession.successorHash", "self_supersession"
            )
        return self._close(clerk, "supersession", supersession, signature, note)

    def _close(
        self, clerk: Clerk, kind: str, record: Revocation | Supersession, signature: bytes, note: str | None
    ) -> tuple[dict[str, Any], bool]:
        key = KEY_PREFIX[kind] + hex32(record.document_hash)
        with self._lock:
            if self._resent(key, record, signature):
                return self._answer(record.document_hash), False
            self._check_signed(clerk, record, signature, kind)
            self._check_open(self.reader.lookup(record.document_hash))
            successor = None
            if isinstance(record, Supersession):
                self._check_successor(self.reader.lookup(record.successor_hash))
                successor = hex32(record.successor_hash)
            self._submit(kind, record, signature)
            action = "revoked" if kind == "revocation" else "superseded"
            entry = AuditEntry(
                time.time(),
                action,
                clerk.address,
                hex32(record.document_hash),
                record.reason,
                successor,
                note,
            )
            self.store.add_audit(replace(entry, outbox_key=key))
        return self._answer(record.document_hash), True

    def _check_open(self, found: Lookup) -> None:
        record = found.record
        if record is None and found.pending_attestation is None:
            raise RegistryError(404, "unknown_document", "no attestation of this document", "hash")
        if record is not None and record.city != self.city_id:
            raise RegistryError(
                403,
                "other_city",
                f"attested by {city_name(record.city)}: only its clerks can change it",
                "hash",
            )
        if record is not None and record.closed_as:
            raise RegistryError(
                409, f"already_{record.status}", f"the document is already {record.status}", "hash"
            )
        if found.pending_change is not None:
            raise RegistryError(
                409, "change_pending", f"a {found.pending_change} is on its way already", "hash"
            )

    def _check_successor(self, found: Lookup) -> None:
        field = "supersession.successorHash"
        record = found.record
        if record is None and found.pending_attestation is None:
            raise invalid("the successor must be attested first", field, "unknown_successor")
        if record is not None and record.city != self.city_id:
            raise invalid(f"the successor is attested by {city_name(record.city)}", field, "other_city")
        if record is not None and (record.status != "valid" or found.pending_change is not None):
            raise invalid(f"the successor is {record.status}, not valid", field, "successor_not_valid")

    # ---------------------------------------------------------------- shared

    def _check_signed(self, clerk: Clerk, record: Signed, signature: bytes, field: str) -> None:
        if record.clerk != clerk.address:
            raise RegistryError(
                403,
                "clerk_mismatch",
                "the record names another clerk than the one logged in",
                f"{field}.clerk",
            )
        try:
            signer = record.recover(self.domain, signature)
        except Exception:  # any malformed signature
            signer = None
        if signer != clerk.address:
            raise invalid(
                "the signature is not the clerk's signature of this record", "signature", "bad_signature"
            )
        self.auth.require_clerk_role(clerk.address)

    def _resent(self, key: str, record: TypedRecord, signature: bytes) -> bool:
        """True for an identical resend; a different record under the same key is a conflict."""
        item = self.gateway.status(key)
        return item is not None and item.payload == {
            "record": record.to_json(),
            "signature": hex32(signature),
        }

    def _submit(self, kind: str, record: TypedRecord, signature: bytes) -> None:
        try:
            self.gateway.submit(kind, record, signature)
        except ConflictError:
            raise RegistryError(
                409, "already_submitted", f"another {kind} of this document was submitted before", "hash"
            ) from None

    def _answer(self, document_hash: bytes) -> dict[str, Any]:
        return self.reader.verify(document_hash)

    def _issued(self, attestation: Attestation, signature: bytes) -> dict[str, Any]:
        """The status, plus the signed record as relayed (for the city's document system)."""
        status = self.reader.verify(attestation.document_hash)
        return status | {"attestation": attestation.to_json(), "signature": hex32(signature)}

    # ----------------------------------------------------------------- audit

    def audit(self, action: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
        """What this city's clerks did here, newest first, with the chain's verdict on each change."""
        out = []
        for entry in self.store.audit(action, limit, offset):
            row: dict[str, Any] = {
                "id": entry.id,
                "at": round(entry.at, 3),
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(entry.at)),
                "action": entry.action,
                "clerk": entry.clerk,
                "documentHash": entry.document_hash,
                "reason": entry.reason,
                "successor": entry.successor,
                "note": entry.note,
                "state": None,
                "transaction": None,
                "block": None,
                "rejection": None,
            }
            item = self.gateway.status(entry.outbox_key) if entry.outbox_key else None
            if item is not None:
                row["state"] = {FINAL: "final", REJECTED: "rejected"}.get(item.state, "pending")
                row |= {"transaction": item.tx_hash, "block": item.block_number, "rejection": item.reason}
            out.append(row)
        return out


R = TypeVar("R", Revocation, Supersession)


def _closing(
    hash_text: str, body: Any, kind: str, record_type: type[R], reasons: Collection[int]
) -> tuple[R, bytes, str | None]:
    """The signed revocation or supersession in `body`, for the document at `hash_text`."""
    document_hash = parse_hash(hash_text)
    body = object_with(body, {kind, "signature", "note"})
    record = record_of(record_type, body.get(kind), kind)
    signature = parse_signature(body.get("signature"))
    note = note_of(body.get("note"))
    if record.document_hash != document_hash:
        raise invalid("not the document of this address", f"{kind}.documentHash", "hash_mismatch")
    if record.reason not in reasons:
        raise invalid(f"one of {sorted(reasons)}", f"{kind}.reason", "unknown_reason")
    return record, signature, note
