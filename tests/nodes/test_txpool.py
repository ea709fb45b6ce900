"""Unit tests of nodes.txpool.TxPool, with real signed transactions and no node process.

First one test per rule (nonces, duplicates, replacement, limits, executable order, pending nonce,
remove, prune, stats), then a Hypothesis state machine that runs random add / replace / remove /
prune operations with random state nonces against a reference model: a dict
sender → {nonce: transaction}, plus the arrival order of the transactions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from eth.abc import SignedTransactionAPI
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from nodes.chain.execution import TX_BUILDER
from nodes.errors import TransactionRejectedError
from nodes.txpool import PoolLimits, TxPool

CHAIN_ID = 4242
SENDERS = 3


@cache
def account(index: int) -> LocalAccount:
    signer: LocalAccount = Account.from_key(keccak(text=f"govchain txpool test/{index}"))
    return signer


def address(index: int) -> bytes:
    return bytes.fromhex(account(index).address[2:])


@cache
def tx(sender: int, nonce: int, fee: int = 0, variant: int = 0) -> SignedTransactionAPI:
    """A signed type-2 transaction; `fee` is its maxFeePerGas, `variant` changes only its payload."""
    fields: dict[str, Any] = {
        "type": 2,
        "chainId": CHAIN_ID,
        "nonce": nonce,
        "to": "0x" + "22" * 20,
        "value": 0,
        "gas": 50_000,
        "maxFeePerGas": fee,
        "maxPriorityFeePerGas": 0,
        "data": bytes([variant]),
    }
    signed = account(sender).sign_transaction(fields)
    return TX_BUILDER.decode(bytes(signed.raw_transaction))


def nonces(**by_sender: int) -> Callable[[bytes], int]:
    """A state-nonce function: nonces(a=3) gives sender 0 ("a") nonce 3, everyone else 0."""
    table = {address(ord(name) - ord("a")): value for name, value in by_sender.items()}
    return lambda sender: table.get(sender, 0)


def hashes(txs: list[SignedTransactionAPI]) -> list[bytes]:
    return [bytes(t.hash) for t in txs]


def rejected(pool: TxPool, transaction: SignedTransactionAPI, state_nonce: int) -> str:
    """Adds a transaction that must be refused; returns the refusal's kind."""
    with pytest.raises(TransactionRejectedError) as refusal:
        pool.add(transaction, state_nonce)
    return refusal.value.kind


A, B, C = 0, 1, 2


def test_the_transactions_are_real_and_distinct() -> None:
    assert tx(A, 0).sender == address(A)
    assert tx(B, 0).sender == address(B)
    assert len({bytes(tx(A, 0, f, v).hash) for f in range(3) for v in range(2)}) == 6
    assert tx(A, 0, 7).max_fee_per_gas == 7


# --------------------------------------------------------------- add: nonces


def test_a_nonce_below_the_state_nonce_is_refused() -> None:
    pool = TxPool()
    assert rejected(pool, tx(A, 4), state_nonce=5) == "nonce_too_low"
    assert len(pool) == 0
    assert pool.get(bytes(tx(A, 4).hash)) is None
    assert pool.add(tx(A, 5), state_nonce=5)


def test_a_nonce_too_far_ahead_is_refused_at_the_gap_limit() -> None:
    pool = TxPool(PoolLimits(max_nonce_gap=3))
    assert pool.add(tx(A, 13), state_nonce=10)  # exactly max_nonce_gap ahead
    assert rejected(pool, tx(A, 14), state_nonce=10) == "nonce_too_high"
    assert len(pool) == 1


def test_a_duplicate_returns_false_and_changes_nothing() -> None:
    pool = TxPool()
    assert pool.add(tx(A, 0), 0) is True
    assert pool.add(tx(A, 0), 0) is False
    assert len(pool) == 1
    assert pool.get(bytes(tx(A, 0).hash)) is tx(A, 0)


# ----------------------------------------------------------- add: replacement


