"""Prometheus metrics of a node (GET /metrics on the JSON-RPC HTTP port).

Gauges and counters are read from the node when scraped; the finality latency is a histogram of
the time from a block's proposal (as this validator first built or checked it; for an observer,
the block's timestamp, whole seconds) to its commit or import here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from nodes.chain.chain import Block
from nodes.node import Node

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)


class _NodeCollector(Collector):
    def __init__(self, node: Node) -> None:
        self.node = node

    def collect(self) -> Iterator[Metric]:
        node = self.node
        with node.chain.lock:
            head = node.chain.head
            pending, queued = node.pool.stats(node.state_nonce)
        validators = head.extra.validators
        yield GaugeMetricFamily(
            "govchain_block_height", "Number of the newest final block", value=head.number
        )
        yield GaugeMetricFamily(
            "govchain_last_block_timestamp_seconds",
            "Timestamp of the newest block",
            value=head.header.timestamp,
        )
        yield GaugeMetricFamily("govchain_peers", "Connected peers", value=node.peer_count())
        yield CounterMetricFamily(
            "govchain_round_changes", "QBFT round changes this node made", value=node.round_changes()
        )
        pool = GaugeMetricFamily("govchain_txpool_transactions", "Transactions in the pool", labels=["state"])
        pool.add_metric(["pending"], pending)
        pool.add_metric(["queued"], queued)
        yield pool
        yield GaugeMetricFamily(
            "govchain_validators", "Validators sealing the next block", value=len(validators)
        )
        own = node.validator_address
        yield GaugeMetricFamily(
            "govchain_is_validator",
            "1 if this node's validator key is in the validator set",
            value=int(own is not None and own in validators),
        )
        yield GaugeMetricFamily(
            "govchain_pending_validator_votes",
            "Header votes this node will propose (manual and from the Consortium contract)",
            value=len(node.local_votes) + len(node.contract_votes()),
        )


class NodeMetrics:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_NodeCollector(node))
        self.finality = Histogram(
            "govchain_finality_latency_seconds",
            "Time from a block's proposal to its commit on this node",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        node.add_block_listener(self.on_block)

    def on_block(self, block: Block) -> None:
        now = time.time()
        started = self.node.proposal_seen.pop(block.number, None)
        for number in [n for n in list(self.node.proposal_seen) if n < block.number]:
            self.node.proposal_seen.pop(number, None)  # the driver's thread adds entries meanwhile
        if started is None:
            started = float(block.header.timestamp) - self.node.clock_offset
        self.finality.observe(max(0.0, now - started))

    def render(self) -> bytes:
        return generate_latest(self.registry)
