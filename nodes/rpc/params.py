"""Parsing of JSON-RPC parameters; every failure is an invalid-params error naming the parameter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nodes.rpc.errors import invalid_params

BLOCK_TAGS = ("latest", "earliest", "pending", "safe", "finalized")


def quantity(value: Any, name: str) -> int:
    if isinstance(value, str) and value.startswith("0x") and 2 < len(value) <= 66:
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise invalid_params(f"{name} must be a hex quantity (0x-prefixed)")


def data(value: Any, name: str, length: int | None = None) -> bytes:
    if isinstance(value, str) and value.startswith("0x") and len(value) % 2 == 0:
        try:
            raw = bytes.fromhex(value[2:])
        except ValueError:
            raw = None
        if raw is not None and (length is None or len(raw) == length):
            return raw
    expected = f"{length} bytes of " if length else ""
    raise invalid_params(f"{name} must be {expected}0x-prefixed hex data")


def address(value: Any, name: str) -> bytes:
    return data(value, name, 20)


def hash32(value: Any, name: str) -> bytes:
    return data(value, name, 32)


def storage_key(value: Any, name: str = "storageKey") -> int:
    """A storage slot as a quantity ("0x0") or as 32 bytes of data, as geth accepts both."""
    if isinstance(value, str) and len(value) == 66:
        return int.from_bytes(hash32(value, name), "big")
    return quantity(value, name)


def boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    raise invalid_params(f"{name} must be true or false")


@dataclass(frozen=True)
class BlockRef:
    number: int | None = None  # a block number, or None with a tag
    tag: str | None = None
    hash: bytes | None = None


def block_ref(value: Any, name: str = "block") -> BlockRef:
    if value in BLOCK_TAGS:
        return BlockRef(tag=value)
    if isinstance(value, dict):
        if "blockHash" in value:
            return BlockRef(hash=hash32(value["blockHash"], f"{name}.blockHash"))
        if "blockNumber" in value:
            return BlockRef(number=quantity(value["blockNumber"], f"{name}.blockNumber"))
    if isinstance(value, str) and value.startswith("0x"):
        return BlockRef(number=quantity(value, name))
    raise invalid_params(f"{name} must be a block number or one of {', '.join(BLOCK_TAGS)}")


def positional(params: Any, minimum: int, maximum: int) -> list[Any]:
    if params is None:
        params = []
    if not isinstance(params, list):
        raise invalid_params("params must be an array")
    if not minimum <= len(params) <= maximum:
        expected = str(minimum) if minimum == maximum else f"{minimum} to {maximum}"
        raise invalid_params(f"expected {expected} parameters, got {len(params)}")
    return params + [None] * (maximum - len(params))


def obj(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_params(f"{name} must be an object")
    return value
