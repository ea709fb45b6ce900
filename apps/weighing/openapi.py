"""The JSON schema of POST /v1/weighings for the OpenAPI document (DESIGN.md §8), derived from the
record's EIP-712 fields, so that another vendor's scale can be built from the document alone. The
route itself reads the raw body (size and nesting limits first) and names the offending field."""

from __future__ import annotations

from typing import Any

from ledger.records import Weighing

HEX = "^0x[0-9a-fA-F]{%d}$"


def _field_schema(sol_type: str) -> dict[str, Any]:
    if sol_type == "bool":
        return {"type": "boolean"}
    if sol_type == "address":
        return {"type": "string", "pattern": HEX % 40}
    if sol_type == "bytes32":
        return {"type": "string", "pattern": HEX % 64}
    bits = int(sol_type.removeprefix("uint"))
    return {"type": "integer", "minimum": 0, "maximum": 2**bits - 1}


def signed_weighing_schema() -> dict[str, Any]:
    record = {
        "type": "object",
        "properties": {wire: _field_schema(sol_type) for wire, sol_type in Weighing.FIELDS},
        "required": [wire for wire, _ in Weighing.FIELDS],
        "additionalProperties": False,
    }
    clear = {
        "type": "object",
        "description": "clear values behind the salted refs; kept only in the city's database",
        "properties": {kind: {"type": "string"} for kind in ("vehicle", "container", "customer")},
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "record": record,
            "signature": {"type": "string", "pattern": HEX % 130, "description": "65-byte EIP-712 signature"},
            "clear": clear,
        },
        "required": ["record", "signature"],
        "additionalProperties": False,
    }


def weighings_request_body(max_batch: int) -> dict[str, Any]:
    one = signed_weighing_schema()
    many = {"type": "array", "items": one, "minItems": 1, "maxItems": max_batch}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"oneOf": [one, many]}}},
        }
    }