def test_a_replacement_with_a_lower_fee_is_refused_and_the_pooled_one_stays() -> None:
    pool = TxPool()
    pool.add(tx(A, 0, fee=5), 0)
    assert rejected(pool, tx(A, 0, fee=4), 0) == "replacement_underpriced"
    assert pool.get(bytes(tx(A, 0, fee=5).hash)) is not None
    assert pool.get(bytes(tx(A, 0, fee=4).hash)) is None
    assert hashes(pool.executable(nonces(), 10)) == hashes([tx(A, 0, fee=5)])


@pytest.mark.parametrize(("fee", "variant"), [(5, 1), (6, 0)], ids=["equal-fee", "higher-fee"])
def test_a_replacement_with_an_equal_or_higher_fee_replaces(fee: int, variant: int) -> None:
    pool = TxPool()
    pool.add(tx(A, 0, fee=5), 0)
    pool.add(tx(A, 1, fee=5), 0)
    assert pool.add(tx(A, 0, fee=fee, variant=variant), 0) is True
    assert len(pool) == 2
    assert pool.get(bytes(tx(A, 0, fee=5).hash)) is None
    assert pool.get(bytes(tx(A, 0, fee=fee, variant=variant).hash)) is not None
    assert hashes(pool.executable(nonces(), 10)) == hashes(
        [tx(A, 0, fee=fee, variant=variant), tx(A, 1, fee=5)]
    )
    assert pool.stats(nonces()) == (2, 0)


def test_a_replacement_is_allowed_when_the_limits_are_reached() -> None:
    pool = TxPool(PoolLimits(max_transactions=2, max_per_sender=1))
    pool.add(tx(A, 0), 0)
    pool.add(tx(B, 0), 0)
    assert pool.add(tx(A, 0, fee=1), 0)
    assert len(pool) == 2


# ----------------------------------------------------------------- add: limits


def test_the_per_sender_limit() -> None:
    pool = TxPool(PoolLimits(max_per_sender=2))
    pool.add(tx(A, 0), 0)
    pool.add(tx(A, 1), 0)
    assert rejected(pool, tx(A, 2), 0) == "sender_full"
    assert pool.add(tx(B, 0), 0)  # another sender still has room
    assert len(pool) == 3


def test_the_total_limit() -> None:
    pool = TxPool(PoolLimits(max_transactions=3))
    pool.add(tx(A, 0), 0)
    pool.add(tx(A, 1), 0)
    pool.add(tx(B, 0), 0)
    assert rejected(pool, tx(C, 0), 0) == "pool_full"
    assert rejected(pool, tx(A, 2), 0) == "pool_full"
    assert len(pool) == 3
    pool.remove([tx(B, 0)])
    assert pool.add(tx(C, 0), 0)  # room again after a removal


def test_a_refused_sender_leaves_no_trace_in_the_pool() -> None:
    pool = TxPool(PoolLimits(max_transactions=1))
    pool.add(tx(A, 0), 0)
    assert rejected(pool, tx(B, 0), 0) == "pool_full"
    asked: list[bytes] = []

    def nonce_of(sender: bytes) -> int:
        asked.append(sender)
        return 0

    assert pool.stats(nonce_of) == (1, 0)
    assert pool.executable(nonce_of, 10) == [tx(A, 0)]
    assert address(B) not in asked


# ------------------------------------------------------------------ executable


def test_executable_gives_each_sender_in_nonce_order_whatever_the_arrival_order() -> None:
    pool = TxPool()
    for n in (2, 0, 3, 1):
        pool.add(tx(A, n), 0)
    assert hashes(pool.executable(nonces(), 10)) == hashes([tx(A, n) for n in range(4)])


def test_executable_stops_at_a_nonce_gap() -> None:
    pool = TxPool()
    for n in (0, 1, 3, 4):
        pool.add(tx(A, n), 0)
    assert hashes(pool.executable(nonces(), 10)) == hashes([tx(A, 0), tx(A, 1)])
    pool.add(tx(A, 2), 0)  # filling the gap releases the rest
    assert hashes(pool.executable(nonces(), 10)) == hashes([tx(A, n) for n in range(5)])


