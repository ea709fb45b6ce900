"""The registry service's refusals (one exception type, mapped to HTTP in one place: api.py) and
the strict parsing of what clients send."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from apps.common import ServiceError
from ledger.records import Attestation, RecordFormatError, Revocation, Supersession

T = TypeVar("T", Attestation, Revocation, Supersession)
MAX_NOTE = 500
# The latest expiry an attestation may carry: 9999-12-31T23:59:59Z (the service's database keeps
# times as 64-bit integers; the contract would take any uint64).
LATEST_VALID_UNTIL = 253_402_300_799
TOO_LATE = "validUntil lies after the year 9999: use 0 for no expiry"
_HASH = re.compile(r"(?:0[xX])?([0-9a-fA-F]{64})")
_BYTES32 = re.compile(r"0x([0-9a-fA-F]{64})")
_SIGNATURE = re.compile(r"0x([0-9a-fA-F]{130})")


class RegistryError(ServiceError):
    """A refused request: HTTP status, stable code, message, and the offending field."""


def unauthenticated(message: str = "log in as a clerk of this city first") -> RegistryError:
    return RegistryError(401, "unauthenticated", message)


def invalid(message: str, field: str | None = None, code: str = "invalid_field") -> RegistryError:
    return RegistryError(422, code, message, field)


def parse_hash(value: str, field: str = "hash") -> bytes:
    """A SHA-256 document hash: 64 hex digits, with or without 0x, any case."""
    match = _HASH.fullmatch(value)
    if match is None:
        raise invalid("a SHA-256 hash is 64 hex digits", field, "invalid_hash")
    raw = bytes.fromhex(match.group(1))
    if raw == b"\0" * 32:
        raise invalid("the zero hash is no document's hash", field, "invalid_hash")
    return raw


def parse_bytes32(value: Any, field: str) -> bytes:
    match = _BYTES32.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise invalid("must be 0x followed by 64 hex digits", field)
    return bytes.fromhex(match.group(1))


def parse_signature(value: Any, field: str = "signature") -> bytes:
    match = _SIGNATURE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise invalid("must be 0x followed by 130 hex digits (65 bytes)", field)
    return bytes.fromhex(match.group(1))


def object_with(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid("expected a JSON object", None, "invalid_body")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise invalid("unknown field", unknown[0], "unknown_field")
    return body


def record_of(record_type: type[T], value: Any, name: str) -> T:
    try:
        return record_type.from_json(value)
    except RecordFormatError as exc:
        raise invalid(exc.reason, f"{name}.{exc.field}" if exc.field else name) from None


def note_of(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_NOTE:
        raise invalid(f"text of at most {MAX_NOTE} characters", "note")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid("not valid text (lone surrogate)", "note") from None
    return value or None
