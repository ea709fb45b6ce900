"""Conformance tests of how WeighingLedger reads its calldata: each record is copied and hashed in
place (so a value that does not fit its field must be refused, as the ABI decoder would), and each
scale's role is asked of the Consortium once per batch (so a batch mixing many scales must still
judge every item by its own scale).

See weighing_support for how the tests share the deployment.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3.contract import Contract
from web3.types import TxParams

from contracts.errors import decode_error
from contracts.founding import Role
from ledger.records import Weighing
from tests.contracts.harness import Deployment, revert_data, weighing
from tests.contracts.weighing_support import (
    Reason,
    _valid,
    batch_fn,
    expected_recorded,
    gateway,
    is_recorded,
    last_seq,
    record_count,
    recorded_events,
    rejected_events,
    send,
    sign,
    submit_fn,
)
from tests.contracts.weighing_support import foreign_scale as foreign_scale  # a pytest fixture
from tests.contracts.weighing_support import scale as scale  # a pytest fixture

WORD = 32
# Field index in the Weighing struct -> a value one bit too wide for the field's type.
TOO_WIDE = {
    "scale": (1, 1 << 160),
    "seq": (2, 1 << 64),
    "measuredAt": (3, 1 << 64),
    "timeSynced": (4, 2),
    "grossKg": (5, 1 << 32),
    "tareKg": (6, 1 << 32),
    "netKg": (7, 1 << 32),
    "tareMode": (8, 1 << 8),
    "avvCode": (9, 1 << 32),
    "statusFlags": (13, 1 << 16),
}


def _patched(data: bytes, word: int, extra: int) -> bytes:
    start = 4 + word * WORD
    value = int.from_bytes(data[start : start + WORD], "big") | extra
    return data[:start] + value.to_bytes(WORD, "big") + data[start + WORD :]


def _call_error(d: Deployment, data: bytes) -> tuple[str, dict[str, Any]]:
    params: TxParams = {"from": gateway(d).address, "to": d.weighing.address, "data": data}
    try:
        d.w3.eth.call(params)
    except Exception as exc:
        raw = revert_data(exc)
        assert raw is not None, exc
        return decode_error(raw)
    raise AssertionError("the call did not revert")


def _send_raw_data(d: Deployment, data: bytes) -> int:
    params: TxParams = {"from": gateway(d).address, "to": d.weighing.address, "data": data, "gas": 2_000_000}
    receipt = d.w3.eth.wait_for_transaction_receipt(d.w3.eth.send_transaction(params), timeout=60)
    return int(receipt["status"])


@pytest.mark.parametrize("field", list(TOO_WIDE))
def test_batch_item_with_a_value_too_wide_for_its_field_reverts_the_transaction(
    deployment: Deployment, scale: LocalAccount, field: str
) -> None:
    d = deployment
    items = [_valid(d, scale, 1), _valid(d, scale, 2)]
    data = bytes.fromhex(batch_fn(d, items)._encode_transaction_data()[2:])
    offset = int.from_bytes(data[4 : 4 + WORD], "big") // WORD  # the head word of ws
    index, extra = TOO_WIDE[field]
    # ws: length word, then 14 words per item; dirty the second item's field
    patched = _patched(data, offset + 1 + 14 + index, extra)
    count = record_count(d)
    assert _call_error(d, patched) == ("NonCanonicalWeighing", {"recordId": items[1][0].record_id})
    assert _send_raw_data(d, patched) == 0
    assert record_count(d) == count
    assert not any(is_recorded(d, w.record_id) for w, _ in items)
    # the same bytes with clean fields are recorded
    assert _send_raw_data(d, data) == 1
    assert last_seq(d, scale.address) == 2


@pytest.mark.parametrize("field", ["timeSynced", "avvCode", "statusFlags"])
def test_single_submit_check_and_hash_refuse_a_value_too_wide_for_its_field(
    deployment: Deployment, scale: LocalAccount, field: str
) -> None:
    d = deployment
    w, signature = _valid(d, scale, 1)
    index, extra = TOO_WIDE[field]
    for fn in (
        submit_fn(d, w, signature),
        d.weighing.functions.check(w.as_abi(), signature),
        d.weighing.functions.hashWeighing(w.as_abi()),
    ):
        data = _patched(bytes.fromhex(fn._encode_transaction_data()[2:]), index, extra)
        assert _call_error(d, data) == ("NonCanonicalWeighing", {"recordId": w.record_id})
    assert not is_recorded(d, w.record_id)


def test_widest_values_that_fit_are_accepted(deployment: Deployment, scale: LocalAccount) -> None:
    d = deployment
    w = weighing(scale.address, 1, time_synced=True, avv_code=2**32 - 1, status_flags=2**16 - 1)
    receipt = send(d, batch_fn(d, [(w, sign(d, w, scale))]), gateway(d))
    assert recorded_events(d, receipt) == [expected_recorded(d, w, False)]


def test_batch_mixing_scales_judges_every_item_by_its_own_scale(
    deployment: Deployment, scale: LocalAccount, foreign_scale: LocalAccount
) -> None:
    """Interleaves a valid scale, an account that is no scale, a scale of another city and a scale
    whose calibration ended before the measurement, three rounds each, in one batch."""
    d = deployment
    not_a_scale = d.new_account()
    expiring = d.new_scale("aachen", valid_for=3600)
    late_ms = (d.backend.chain_time() + 7200) * 1000
    plan: list[tuple[LocalAccount, dict[str, Any], Reason]] = [
        (scale, {}, Reason.NONE),
        (not_a_scale, {}, Reason.NOT_A_SCALE),
        (foreign_scale, {}, Reason.WRONG_CITY),
        (expiring, {"measured_at": late_ms}, Reason.CALIBRATION_EXPIRED),
    ]
    items: list[tuple[Weighing, bytes, Reason]] = []
    for seq in (1, 2, 3):
        for signer, overrides, reason in plan:
            w = weighing(signer.address, seq, **overrides)
            items.append((w, sign(d, w, signer), reason))
    count = record_count(d)
    receipt = send(d, batch_fn(d, [(w, s) for w, s, _ in items]), gateway(d))
    assert recorded_events(d, receipt) == [
        expected_recorded(d, w, False) for w, _, reason in items if reason is Reason.NONE
    ]
    assert rejected_events(d, receipt) == [
        (w.record_id, w.scale, reason) for w, _, reason in items if reason is not Reason.NONE
    ]
    assert record_count(d) == count + 3
    assert last_seq(d, scale.address) == 3


def test_a_role_change_between_batches_is_seen_by_the_next_batch(
    deployment: Deployment, scale: LocalAccount
) -> None:
    d = deployment
    send(d, batch_fn(d, [_valid(d, scale, 1)]), gateway(d))
    d.transact(d.consortium.functions.removeAccount(scale.address), d.cities["aachen"].admin)
    w, signature = _valid(d, scale, 2)
    receipt = send(d, batch_fn(d, [(w, signature)]), gateway(d))
    assert rejected_events(d, receipt) == [(w.record_id, scale.address, Reason.NOT_A_SCALE)]


@pytest.fixture(scope="module")
def fixtures() -> dict[str, Any]:
    source = Path(__file__).parent / "fixtures" / "TwoBatchesInOneTransaction.sol"
    script = Path(__file__).parent / "fixtures" / "compile.js"
    out = subprocess.run(["node", str(script), str(source)], capture_output=True, text=True, check=True)  # noqa: S603, S607
    compiled: dict[str, Any] = json.loads(out.stdout)
    return compiled


def _deploy(d: Deployment, compiled: dict[str, Any], name: str) -> Contract:
    factory = d.w3.eth.contract(abi=compiled[name]["abi"], bytecode=compiled[name]["bytecode"])
    admin = d.cities["aachen"].admin
    tx = factory.constructor().transact({"from": admin.address, "gas": 2_000_000})
    address = d.w3.eth.wait_for_transaction_receipt(tx, timeout=60)["contractAddress"]
    contract = d.w3.eth.contract(address=address, abi=compiled[name]["abi"])
    assert isinstance(contract, Contract)
    return contract


def test_a_role_change_between_two_batches_of_one_transaction_is_seen_by_the_second(
    deployment: Deployment, scale: LocalAccount, fixtures: dict[str, Any]
) -> None:
    """A gateway contract sends two batches in one transaction and has an admin contract remove the
    scale in between: the role cached for the first batch must not judge the second."""
    d = deployment
    admin = d.cities["aachen"].admin
    relay, twice = _deploy(d, fixtures, "CityAdminRelay"), _deploy(d, fixtures, "TwoBatchesInOneTransaction")
    d.transact(d.consortium.functions.setAccount(relay.address, Role.ADMIN, b"\0" * 32, 0), admin)
    d.transact(d.consortium.functions.setAccount(twice.address, Role.GATEWAY, b"\0" * 32, 0), admin)
    first, second = _valid(d, scale, 1), _valid(d, scale, 2)
    calls = [bytes.fromhex(batch_fn(d, [item])._encode_transaction_data()[2:]) for item in (first, second)]
    run = twice.functions.run(
        d.weighing.address, calls[0], relay.address, d.consortium.address, scale.address, calls[1]
    )
    receipt = send(d, run, gateway(d))
    assert recorded_events(d, receipt) == [expected_recorded(d, first[0], False)]
    assert rejected_events(d, receipt) == [(second[0].record_id, scale.address, Reason.NOT_A_SCALE)]
