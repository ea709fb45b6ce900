"""eth_getLogs and log subscriptions: filters, matched against blooms first, then logs."""

from __future__ import annotations

from typing import Any

from eth.abc import LogAPI
from eth_bloom.bloom import BloomFilter

from nodes.rpc import params as p
from nodes.rpc.errors import invalid_params


class LogFilter:
    def __init__(
        self,
        from_block: p.BlockRef,
        to_block: p.BlockRef,
        addresses: list[bytes],
        topics: list[list[bytes] | None],
        block_hash: bytes | None,
    ) -> None:
        self.from_block = from_block
        self.to_block = to_block
        self.addresses = addresses
        self.topics = topics
        self.block_hash = block_hash

    def matches(self, log: LogAPI) -> bool:
        if self.addresses and bytes(log.address) not in self.addresses:
            return False
        if len(self.topics) > len(log.topics):
            return False
        for wanted, topic in zip(self.topics, log.topics, strict=False):
            if wanted is not None and topic.to_bytes(32, "big") not in wanted:
                return False
        return True

    def may_match_bloom(self, bloom: int) -> bool:
        filter_ = BloomFilter(bloom)
        if self.addresses and not any(a in filter_ for a in self.addresses):
            return False
        return all(wanted is None or any(t in filter_ for t in wanted) for wanted in self.topics)


def parse_filter(raw: dict[str, Any]) -> LogFilter:
    unknown = set(raw) - {"fromBlock", "toBlock", "address", "topics", "blockHash"}
    if unknown:
        raise invalid_params(f"unknown filter field {sorted(unknown)[0]}")
    address_raw = raw.get("address")
    if address_raw is None:
        addresses = []
    elif isinstance(address_raw, list):
        addresses = [p.address(a, "address") for a in address_raw]
    else:
        addresses = [p.address(address_raw, "address")]
    topics_raw = raw.get("topics") or []
    if not isinstance(topics_raw, list) or len(topics_raw) > 4:
        raise invalid_params("topics must be a list of at most 4 entries")
    topics: list[list[bytes] | None] = []
    for i, entry in enumerate(topics_raw):
        if entry is None:
            topics.append(None)
        elif isinstance(entry, list):
            topics.append([p.hash32(t, f"topics[{i}]") for t in entry] or None)
        else:
            topics.append([p.hash32(entry, f"topics[{i}]")])
    block_hash = p.hash32(raw["blockHash"], "blockHash") if raw.get("blockHash") else None
    if block_hash is not None and ("fromBlock" in raw or "toBlock" in raw):
        raise invalid_params("blockHash excludes fromBlock and toBlock")
    return LogFilter(
        p.block_ref(raw.get("fromBlock") or "latest", "fromBlock"),
        p.block_ref(raw.get("toBlock") or "latest", "toBlock"),
        addresses,
        topics,
        block_hash,
    )
