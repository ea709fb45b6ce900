"""Conformance tests of WeighingLedger's sequence numbers (gaps are flagged, replays refused), of
check() as a dry run, and of submitBatch, which records the valid items and rejects each invalid
one with an event; with property tests of both against reference models.

See weighing_support for how the tests share the deployment.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from ledger.records import Weighing
from tests.contracts.harness import Deployment, weighing
from tests.contracts.weighing_support import (
    FUZZ,
    SENDERS,
    UINT64_MAX,
    ZERO_ID,
    Reason,
    _valid,
    batch_fn,
    calibrated_until,
    check,
    entry,
    expected_recorded,
    gateway,
    is_recorded,
    last_seq,
    record_count,
    recorded_events,
    rejected_events,
    send,
    sign,
    snapshot,
    submit_expecting,
    submit_fn,
)
from tests.contracts.weighing_support import foreign_scale as foreign_scale  # a pytest fixture
from tests.contracts.weighing_support import recorded_scale as recorded_scale  # a pytest fixture
from tests.contracts.weighing_support import scale as scale  # a pytest fixture

# --------------------------------------------------------------------------- seq and check()


@pytest.mark.parametrize(
    ("seqs", "gaps"),
    [
        pytest.param((1, 2, 3), (False, False, False), id="consecutive"),
        pytest.param((1, 5), (False, True), id="1-then-5"),
        pytest.param((4,), (True,), id="first-seq-not-1"),
        pytest.param((1, 2, 10, 11), (False, False, True, False), id="gap-then-consecutive"),
    ],
)
def test_seq_gap_is_accepted_and_flagged_only_when_seq_skips(
    deployment: Deployment, scale: LocalAccount, seqs: tuple[int, ...], gaps: tuple[bool, ...]
) -> None:
    d = deployment
    for seq, gap in zip(seqs, gaps, strict=True):
        w, signature = _valid(d, scale, seq)
        submit_expecting(d, w, signature, Reason.NONE, seq_gap=gap)
        assert last_seq(d, scale.address) == seq


def test_seq_at_uint64_max_is_accepted_and_then_everything_is_a_replay(
    deployment: Deployment, scale: LocalAccount
) -> None:
    d = deployment
    submit_expecting(d, *_valid(d, scale, UINT64_MAX), Reason.NONE, seq_gap=True)
    assert last_seq(d, scale.address) == UINT64_MAX
    for seq in (UINT64_MAX, 1):
        submit_expecting(d, *_valid(d, scale, seq), Reason.SEQ_REPLAY)


def test_check_is_a_dry_run_that_records_nothing(deployment: Deployment, scale: LocalAccount) -> None:
    d = deployment
    w, signature = _valid(d, scale, 1)
    gapped, gapped_signature = _valid(d, scale, 3)
    before = snapshot(d, w)

    assert check(d, w, signature) == (Reason.NONE, False)
    assert check(d, w, signature) == (Reason.NONE, False)
    assert check(d, gapped, gapped_signature) == (Reason.NONE, True)
    assert snapshot(d, w) == before
    assert not is_recorded(d, gapped.record_id)

    send(d, submit_fn(d, w, signature), gateway(d))
    assert check(d, w, signature) == (Reason.DUPLICATE_RECORD, False)
    assert check(d, *_valid(d, scale, 1)) == (Reason.SEQ_REPLAY, False)
    assert check(d, gapped, gapped_signature) == (Reason.NONE, True)
    assert check(d, *_valid(d, scale, 2)) == (Reason.NONE, False)


# --------------------------------------------------------------------------------- submitBatch


@pytest.mark.parametrize(("n_records", "n_signatures"), [(2, 1), (1, 2), (0, 1), (1, 0)])
def test_batch_with_unequal_lengths_reverts_length_mismatch(
    deployment: Deployment, scale: LocalAccount, n_records: int, n_signatures: int
) -> None:
    d = deployment
    items = [_valid(d, scale, seq) for seq in range(1, max(n_records, n_signatures) + 1)]
    fn = d.weighing.functions.submitBatch(
        [w.as_abi() for w, _ in items[:n_records]], [sig for _, sig in items[:n_signatures]]
    )
    args = d.expect_revert(fn, gateway(d), "LengthMismatch")
    assert args == {"records": n_records, "signatures": n_signatures}


@pytest.mark.parametrize("n_items", [0, 2])
@pytest.mark.parametrize("sender_name", SENDERS)
def test_batch_only_by_a_gateway(
    deployment: Deployment, scale: LocalAccount, sender_name: str, n_items: int
) -> None:
    d = deployment
    sender = SENDERS[sender_name](d, scale)
    items = [_valid(d, scale, seq) for seq in range(1, n_items + 1)]
    args = d.expect_revert(batch_fn(d, items), sender, "NotAGateway")
    assert to_checksum_address(args["sender"]) == sender.address
    assert int(batch_fn(d, items).call({"from": gateway(d).address})) == n_items


@dataclass
class BatchPlan:
    """A batch for one scale together with what the contract must make of it."""

    d: Deployment
    scale: LocalAccount
    foreign: LocalAccount  # a scale of another city
    last_seq: int
    known: dict[bytes, bytes]  # record id -> digest of what is (or will be) recorded under it
    until: int = 0
    items: list[tuple[Weighing, bytes]] = field(default_factory=list)
    recorded: list[tuple[Weighing, bool]] = field(default_factory=list)
    rejected: list[tuple[bytes, str, Reason]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.until = calibrated_until(self.d, self.scale)

    def add(self, kind: Reason, step: int = 1) -> None:
        """Appends an item that is valid (NONE, `step` after the last seq) or fails only by `kind`."""
        d, s = self.d, self.scale
        signer = s
        w = weighing(s.address, self.last_seq + (step if kind is Reason.NONE else 1))
        if kind is Reason.BAD_SIGNATURE:
            signer = self.foreign
        elif kind is Reason.NOT_A_SCALE:
            signer = d.cities["aachen"].clerk
            w = weighing(signer.address, 1)
        elif kind is Reason.WRONG_CITY:
            signer = self.foreign
            w = weighing(signer.address, 1)
        elif kind is Reason.CALIBRATION_EXPIRED:
            w = replace(w, measured_at=(self.until + 1) * 1000)
        elif kind is Reason.BAD_NET_WEIGHT:
            w = replace(w, net_kg=w.net_kg + 1)
        elif kind is Reason.BAD_TARE_MODE:
            w = replace(w, tare_mode=2)
        elif kind is Reason.ZERO_RECORD_ID:
            w = replace(w, record_id=ZERO_ID)
        elif kind is Reason.DUPLICATE_RECORD:
            w = replace(w, record_id=list(self.known)[-1])
        elif kind is Reason.SEQ_REPLAY:
            w = replace(w, seq=self.last_seq)
        self.items.append((w, sign(d, w, signer)))
        if kind is Reason.NONE:
            self.recorded.append((w, step != 1))
            self.last_seq = w.seq
            self.known[w.record_id] = w.digest(d.weighing_domain)
        else:
            self.rejected.append((w.record_id, w.scale, kind))

    def run(self) -> None:
        """Sends the batch through aachen's gateway and checks every outcome."""
        d = self.d
        fn = batch_fn(d, self.items)
        count = record_count(d)
        assert int(fn.call({"from": gateway(d).address})) == len(self.recorded)

        receipt = send(d, fn, gateway(d))

        assert recorded_events(d, receipt) == [expected_recorded(d, w, gap) for w, gap in self.recorded]
        assert rejected_events(d, receipt) == self.rejected
        assert record_count(d) == count + len(self.recorded)
        assert last_seq(d, self.scale.address) == self.last_seq
        assert last_seq(d, self.foreign.address) == 0
        for w, _ in self.recorded:
            assert entry(d, w.record_id) == (self.known[w.record_id], w.scale, w.seq, receipt["blockNumber"])
        for record_id, _, _ in self.rejected:
            if record_id in self.known:  # a duplicate keeps the first record
                assert entry(d, record_id)[0] == self.known[record_id]
            else:
                assert not is_recorded(d, record_id)


