"""Decodes revert data of the project's contracts into readable custom errors."""

from __future__ import annotations

from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address

from contracts.artifacts import CONTRACT_NAMES, load_artifact

_ERROR_STRING = bytes.fromhex("08c379a0")
_PANIC = bytes.fromhex("4e487b71")


def _abi_type(entry: dict[str, Any]) -> str:
    if entry["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in entry["components"])
        return f"({inner}){entry['type'][5:]}"
    return str(entry["type"])


@cache
def _errors() -> dict[bytes, tuple[str, list[str], list[str]]]:
    known: dict[bytes, tuple[str, list[str], list[str]]] = {}
    for contract in CONTRACT_NAMES:
        for item in load_artifact(contract).abi:
            if item["type"] != "error":
                continue
            types = [_abi_type(i) for i in item["inputs"]]
            selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            known[selector] = (item["name"], [i["name"] for i in item["inputs"]], types)
    return known


def decode_error(data: bytes) -> tuple[str, dict[str, Any]]:
    """Returns (error name, arguments) for revert data; ("unknown", {"data": hex}) if not ours."""
    selector, body = data[:4], data[4:]
    try:
        if selector == _ERROR_STRING:
            return "Error", {"message": abi_decode(["string"], body)[0]}
        if selector == _PANIC:
            return "Panic", {"code": abi_decode(["uint256"], body)[0]}
        if selector in _errors():
            name, names, types = _errors()[selector]
            values = [
                to_checksum_address(v) if t == "address" else v
                for t, v in zip(types, abi_decode(types, body), strict=True)
            ]
            return name, dict(zip(names, values, strict=True))
    except DecodingError:
        pass
    return "unknown", {"data": "0x" + data.hex()}


def describe_error(data: bytes) -> str:
    name, args = decode_error(data)
    shown = ", ".join(f"{k}={'0x' + v.hex() if isinstance(v, bytes) else v}" for k, v in args.items())
    return f"{name}({shown})"
