"""Request body schemas for the OpenAPI document. The routes read their bodies themselves (bounded
size and nesting, streamed uploads), so FastAPI cannot derive these; they come from the EIP-712
field lists, the same source the records are checked against."""

from __future__ import annotations

from typing import Any

from ledger.records import Attestation, Revocation, Supersession, TypedRecord

HEX32 = {"type": "string", "pattern": "^0x[0-9a-fA-F]{64}$"}
ADDRESS = {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}
SIGNATURE = {"type": "string", "pattern": "^0x[0-9a-fA-F]{130}$", "description": "65 bytes r‖s‖v"}
NOTE = {"type": "string", "maxLength": 500, "description": "kept in the city's log only, never on chain"}


def _field(sol_type: str) -> dict[str, Any]:
    if sol_type == "bytes32":
        return HEX32
    if sol_type == "address":
        return ADDRESS
    bits = int(sol_type.removeprefix("uint"))
    return {"type": "integer", "minimum": 0, "maximum": 2**bits - 1}


def record_schema(record_type: type[TypedRecord]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [name for name, _ in record_type.FIELDS],
        "additionalProperties": False,
        "properties": {name: _field(sol_type) for name, sol_type in record_type.FIELDS},
    }


def json_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "required": required, "additionalProperties": False, "properties": properties}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def form_body(fields: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": ["file", *required],
        "properties": {"file": {"type": "string", "format": "binary"}} | fields,
    }
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


DRAFT_FIELDS = {
    "registerType": {"type": "string", "description": "one of GET /v1/info registerTypes"},
    "subject": {
        "type": "string",
        "maxLength": 200,
        "description": "clear text; becomes the salted subjectRef",
    },
    "subjectRef": HEX32,
    "validUntil": {"type": "integer", "minimum": 0, "description": "unix seconds, 0 = no expiry"},
}
ISSUE = json_body(
    {"attestation": record_schema(Attestation), "signature": SIGNATURE}, ["attestation", "signature"]
)
REVOKE = json_body(
    {"revocation": record_schema(Revocation), "signature": SIGNATURE, "note": NOTE},
    ["revocation", "signature"],
)
SUPERSEDE = json_body(
    {"supersession": record_schema(Supersession), "signature": SIGNATURE, "note": NOTE},
    ["supersession", "signature"],
)
DRAFT = json_body({"documentHash": HEX32} | DRAFT_FIELDS, ["documentHash", "registerType"])
DRAFT_UPLOAD = form_body(
    DRAFT_FIELDS | {"validUntil": {"type": "string", "pattern": "^[0-9]+$"}}, ["registerType"]
)
VERIFY_UPLOAD = form_body({}, [])
CHALLENGE = json_body({"address": ADDRESS}, ["address"])
LOGIN = json_body(
    {
        "nonce": {"type": "string", "maxLength": 64},
        "signature": SIGNATURE,
        "bearer": {"type": "boolean", "description": "true: answer with a token instead of only the cookie"},
    },
    ["nonce", "signature"],
)
