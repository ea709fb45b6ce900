"""Helpers and fixtures shared by the WeighingLedger conformance tests (test_weighing_*.py).

The `deployment` is shared by every test of a module (once per backend) and the tests run in any
order, so each test makes its own scales and record ids and only ever compares counters with the
values it read itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD
from web3.types import TxReceipt

from contracts.founding import city_id
from ledger.records import Weighing
from tests.contracts.harness import Deployment, weighing


class Reason(IntEnum):
    """Mirrors WeighingLedger.Reason, in the contract's order."""

    NONE = 0
    BAD_SIGNATURE = 1
    NOT_A_SCALE = 2
    WRONG_CITY = 3
    CALIBRATION_EXPIRED = 4
    BAD_NET_WEIGHT = 5
    BAD_TARE_MODE = 6
    ZERO_RECORD_ID = 7
    DUPLICATE_RECORD = 8
    SEQ_REPLAY = 9


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
ZERO_ID = b"\0" * 32
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
# A fixed gas limit skips gas estimation, which eth-tester does by re-running the transaction many
# times (a 100-item batch: 3.7 s instead of 0.5 s; a single submit: 5x).
SEND_GAS = 25_000_000

# The deployment is module-scoped; `scale`-like fixtures are function-scoped on purpose: one scale
# per test, shared by that test's examples, which read its lastSeq instead of assuming a fresh one.
FUZZ = settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


# ------------------------------------------------------------------------------------ helpers


def gateway(d: Deployment, city: str = "aachen") -> LocalAccount:
    return d.cities[city].gateway


def sign(d: Deployment, w: Weighing, signer: LocalAccount) -> bytes:
    return w.sign(d.weighing_domain, signer.key)


def submit_fn(d: Deployment, w: Weighing, signature: bytes) -> ContractFunction:
    return d.weighing.functions.submit(w.as_abi(), signature)


def batch_fn(d: Deployment, items: list[tuple[Weighing, bytes]]) -> ContractFunction:
    return d.weighing.functions.submitBatch([w.as_abi() for w, _ in items], [sig for _, sig in items])


def check(d: Deployment, w: Weighing, signature: bytes) -> tuple[Reason, bool]:
    reason, seq_gap = d.weighing.functions.check(w.as_abi(), signature).call()
    return Reason(reason), bool(seq_gap)


def last_seq(d: Deployment, scale: str) -> int:
    return int(d.weighing.functions.lastSeq(scale).call())


def record_count(d: Deployment) -> int:
    return int(d.weighing.functions.recordCount().call())


def is_recorded(d: Deployment, record_id: bytes) -> bool:
    return bool(d.weighing.functions.isRecorded(record_id).call())


def entry(d: Deployment, record_id: bytes) -> tuple[bytes, str, int, int]:
    digest, scale, seq, block_number = d.weighing.functions.getWeighing(record_id).call()
    return bytes(digest), str(scale), int(seq), int(block_number)


def calibrated_until(d: Deployment, account: LocalAccount) -> int:
    return int(d.consortium.functions.roleOf(account.address).call()[2])


def send(d: Deployment, fn: ContractFunction, sender: LocalAccount) -> TxReceipt:
    """Deployment.transact with a fixed gas limit instead of an estimate (see SEND_GAS)."""
    tx_hash = fn.transact({"from": sender.address, "gas": SEND_GAS})
    receipt = d.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
    assert receipt["status"] == 1, f"transaction {fn.fn_name} failed"
    return receipt


def send_reverting(d: Deployment, fn: ContractFunction, sender: LocalAccount) -> None:
    """Really sends `fn` (no eth_call) and asserts that the mined transaction reverted."""
    tx_hash = fn.transact({"from": sender.address, "gas": 1_000_000})
    receipt = d.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
    assert receipt["status"] == 0, f"transaction {fn.fn_name} did not revert"


def record(d: Deployment, scale: LocalAccount, seq: int, **overrides: Any) -> Weighing:
    """Submits a valid weighing of `scale` through its city's gateway."""
    w = weighing(scale.address, seq, **overrides)
    send(d, submit_fn(d, w, sign(d, w, scale)), gateway(d))
    assert is_recorded(d, w.record_id)
    return w


