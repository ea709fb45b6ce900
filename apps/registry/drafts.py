"""Drafts: the attestation a clerk is about to sign, prepared by the service from a document hash
(or an uploaded file's) and the metadata. The service adds what only it has: the city's salted
reference of the subject (the clear text is not kept) and the time. Nothing is stored; the clerk
checks and signs the returned record and posts it to /v1/attestations."""

from __future__ import annotations

import time
import unicodedata
from typing import Any

from apps.registry.auth import Clerk
from apps.registry.errors import LATEST_VALID_UNTIL, TOO_LATE, invalid, object_with, parse_bytes32, parse_hash
from apps.registry.reader import RegistryReader, hex32
from ledger.records import Attestation, Domain, salted_ref, short_text

MAX_SUBJECT = 200
DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def normalize_subject(subject: str) -> str:
    """One spelling per subject, so the same person gets the same salted reference: Unicode NFC,
    single spaces, case-folded."""
    return " ".join(unicodedata.normalize("NFC", subject).split()).casefold()


class Drafts:
    def __init__(
        self, reader: RegistryReader, domain: Domain, salt: bytes, register_types: tuple[str, ...]
    ) -> None:
        self.reader = reader
        self.domain = domain
        self.salt = salt
        self.register_types = register_types

    def draft(self, clerk: Clerk, body: Any, uploaded_hash: bytes | None = None) -> dict[str, Any]:
        allowed = {"registerType", "subject", "subjectRef", "validUntil"}
        if uploaded_hash is None:
            allowed.add("documentHash")
        body = object_with(body, allowed)
        if uploaded_hash is None:
            if not isinstance(body.get("documentHash"), str):
                raise invalid("the document's SHA-256 as 64 hex digits", "documentHash", "invalid_hash")
            document_hash = parse_hash(body["documentHash"], "documentHash")
        else:
            document_hash = uploaded_hash
        register_type = body.get("registerType")
        if register_type not in self.register_types:
            raise invalid(f"one of {', '.join(self.register_types)}", "registerType", "unknown_register_type")
        subject_ref = self.subject_ref(body.get("subject"), body.get("subjectRef"))
        valid_until = body.get("validUntil", 0)
        if isinstance(valid_until, bool) or not isinstance(valid_until, int) or not 0 <= valid_until < 2**64:
            raise invalid("unix seconds, or 0 for no expiry", "validUntil")
        now = int(time.time())
        if valid_until and valid_until <= now:
            raise invalid("validUntil lies in the past", "validUntil", "already_expired")
        if valid_until > LATEST_VALID_UNTIL:
            raise invalid(TOO_LATE, "validUntil", "bad_validity")
        self.reader.refuse_attested(document_hash, "documentHash")
        attestation = Attestation(
            document_hash, short_text(register_type), subject_ref, now, valid_until, clerk.address
        )
        return {
            "attestation": attestation.to_json(),
            "typedData": {  # as eth_signTypedData_v4 takes it
                "types": {
                    "EIP712Domain": DOMAIN_TYPE,
                    "Attestation": [{"name": n, "type": t} for n, t in Attestation.FIELDS],
                },
                "primaryType": Attestation.PRIMARY_TYPE,
                "domain": self.domain.to_json(),
                "message": attestation.to_json(),
            },
            "digest": hex32(attestation.digest(self.domain)),
        }

    def subject_ref(self, subject: Any, ref: Any) -> bytes:
        if (subject is None) == (ref is None):
            raise invalid("give the subject (clear text) or its subjectRef, one of them", "subject")
        if ref is not None:
            raw = parse_bytes32(ref, "subjectRef")
            if raw == b"\0" * 32:
                raise invalid("must not be zero", "subjectRef")
            return raw
        if not isinstance(subject, str) or len(subject) > MAX_SUBJECT:
            raise invalid(f"the subject as text, 1 to {MAX_SUBJECT} characters", "subject")
        try:
            normalized = normalize_subject(subject)
            if not normalized:
                raise invalid(f"the subject as text, 1 to {MAX_SUBJECT} characters", "subject")
            return salted_ref(self.salt, normalized)
        except UnicodeEncodeError:
            raise invalid("not valid text (lone surrogate)", "subject") from None
