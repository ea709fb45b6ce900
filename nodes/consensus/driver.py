"""Runs the QBFT state machine for a validator: the adaptor between it and the node and network.

One thread owns the state machine. Network messages arrive through `deliver` (any thread);
the state machine's ports build, check and commit blocks through `Node`, and broadcast through
the `send` callable the p2p layer provides.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable

from eth_keys.datatypes import PrivateKey

from nodes.chain.chain import Block, Proposal
from nodes.errors import InvalidBlockError
from nodes.node import Node
from nodes.qbft.messages import MessageError, Signed, decode_message
from nodes.qbft.statemachine import HeightMachine

log = logging.getLogger("govchain.consensus")
FUTURE_HEIGHTS = 10
MAX_BUFFERED = 5_000


class QbftDriver:
    def __init__(self, node: Node, key: PrivateKey, send: Callable[[Signed], None] = lambda _: None) -> None:
        self.node = node
        self.key = key
        self.address = key.public_key.to_canonical_address()
        self.send = send
        qbft = node.genesis.config.qbft
        self.block_period = qbft.blockperiodseconds
        self.heartbeat = qbft.emptyblockperiodseconds
        self.request_timeout = qbft.requesttimeoutseconds
        self.inbox: queue.Queue[bytes] = queue.Queue(maxsize=50_000)
        self.future: dict[int, list[Signed]] = defaultdict(list)
        self.machine: HeightMachine | None = None
        self.executed: dict[bytes, Proposal] = {}
        self.round_changes = 0
        self.on_commit: Callable[[Block], None] = lambda _: None

    # ------------------------------------------------------------ ports

    def build_block(self, height: int, round_: int, now: float) -> Block:
        self.node.proposal_seen.setdefault(height, time.time())
        proposal = self.node.propose(int(now + self.node.clock_offset), self.address, round_)
        self.executed[proposal.block.hash] = proposal
        return proposal.block

    def check_block(self, block: Block) -> str | None:
        if block.hash in self.executed:
            return None
        self.node.proposal_seen.setdefault(block.number, time.time())
        try:
            self.executed[block.hash] = self.node.chain.execute_candidate(block)
        except InvalidBlockError as exc:
            return exc.reason
        return None

    def commit(self, block: Block, seals: list[bytes]) -> None:
        committed = self.node.commit_proposal(self.executed[block.hash], seals, block.extra.round)
        if committed is None:
            return  # a peer's announcement of this block was imported first
        log.info("block %d final in round %d with %d seals, %d transactions", committed.number,
                 committed.extra.round, len(seals), len(committed.transactions))  # fmt: skip
        self.on_commit(committed)

    def broadcast(self, message: Signed) -> None:
        self.send(message)

    def block_due_at(self, now: float) -> float:
        if self.node.force_block.is_set():
            return now
        parent_time = float(self.node.chain.head.header.timestamp) - self.node.clock_offset
        # A pending contract decision is work like a transaction: every validator following the
        # contract sees the same votes, so they agree that the block is due (no heartbeat wait).
        if self.node.has_executable_transactions() or self.node.contract_votes(all_=True):
            return parent_time + self.block_period
        if self.heartbeat <= 0:
            return float("inf")
        return parent_time + self.heartbeat

    # ------------------------------------------------------------- loop

    def total_round_changes(self) -> int:
        machine = self.machine
        return self.round_changes + (machine.round_changes_made if machine is not None else 0)

    def deliver(self, raw: bytes) -> None:
        try:
            self.inbox.put_nowait(raw)
        except queue.Full:
            log.warning("consensus inbox full: dropping a message")

    def _machine_for_head(self, now: float) -> HeightMachine | None:
        head = self.node.chain.head
        height = head.number + 1
        if self.machine is not None and self.machine.height == height:
            return self.machine
        if self.machine is not None:
            self.round_changes += self.machine.round_changes_made
        self.executed.clear()
        self.node.force_block.clear()
        validators = head.extra.validators
        if self.address not in validators:
            self.machine = None
            return None
        self.machine = HeightMachine(height, validators, self.key, self, self.request_timeout, now)
        for height_seen in [h for h in self.future if h <= height]:
            for message in self.future.pop(height_seen):
                if height_seen == height:
                    self.machine.receive(message, now)
        return self.machine

    def step(self, now: float, wait: float = 0.02) -> None:
        self._machine_for_head(now)
        try:
            raw = self.inbox.get(timeout=wait)
        except queue.Empty:
            raw = None
        if raw is not None:
            self._handle(raw, now)
        machine = self._machine_for_head(now)
        if machine is not None:
            machine.tick(now)

    def _handle(self, raw: bytes, now: float) -> None:
        try:
            message = decode_message(raw)
        except MessageError as exc:
            log.debug("undecodable consensus message: %s", exc)
            return
        machine = self._machine_for_head(now)
        if machine is None:
            return
        if message.height == machine.height:
            machine.receive(message, now)
        elif (
            machine.height < message.height <= machine.height + FUTURE_HEIGHTS
            and sum(len(v) for v in self.future.values()) < MAX_BUFFERED
        ):
            self.future[message.height].append(message)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.step(time.time())
            except Exception:
                log.exception("consensus step failed")
                self.node.chain.discard()
                self.machine = None
                stop.wait(0.5)