def plan_for(
    d: Deployment, recorded_scale: tuple[LocalAccount, Weighing], foreign: LocalAccount
) -> BatchPlan:
    s, first = recorded_scale
    return BatchPlan(
        d, s, foreign, last_seq(d, s.address), {first.record_id: first.digest(d.weighing_domain)}
    )


def test_batch_records_the_valid_items_and_rejects_each_invalid_one_with_an_event(
    deployment: Deployment, recorded_scale: tuple[LocalAccount, Weighing], foreign_scale: LocalAccount
) -> None:
    plan = plan_for(deployment, recorded_scale, foreign_scale)
    for kind in Reason:
        plan.add(kind)
        plan.add(Reason.NONE)
    assert len(plan.rejected) == len(Reason) - 1
    plan.run()


@pytest.mark.parametrize("same_seq", [False, True], ids=["new-seq", "same-record"])
def test_batch_duplicate_within_the_batch_is_rejected(
    deployment: Deployment, scale: LocalAccount, same_seq: bool
) -> None:
    d = deployment
    first = weighing(scale.address, 1)
    second = first if same_seq else replace(first, seq=2)
    receipt = send(d, batch_fn(d, [(w, sign(d, w, scale)) for w in (first, second)]), gateway(d))
    assert recorded_events(d, receipt) == [expected_recorded(d, first, False)]
    assert rejected_events(d, receipt) == [(first.record_id, scale.address, Reason.DUPLICATE_RECORD)]
    assert entry(d, first.record_id)[:3] == (first.digest(d.weighing_domain), scale.address, 1)
    assert last_seq(d, scale.address) == 1