@dataclass(frozen=True)
class Recorded:
    """The arguments of a WeighingRecorded event."""

    record_id: bytes
    scale: str
    city: bytes
    seq: int
    seq_gap: bool
    digest: bytes


def expected_recorded(d: Deployment, w: Weighing, seq_gap: bool, city: str = "aachen") -> Recorded:
    return Recorded(w.record_id, w.scale, city_id(city), w.seq, seq_gap, w.digest(d.weighing_domain))


def recorded_events(d: Deployment, receipt: TxReceipt) -> list[Recorded]:
    events = d.weighing.events.WeighingRecorded().process_receipt(receipt, errors=DISCARD)
    return [
        Recorded(
            bytes(e["args"]["recordId"]),
            str(e["args"]["scale"]),
            bytes(e["args"]["city"]),
            int(e["args"]["seq"]),
            bool(e["args"]["seqGap"]),
            bytes(e["args"]["digest"]),
        )
        for e in events
    ]


def rejected_events(d: Deployment, receipt: TxReceipt) -> list[tuple[bytes, str, Reason]]:
    events = d.weighing.events.WeighingRejected().process_receipt(receipt, errors=DISCARD)
    return [
        (bytes(e["args"]["recordId"]), str(e["args"]["scale"]), Reason(e["args"]["reason"])) for e in events
    ]


def submit_expecting(
    d: Deployment, w: Weighing, signature: bytes, reason: Reason, seq_gap: bool = False
) -> None:
    """Submits `w` through aachen's gateway: recorded (with the gap flag) if `reason` is NONE, else
    refused with WeighingInvalid(recordId, reason). check() must predict the same outcome."""
    assert check(d, w, signature) == (reason, seq_gap)
    fn = submit_fn(d, w, signature)
    if reason is Reason.NONE:
        count = record_count(d)
        receipt = send(d, fn, gateway(d))
        assert recorded_events(d, receipt) == [expected_recorded(d, w, seq_gap)]
        assert entry(d, w.record_id) == (w.digest(d.weighing_domain), w.scale, w.seq, receipt["blockNumber"])
        assert (record_count(d), last_seq(d, w.scale)) == (count + 1, w.seq)
    else:
        args = d.expect_revert(fn, gateway(d), "WeighingInvalid")
        assert args == {"recordId": w.record_id, "reason": reason}


@dataclass(frozen=True)
class Snapshot:
    last_seq: int
    record_count: int
    recorded: bool
    entry: tuple[bytes, str, int, int]


def snapshot(d: Deployment, w: Weighing) -> Snapshot:
    return Snapshot(last_seq(d, w.scale), record_count(d), is_recorded(d, w.record_id), entry(d, w.record_id))


def _valid(d: Deployment, s: LocalAccount, seq: int = 1, **overrides: Any) -> tuple[Weighing, bytes]:
    w = weighing(s.address, seq, **overrides)
    return w, sign(d, w, s)


SENDERS: dict[str, Callable[[Deployment, LocalAccount], LocalAccount]] = {
    "admin": lambda d, s: d.cities["aachen"].admin,
    "clerk": lambda d, s: d.cities["aachen"].clerk,
    "scale": lambda d, s: s,
    "outsider": lambda d, s: d.outsider,
    "admin-of-other-city": lambda d, s: d.cities["gelsenkirchen"].admin,
}


def _uint(bits: int) -> st.SearchStrategy[int]:
    return st.integers(0, 2**bits - 1)


# ----------------------------------------------------------------------------------- fixtures


@pytest.fixture
def scale(deployment: Deployment) -> LocalAccount:
    """A fresh scale of aachen, calibrated for a year."""
    return deployment.new_scale("aachen")


@pytest.fixture
def foreign_scale(deployment: Deployment) -> LocalAccount:
    """A fresh scale of gelsenkirchen, which aachen's gateway may not submit for."""
    return deployment.new_scale("gelsenkirchen")


@pytest.fixture
def recorded_scale(deployment: Deployment) -> tuple[LocalAccount, Weighing]:
    """A fresh scale of aachen with one weighing (seq 1) already recorded."""
    s = deployment.new_scale("aachen")
    return s, record(deployment, s, 1)