def test_executable_starts_at_the_state_nonce() -> None:
    pool = TxPool()
    for n in range(4):
        pool.add(tx(A, n), 0)
    assert hashes(pool.executable(nonces(a=2), 10)) == hashes([tx(A, 2), tx(A, 3)])
    assert pool.executable(nonces(a=5), 10) == []  # nothing pooled at nonce 5


def test_executable_interleaves_senders_by_arrival() -> None:
    pool = TxPool()
    for transaction in (tx(A, 0), tx(B, 0), tx(A, 1), tx(C, 0), tx(B, 1), tx(A, 2)):
        pool.add(transaction, 0)
    expected = [tx(A, 0), tx(B, 0), tx(A, 1), tx(C, 0), tx(B, 1), tx(A, 2)]
    assert hashes(pool.executable(nonces(), 10)) == hashes(expected)


def test_executable_orders_by_the_arrival_of_each_senders_next_transaction() -> None:
    """A's nonce 1 arrived first but must wait for A's nonce 0, which arrived after B's nonce 0."""
    pool = TxPool()
    for transaction in (tx(A, 1), tx(B, 0), tx(A, 0), tx(B, 1)):
        pool.add(transaction, 0)
    assert hashes(pool.executable(nonces(), 10)) == hashes([tx(B, 0), tx(A, 0), tx(A, 1), tx(B, 1)])


def test_a_replacement_counts_as_a_new_arrival() -> None:
    pool = TxPool()
    pool.add(tx(A, 0), 0)
    pool.add(tx(B, 0), 0)
    pool.add(tx(A, 0, fee=1), 0)
    assert hashes(pool.executable(nonces(), 10)) == hashes([tx(B, 0), tx(A, 0, fee=1)])


@pytest.mark.parametrize("limit", [0, 1, 2, 4, 5, 100])
def test_executable_respects_the_limit_and_returns_a_prefix(limit: int) -> None:
    pool = TxPool()
    order = [tx(A, 0), tx(B, 0), tx(A, 1), tx(B, 1), tx(A, 2)]
    for transaction in order:
        pool.add(transaction, 0)
    assert hashes(pool.executable(nonces(), limit)) == hashes(order[:limit])


# -------------------------------------------------- pending nonce, remove, prune


def test_pending_nonce_is_the_end_of_the_contiguous_run() -> None:
    pool = TxPool()
    assert pool.pending_nonce(address(A), 3) == 3
    for n in (3, 4, 6):
        pool.add(tx(A, n), 3)
    assert pool.pending_nonce(address(A), 3) == 5
    assert pool.pending_nonce(address(A), 6) == 7
    assert pool.pending_nonce(address(B), 0) == 0


def test_remove_drops_the_given_transactions_and_ignores_unknown_ones() -> None:
    pool = TxPool()
    for n in range(3):
        pool.add(tx(A, n), 0)
    pool.add(tx(B, 0), 0)
    pool.remove([tx(A, 1), tx(C, 0), tx(A, 7)])
    assert len(pool) == 3
    assert pool.get(bytes(tx(A, 1).hash)) is None
    assert hashes(pool.executable(nonces(), 10)) == hashes([tx(A, 0), tx(B, 0)])
    assert pool.pending_nonce(address(A), 0) == 1
    pool.remove([tx(A, 0), tx(A, 2), tx(B, 0)])
    assert len(pool) == 0
    assert pool.stats(nonces()) == (0, 0)


def test_removing_a_replaced_transaction_keeps_its_replacement() -> None:
    pool = TxPool()
    pool.add(tx(A, 0), 0)
    pool.add(tx(A, 0, fee=1), 0)
    pool.remove([tx(A, 0)])
    assert len(pool) == 1
    assert hashes(pool.executable(nonces(), 10)) == hashes([tx(A, 0, fee=1)])


def test_prune_drops_the_nonces_the_chain_has_used() -> None:
    pool = TxPool()
    for n in range(4):
        pool.add(tx(A, n), 0)
    pool.add(tx(B, 1), 0)
    pool.prune(nonces(a=2, b=5))
    assert len(pool) == 2
    assert pool.get(bytes(tx(A, 1).hash)) is None
    assert pool.get(bytes(tx(B, 1).hash)) is None
    assert hashes(pool.executable(nonces(a=2), 10)) == hashes([tx(A, 2), tx(A, 3)])