@pytest.mark.parametrize(
    ("seqs", "outcomes"),
    [
        pytest.param((1, 2, 3), [(Reason.NONE, False)] * 3, id="ascending"),
        pytest.param((2, 1), [(Reason.NONE, True), (Reason.SEQ_REPLAY, False)], id="descending"),
        pytest.param(
            (1, 3, 3, 4),
            [(Reason.NONE, False), (Reason.NONE, True), (Reason.SEQ_REPLAY, False), (Reason.NONE, False)],
            id="gap-repeat-resume",
        ),
        pytest.param((0, 1), [(Reason.SEQ_REPLAY, False), (Reason.NONE, False)], id="zero-then-one"),
    ],
)
def test_batch_applies_seq_rules_in_item_order(
    deployment: Deployment, scale: LocalAccount, seqs: tuple[int, ...], outcomes: list[tuple[Reason, bool]]
) -> None:
    d = deployment
    items = [_valid(d, scale, seq) for seq in seqs]
    receipt = send(d, batch_fn(d, items), gateway(d))
    expected = list(zip(items, outcomes, strict=True))
    assert recorded_events(d, receipt) == [
        expected_recorded(d, w, gap) for (w, _), (reason, gap) in expected if reason is Reason.NONE
    ]
    assert rejected_events(d, receipt) == [
        (w.record_id, w.scale, reason) for (w, _), (reason, _) in expected if reason is not Reason.NONE
    ]
    assert last_seq(d, scale.address) == max(seqs)


def test_batch_of_100_valid_weighings_records_all_of_them(
    deployment: Deployment, scale: LocalAccount
) -> None:
    d = deployment
    items = [_valid(d, scale, seq) for seq in range(1, 101)]
    fn = batch_fn(d, items)
    count = record_count(d)
    assert int(fn.call({"from": gateway(d).address})) == 100
    receipt = send(d, fn, gateway(d))
    assert recorded_events(d, receipt) == [expected_recorded(d, w, False) for w, _ in items]
    assert rejected_events(d, receipt) == []
    assert record_count(d) == count + 100
    assert last_seq(d, scale.address) == 100
    assert all(is_recorded(d, w.record_id) for w, _ in items)


@pytest.mark.parametrize("n_items", [0, 3])
def test_batch_without_valid_items_succeeds_and_records_nothing(
    deployment: Deployment, scale: LocalAccount, n_items: int
) -> None:
    d = deployment
    items = [_valid(d, scale, seq, tare_mode=2) for seq in range(1, n_items + 1)]
    fn = batch_fn(d, items)
    count = record_count(d)
    assert int(fn.call({"from": gateway(d).address})) == 0
    receipt = send(d, fn, gateway(d))
    assert recorded_events(d, receipt) == []
    assert rejected_events(d, receipt) == [(w.record_id, w.scale, Reason.BAD_TARE_MODE) for w, _ in items]
    assert record_count(d) == count
    assert last_seq(d, scale.address) == 0


# ------------------------------------------------------------------------------------ properties


@FUZZ
@given(seqs=st.lists(st.integers(0, 10), min_size=1, max_size=6))
def test_property_seq_numbers_follow_the_reference_model(deployment: Deployment, seqs: list[int]) -> None:
    d = deployment
    s = d.new_scale("aachen")
    last = 0  # the model: the last accepted seq
    for seq in seqs:
        accepted = seq > last
        reason = Reason.NONE if accepted else Reason.SEQ_REPLAY
        submit_expecting(d, *_valid(d, s, seq), reason, seq_gap=accepted and seq != last + 1)
        if accepted:
            last = seq
        assert last_seq(d, s.address) == last


@FUZZ
@given(kinds=st.lists(st.tuples(st.sampled_from(Reason), st.integers(1, 3)), min_size=1, max_size=12))
def test_property_batch_records_exactly_the_valid_items(
    deployment: Deployment,
    recorded_scale: tuple[LocalAccount, Weighing],
    foreign_scale: LocalAccount,
    kinds: list[tuple[Reason, int]],
) -> None:
    plan = plan_for(deployment, recorded_scale, foreign_scale)
    for kind, step in kinds:
        plan.add(kind, step)
    plan.run()
