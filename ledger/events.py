"""Decoding of the project's contract events from raw logs (topics + data), using the artifacts' ABI."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from contracts.artifacts import CONTRACT_NAMES, load_artifact


@dataclass(frozen=True)
class EventSpec:
    name: str
    indexed: tuple[tuple[str, str], ...]  # (name, type)
    data: tuple[tuple[str, str], ...]


def _type(entry: dict[str, Any]) -> str:
    if entry["type"].startswith("tuple"):
        return f"({','.join(_type(c) for c in entry['components'])}){entry['type'][5:]}"
    return str(entry["type"])


@cache
def _specs() -> dict[bytes, EventSpec]:
    specs: dict[bytes, EventSpec] = {}
    for contract in CONTRACT_NAMES:
        for item in load_artifact(contract).abi:
            if item["type"] != "event":
                continue
            inputs = item["inputs"]
            signature = f"{item['name']}({','.join(_type(i) for i in inputs)})"
            specs[keccak(text=signature)] = EventSpec(
                item["name"],
                tuple((i["name"], _type(i)) for i in inputs if i["indexed"]),
                tuple((i["name"], _type(i)) for i in inputs if not i["indexed"]),
            )
    return specs


def topic_of(name: str) -> bytes:
    return next(topic for topic, spec in _specs().items() if spec.name == name)


def decode_event(topics: list[bytes], data: bytes) -> tuple[str, dict[str, Any]] | None:
    """(event name, arguments) for a log of one of our contracts, or None for any other log."""
    if not topics or topics[0] not in _specs():
        return None
    spec = _specs()[topics[0]]
    if len(topics) - 1 != len(spec.indexed):
        return None
    args: dict[str, Any] = {}
    for (name, abi_type), topic in zip(spec.indexed, topics[1:], strict=True):
        args[name] = abi_decode([abi_type], topic)[0]
    data_types = [abi_type for _, abi_type in spec.data]
    for (name, _), value in zip(spec.data, abi_decode(data_types, data), strict=True):
        args[name] = value
    for name, abi_type in spec.indexed + spec.data:
        if abi_type == "address":
            args[name] = to_checksum_address(args[name])
    return spec.name, args


def decode_rpc_log(log: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The same for a log as eth_getTransactionReceipt returns it (hex strings)."""
    topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
    return decode_event(topics, bytes.fromhex(log["data"][2:]))