def test_stats_counts_pending_and_queued() -> None:
    pool = TxPool()
    assert pool.stats(nonces()) == (0, 0)
    for n in (0, 1, 3):
        pool.add(tx(A, n), 0)
    pool.add(tx(B, 5), 0)
    assert pool.stats(nonces()) == (2, 2)
    pool.add(tx(A, 2), 0)
    assert pool.stats(nonces()) == (4, 1)
    assert pool.stats(nonces(b=5)) == (5, 0)


# ------------------------------------------------------- state machine vs model


@dataclass
class Pooled:
    fee: int
    variant: int
    arrival: int

    def tx(self, sender: int, nonce: int) -> SignedTransactionAPI:
        return tx(sender, nonce, self.fee, self.variant)


SENDERS_BY_ADDRESS = {address(s): s for s in range(SENDERS)}
LIMITS = PoolLimits(max_transactions=9, max_per_sender=4, max_nonce_gap=4)
NONCES = st.integers(min_value=0, max_value=9)
FEES = st.integers(min_value=0, max_value=3)


class PoolMachine(RuleBasedStateMachine):
    """Random operations on a TxPool and on a model of it; after each step both must agree."""

    def __init__(self) -> None:
        super().__init__()
        self.pool = TxPool(LIMITS)
        self.model: dict[int, dict[int, Pooled]] = {s: {} for s in range(SENDERS)}
        self.state: dict[int, int] = dict.fromkeys(range(SENDERS), 0)
        self.arrivals = 0

    @initialize()
    def warm_up(self) -> None:
        self.pool.add(tx(A, 0), 0)
        self.model[A][0] = Pooled(0, 0, self.arrivals)
        self.arrivals += 1

    def nonce_of(self, sender: bytes) -> int:
        return self.state[SENDERS_BY_ADDRESS[sender]]

    def expected_add(self, sender: int, nonce: int, fee: int, variant: int) -> bool | str:
        queue = self.model[sender]
        pooled = queue.get(nonce)
        if pooled is not None and (pooled.fee, pooled.variant) == (fee, variant):
            return False
        if nonce < self.state[sender]:
            return "nonce_too_low"
        if nonce - self.state[sender] > LIMITS.max_nonce_gap:
            return "nonce_too_high"
        if pooled is not None:
            return "replacement_underpriced" if fee < pooled.fee else True
        if len(queue) >= LIMITS.max_per_sender:
            return "sender_full"
        if sum(len(q) for q in self.model.values()) >= LIMITS.max_transactions:
            return "pool_full"
        return True

    @rule(sender=st.sampled_from(range(SENDERS)), nonce=NONCES, fee=FEES, variant=st.integers(0, 1))
    def add(self, sender: int, nonce: int, fee: int, variant: int) -> None:
        expected = self.expected_add(sender, nonce, fee, variant)
        try:
            outcome: bool | str = self.pool.add(tx(sender, nonce, fee, variant), self.state[sender])
        except TransactionRejectedError as exc:
            outcome = exc.kind
        assert outcome == expected
        if outcome is True:
            self.model[sender][nonce] = Pooled(fee, variant, self.arrivals)
            self.arrivals += 1

    @precondition(lambda self: any(self.model.values()))
    @rule(data=st.data())
    def replace(self, data: st.DataObject) -> None:
        """A targeted replacement of a pooled transaction (random `add` rarely hits one)."""
        sender = data.draw(st.sampled_from([s for s, q in self.model.items() if q]))
        nonce = data.draw(st.sampled_from(sorted(self.model[sender])))
        fee = data.draw(st.integers(min_value=0, max_value=self.model[sender][nonce].fee + 1))
        self.add(sender, nonce, fee, 1 - self.model[sender][nonce].variant)

    @rule(
        picks=st.lists(
            st.tuples(st.sampled_from(range(SENDERS)), NONCES, FEES, st.integers(0, 1)),
            min_size=1,
            max_size=4,
        ),
        pooled_too=st.booleans(),
    )
    def remove(self, picks: list[tuple[int, int, int, int]], pooled_too: bool) -> None:
        """Removes random transactions (mostly unknown ones) and, with pooled_too, a pooled one."""
        if pooled_too:
            sender, queue = max(self.model.items(), key=lambda item: len(item[1]))
            if queue:
                nonce = min(queue)
                picks = [*picks, (sender, nonce, queue[nonce].fee, queue[nonce].variant)]
        self.pool.remove([tx(*pick) for pick in picks])
        for sender, nonce, fee, variant in picks:
            pooled = self.model[sender].get(nonce)
            if pooled is not None and (pooled.fee, pooled.variant) == (fee, variant):
                del self.model[sender][nonce]

    @rule(sender=st.sampled_from(range(SENDERS)), by=st.integers(min_value=0, max_value=3))
    def advance_state_nonce(self, sender: int, by: int) -> None:
        """A block used `by` of the sender's nonces (without pruning the pool)."""
        self.state[sender] += by

    @rule()
    def prune(self) -> None:
        self.pool.prune(self.nonce_of)
        for sender, queue in self.model.items():
            for nonce in [n for n in queue if n < self.state[sender]]:
                del queue[nonce]

    def expected_executable(self) -> list[SignedTransactionAPI]:
        runs: list[list[tuple[int, SignedTransactionAPI]]] = []
        for sender, queue in self.model.items():
            run, nonce = [], self.state[sender]
            while nonce in queue:
                run.append((queue[nonce].arrival, queue[nonce].tx(sender, nonce)))
                nonce += 1
            if run:
                runs.append(run)
        order: list[SignedTransactionAPI] = []
        while runs:  # the run whose next transaction arrived first goes next
            first = min(runs, key=lambda run: run[0][0])
            order.append(first.pop(0)[1])
            if not first:
                runs.remove(first)
        return order

    @rule(limit=st.integers(min_value=0, max_value=12))
    def executable_with_limit(self, limit: int) -> None:
        assert hashes(self.pool.executable(self.nonce_of, limit)) == hashes(
            self.expected_executable()[:limit]
        )

    @invariant()
    def agrees_with_the_model(self) -> None:
        expected = self.expected_executable()
        assert hashes(self.pool.executable(self.nonce_of, 1000)) == hashes(expected)
        total = sum(len(q) for q in self.model.values())
        assert len(self.pool) == total
        pending = 0
        for sender, queue in self.model.items():
            run_end = self.state[sender]
            while run_end in queue:
                run_end += 1
            pending += run_end - self.state[sender]
            assert self.pool.pending_nonce(address(sender), self.state[sender]) == run_end
            for nonce, pooled in queue.items():
                assert self.pool.get(bytes(pooled.tx(sender, nonce).hash)) is not None
        assert pending == len(expected)
        assert self.pool.stats(self.nonce_of) == (pending, total - pending)


PoolMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestPoolAgainstModel = PoolMachine.TestCase


def test_the_model_test_sees_a_broken_pool() -> None:
    """The state machine can fail: a pool whose replacements keep the old arrival must be caught."""

    class StickyArrivalPool(TxPool):
        def add(self, transaction: SignedTransactionAPI, state_nonce: int) -> bool:
            queue = self._by_sender.get(bytes(transaction.sender), {})
            old = queue.get(int(transaction.nonce))
            added = super().add(transaction, state_nonce)
            if added and old is not None:
                queue[int(transaction.nonce)].arrival = old.arrival
            return added

    class BrokenMachine(PoolMachine):
        def __init__(self) -> None:
            super().__init__()
            self.pool = StickyArrivalPool(LIMITS)

    broken_settings = settings(
        max_examples=300,
        stateful_step_count=30,
        deadline=None,
        phases=[Phase.generate],  # finding the failure is the point; shrinking it is not
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    with pytest.raises(AssertionError):
        run_state_machine_as_test(BrokenMachine, settings=broken_settings)
