"""The transaction pool: per-sender nonce order, replacement by nonce, a future-nonce queue, limits.

Pure bookkeeping: the caller supplies each sender's state nonce, so the pool can be tested
against a simple model without a chain. Signature, chain id and permission checks happen
before `add` (see nodes/node.py).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from eth.abc import SignedTransactionAPI

from nodes.errors import TransactionRejectedError


@dataclass(frozen=True)
class PoolLimits:
    max_transactions: int = 20_000
    max_per_sender: int = 5_000
    max_nonce_gap: int = 1_000  # how far ahead of the state nonce a queued transaction may be


@dataclass(order=True)
class _Entry:
    nonce: int
    arrival: int
    tx: SignedTransactionAPI = field(compare=False)


def _fee(tx: SignedTransactionAPI) -> int:
    return int(tx.max_fee_per_gas) if hasattr(tx, "max_fee_per_gas") else int(tx.gas_price)


class TxPool:
    def __init__(self, limits: PoolLimits = PoolLimits()) -> None:
        self.limits = limits
        self._by_sender: dict[bytes, dict[int, _Entry]] = {}
        self._by_hash: dict[bytes, _Entry] = {}
        self._arrivals = itertools.count()

    def __len__(self) -> int:
        return len(self._by_hash)

    def get(self, tx_hash: bytes) -> SignedTransactionAPI | None:
        entry = self._by_hash.get(tx_hash)
        return None if entry is None else entry.tx

    def add(self, tx: SignedTransactionAPI, state_nonce: int) -> bool:
        """Adds `tx`; returns False if it was already known. Raises TransactionRejectedError."""
        tx_hash = bytes(tx.hash)
        if tx_hash in self._by_hash:
            return False
        sender = bytes(tx.sender)
        nonce = int(tx.nonce)
        if nonce < state_nonce:
            raise TransactionRejectedError(
                "nonce_too_low", f"nonce too low: next nonce is {state_nonce}, got {nonce}"
            )
        if nonce - state_nonce > self.limits.max_nonce_gap:
            raise TransactionRejectedError(
                "nonce_too_high", f"nonce too far ahead: next nonce is {state_nonce}, got {nonce}"
            )
        queue = self._by_sender.get(sender, {})
        existing = queue.get(nonce)
        if existing is not None:
            if _fee(tx) < _fee(existing.tx):
                raise TransactionRejectedError(
                    "replacement_underpriced",
                    "replacement transaction underpriced: its fee is below the pooled one",
                )
            del self._by_hash[bytes(existing.tx.hash)]
        else:
            if len(queue) >= self.limits.max_per_sender:
                raise TransactionRejectedError("sender_full", "too many pooled transactions from this sender")
            if len(self._by_hash) >= self.limits.max_transactions:
                raise TransactionRejectedError("pool_full", "transaction pool is full")
        entry = _Entry(nonce, next(self._arrivals), tx)
        queue[nonce] = entry
        self._by_sender[sender] = queue
        self._by_hash[tx_hash] = entry
        return True

    def pending_nonce(self, sender: bytes, state_nonce: int) -> int:
        """The next nonce after the sender's contiguous pooled transactions."""
        queue = self._by_sender.get(sender, {})
        nonce = state_nonce
        while nonce in queue:
            nonce += 1
        return nonce

    def executable(self, nonce_of: Callable[[bytes], int], limit: int) -> list[SignedTransactionAPI]:
        """Up to `limit` transactions that can run now: per sender in nonce order, senders
        interleaved by arrival."""
        runs: list[list[_Entry]] = []
        for sender, queue in self._by_sender.items():
            nonce = nonce_of(sender)
            run: list[_Entry] = []
            while nonce in queue and len(run) < limit:
                run.append(queue[nonce])
                nonce += 1
            if run:
                runs.append(run)
        heap = [(run[0].arrival, i, 0) for i, run in enumerate(runs)]
        heapq.heapify(heap)
        chosen: list[SignedTransactionAPI] = []
        while heap and len(chosen) < limit:
            _, i, position = heapq.heappop(heap)
            chosen.append(runs[i][position].tx)
            if position + 1 < len(runs[i]):
                heapq.heappush(heap, (runs[i][position + 1].arrival, i, position + 1))
        return chosen

    def remove(self, txs: Iterable[SignedTransactionAPI]) -> None:
        for tx in txs:
            entry = self._by_hash.pop(bytes(tx.hash), None)
            if entry is None:
                continue
            queue = self._by_sender.get(bytes(tx.sender), {})
            if queue.get(entry.nonce) is entry:
                del queue[entry.nonce]
            if not queue:
                self._by_sender.pop(bytes(tx.sender), None)

    def prune(self, nonce_of: Callable[[bytes], int]) -> None:
        """Drops transactions whose nonce the chain has already used."""
        stale = [
            e.tx
            for sender, queue in self._by_sender.items()
            for n, e in queue.items()
            if n < nonce_of(sender)
        ]
        self.remove(stale)

    def stats(self, nonce_of: Callable[[bytes], int]) -> tuple[int, int]:
        """(pending, queued) counts, as geth's txpool_status reports them."""
        pending = sum(self.pending_nonce(s, nonce_of(s)) - nonce_of(s) for s in self._by_sender)
        return pending, len(self._by_hash) - pending
