"""Block production when this node is the network's only validator: one QBFT round needs only
our own proposal and commit seal, so the block is final when we seal it.

The multi-validator QBFT state machine replaces this class behind the same `step` port.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from eth_keys.datatypes import PrivateKey

from nodes.chain.chain import Block, seal_for
from nodes.node import Node

log = logging.getLogger("govchain.consensus")


class SoloValidator:
    def __init__(self, node: Node, key: PrivateKey, clock: Callable[[], float] = time.time) -> None:
        self.node = node
        self.key = key
        self.address = key.public_key.to_canonical_address()
        self.clock = clock
        qbft = node.genesis.config.qbft
        self.block_period = qbft.blockperiodseconds
        self.heartbeat = qbft.emptyblockperiodseconds
        self.last_block_at = float(node.chain.head.header.timestamp)

    def due(self, now: float) -> bool:
        """A block is due once the period has passed and there is work, or the heartbeat is due."""
        if self.node.force_block.is_set():
            return True
        if now < self.last_block_at + self.block_period:
            return False
        if self.node.has_executable_transactions():
            return True
        return self.heartbeat > 0 and now >= self.last_block_at + self.heartbeat

    def step(self, now: float) -> Block | None:
        if not self.due(now):
            return None
        self.node.force_block.clear()
        proposal = self.node.propose(int(now + self.node.clock_offset), self.address)
        block = self.node.commit_proposal(proposal, [seal_for(proposal.block, self.key)])
        self.last_block_at = now
        log.info("block %d sealed: %d transactions", block.number, len(block.transactions))
        return block

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.step(self.clock())
            except Exception:
                log.exception("block production failed; retrying")
                self.node.chain.discard()
                stop.wait(1)
            self.node.new_transaction.wait(min(0.05, self.block_period / 2))
            self.node.new_transaction.clear()
