"""The QBFT state machine for one height: pure, driven by messages and clock ticks.

It talks to the outside only through the `QbftPorts` it is given (build/check/commit a block,
broadcast a message), so tests run several of them in one process with a simulated network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Protocol

from eth_keys.datatypes import PrivateKey

from nodes.chain.chain import Block
from nodes.qbft.messages import Commit, Prepare, Proposal, RoundChange, Signed
from nodes.qbft.validation import (
    InvalidMessageError,
    RoundView,
    validate_commit,
    validate_prepare,
    validate_proposal,
    validate_round_change,
)
from protocol.qbft_extra import commit_seal_hash, sign_seal

log = logging.getLogger("govchain.qbft")


class QbftPorts(Protocol):
    def build_block(self, height: int, round_: int, now: float) -> Block:
        """A new executed candidate block for this height, with `round_` in its extraData."""

    def check_block(self, block: Block) -> str | None:
        """None if the block (without seals) is valid on our head; else why not."""

    def commit(self, block: Block, seals: list[bytes]) -> None:
        """Imports the block with its commit seals; the height is then decided."""

    def broadcast(self, message: Signed) -> None:
        """Sends to every other validator (the state machine handles its own copy)."""

    def block_due_at(self, now: float) -> float:
        """When a round-0 proposal is due (block period, or heartbeat when the pool is empty)."""


@dataclass
class RoundState:
    proposal: Block | None = None
    proposal_message: Proposal | None = None
    prepares: dict[bytes, dict[bytes, Prepare]] = field(default_factory=dict)  # digest -> author -> msg
    commits: dict[bytes, dict[bytes, Commit]] = field(default_factory=dict)
    sent_prepare: bool = False
    sent_commit: bool = False


class HeightMachine:
    def __init__(
        self,
        height: int,
        validators: tuple[bytes, ...],
        key: PrivateKey,
        ports: QbftPorts,
        request_timeout: float,
        now: float,
    ) -> None:
        self.view = RoundView(height, tuple(sorted(validators)))
        self.key = key
        self.me = key.public_key.to_canonical_address()
        self.ports = ports
        self.request_timeout = request_timeout
        self.round = 0
        self.round_started = now
        self.rounds: dict[int, RoundState] = {}
        self.round_changes: dict[int, dict[bytes, RoundChange]] = {}
        self.prepared: tuple[int, Block, tuple[bytes, ...]] | None = None  # round, block, prepares
        self.decided = False
        self.round_changes_made = 0
        self._due_since: float | None = None
        self._proposal_at: float | None = None  # when the round-0 proposal was accepted here
        self._clock = now  # the latest time the driver told us

    @property
    def height(self) -> int:
        return self.view.height

    def _state(self, round_: int) -> RoundState:
        return self.rounds.setdefault(round_, RoundState())

    def _send(self, message: Signed) -> None:
        signed = message.signed(self.key)
        self.ports.broadcast(signed)
        self.receive(signed)

    # ------------------------------------------------------------- timers

    def deadline(self, now: float) -> float:
        """Round 0 times out a request timeout after the block became due *here* (the parent may
        be old after an idle spell), also once its proposal is in (a heartbeat block is proposed
        long after the height started); later rounds double the timeout each time."""
        if self.round == 0:
            limits = [] if self._proposal_at is None else [self._proposal_at + self.request_timeout]
            if self._due_since is None:
                due = self.ports.block_due_at(now)
                if now < due:
                    return min([due + self.request_timeout, *limits])
                self._due_since = now
            return min([self._due_since + self.request_timeout, *limits])
        return self.round_started + self.request_timeout * float(2**self.round)

    def tick(self, now: float) -> None:
        self._clock = now
        if self.decided:
            return
        self.deadline(now)  # notes when the block became due, before a proposal can arrive
        state = self._state(self.round)
        if (
            self.view.proposer(self.round) == self.me
            and state.proposal is None
            and self.round == 0
            and now >= self.ports.block_due_at(now)
        ):
            self._propose_new(now)
        if now >= self.deadline(now):
            self._move_to_round(self.round + 1, now)

    # ----------------------------------------------------------- proposing

    def _propose_new(self, now: float) -> None:
        block = self.ports.build_block(self.height, self.round, now)
        self._send(Proposal(self.height, self.round, block=block.encode()))

    def _propose_after_round_change(self, now: float) -> None:
        changes = self.round_changes.get(self.round, {})
        best = max(
            (c for c in changes.values() if c.prepared_round is not None),
            key=lambda c: c.prepared_round or 0,
            default=None,
        )
        justification = tuple(c.encode() for c in changes.values())
        if best is None or best.prepared_block is None:
            block = self.ports.build_block(self.height, self.round, now)
            self._send(Proposal(self.height, self.round, block=block.encode(), round_changes=justification))
            return
        prepared = Block.decode(best.prepared_block)
        extra = replace(prepared.extra, round=self.round)
        block = Block(prepared.header.copy(extra_data=extra.encode()), prepared.transactions)
        self._send(
            Proposal(
                self.height,
                self.round,
                block=block.encode(),
                round_changes=justification,
                prepares=best.prepares,
            )
        )

    # ----------------------------------------------------------- receiving

    def receive(self, message: Signed, now: float | None = None) -> None:
        if now is not None:
            self._clock = now
        if self.decided or message.height != self.height:
            return
        try:
            if isinstance(message, Proposal):
                self._on_proposal(message, now)
            elif isinstance(message, Prepare):
                self._on_prepare(message)
            elif isinstance(message, Commit):
                self._on_commit(message)
            elif isinstance(message, RoundChange):
                self._on_round_change(message, now)
        except InvalidMessageError as exc:
            log.debug(
                "height %d: ignored %s from %s: %s",
                self.height,
                type(message).__name__,
                (message.author or b"").hex(),
                exc,
            )

    def _on_proposal(self, message: Proposal, now: float | None) -> None:
        if message.round < self.round:
            return
        block = validate_proposal(message, self.view)
        state = self._state(message.round)
        if state.proposal is not None:
            return
        if message.round > self.round:
            self._enter_round(message.round, now if now is not None else self.round_started)
        problem = self.ports.check_block(block)
        if problem is not None:
            raise InvalidMessageError(f"proposed block is invalid: {problem}")
        state.proposal = block
        state.proposal_message = message
        if message.round == 0 and self._proposal_at is None:
            self._proposal_at = self._clock
        if not state.sent_prepare:
            state.sent_prepare = True
            self._send(Prepare(self.height, message.round, digest=block.hash))
        self._check_prepared(message.round)
        self._check_committed(message.round)

    def _on_prepare(self, message: Prepare) -> None:
        author = validate_prepare(message, self.view)
        self._state(message.round).prepares.setdefault(message.digest, {})[author] = message
        self._check_prepared(message.round)

    def _check_prepared(self, round_: int) -> None:
        state = self._state(round_)
        if state.proposal is None or state.sent_commit:
            return
        prepares = state.prepares.get(state.proposal.hash, {})
        if len(prepares) < self.view.quorum:
            return
        self.prepared = (round_, state.proposal, tuple(p.encode() for p in prepares.values()))
        state.sent_commit = True
        seal = sign_seal(commit_seal_hash(state.proposal.header), self.key)
        self._send(Commit(self.height, round_, digest=state.proposal.hash, seal=seal))

    def _on_commit(self, message: Commit) -> None:
        state = self._state(message.round)
        if state.proposal is None:
            # Without the block the seal cannot be checked yet; keep it for when the proposal comes.
            author = message.author
            if author is not None and author in self.view.validators:
                state.commits.setdefault(message.digest, {})[author] = message
            return
        author = validate_commit(message, self.view, state.proposal)
        state.commits.setdefault(message.digest, {})[author] = message
        self._check_committed(message.round)

    def _check_committed(self, round_: int) -> None:
        state = self._state(round_)
        if state.proposal is None or self.decided:
            return
        valid = []
        for author, commit in state.commits.get(state.proposal.hash, {}).items():
            try:
                if validate_commit(commit, self.view, state.proposal) == author:
                    valid.append(commit.seal)
            except InvalidMessageError:
                continue
        if len(valid) >= self.view.quorum:
            self.decided = True
            self.ports.commit(state.proposal, valid)

    # -------------------------------------------------------- round change

    def _move_to_round(self, round_: int, now: float) -> None:
        self._enter_round(round_, now)
        if self.prepared is None:
            self._send(RoundChange(self.height, round_))
            return
        prepared_round, block, prepares = self.prepared
        self._send(
            RoundChange(
                self.height,
                round_,
                prepared_round=prepared_round,
                prepared_block=block.encode(),
                prepares=prepares,
            )
        )

    def _enter_round(self, round_: int, now: float) -> None:
        if round_ <= self.round:
            return
        log.info("height %d: round %d -> %d", self.height, self.round, round_)
        self.round_changes_made += round_ - self.round
        self.round = round_
        self.round_started = now

    def _on_round_change(self, message: RoundChange, now: float | None) -> None:
        if message.round <= 0:
            return
        author, _ = validate_round_change(message, self.view)
        self.round_changes.setdefault(message.round, {})[author] = message
        moment = now if now is not None else self.round_started
        # f+1 validators want a higher round: join the lowest such round (round skipping).
        higher = sorted(r for r in self.round_changes if r > self.round)
        for candidate in higher:
            askers = {a for r, changes in self.round_changes.items() if r >= candidate for a in changes}
            if len(askers) >= self.view.weak_quorum:
                self._move_to_round(candidate, moment)
                break
        changes = self.round_changes.get(self.round, {})
        state = self._state(self.round)
        if (
            len(changes) >= self.view.quorum
            and self.view.proposer(self.round) == self.me
            and state.proposal is None
            and self.round > 0
        ):
            self._propose_after_round_change(moment)
