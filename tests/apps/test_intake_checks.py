"""POST /v1/weighings, the checks of a signed record: each failing check is refused with its
status, code and field and changes nothing; values at the limits are accepted; a seq beyond the
database's integer range is answered without a 5xx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.apps.conftest import Weighbridge, assert_error, assert_refused, follow_up_is_accepted, now_ms, rid

DAY_MS = 86_400_000

CheckCase = tuple[Callable[[int], dict[str, Any]], int, str, str]
CHECKS: dict[str, CheckCase] = {
    "clock-skew": (lambda now: {"measured_at": now + 3_600_000}, 422, "clock_skew", "record.measuredAt"),
    "clock-skew-just-over": (
        lambda now: {"measured_at": now + 320_000},
        422,
        "clock_skew",
        "record.measuredAt",
    ),
    "too-old": (lambda now: {"measured_at": now - 31 * DAY_MS}, 422, "too_old", "record.measuredAt"),
    "net-not-gross-minus-tare": (lambda now: {"net_kg": 6001}, 422, "bad_net_weight", "record.netKg"),
    "net-too-small": (lambda now: {"net_kg": 5999}, 422, "bad_net_weight", "record.netKg"),
    "tare-over-gross": (
        lambda now: {"gross_kg": 1000, "tare_kg": 2000, "net_kg": 0},
        422,
        "bad_net_weight",
        "record.netKg",
    ),
    "gross-zero": (
        lambda now: {"gross_kg": 0, "tare_kg": 0, "net_kg": 0},
        422,
        "implausible_weight",
        "record.grossKg",
    ),
    "gross-over-60t": (
        lambda now: {"gross_kg": 60_001, "tare_kg": 0, "net_kg": 60_001},
        422,
        "implausible_weight",
        "record.grossKg",
    ),
    "tare-mode-2": (lambda now: {"tare_mode": 2}, 422, "bad_tare_mode", "record.tareMode"),
    "tare-mode-255": (lambda now: {"tare_mode": 255}, 422, "bad_tare_mode", "record.tareMode"),
    "avv-four-digits": (lambda now: {"avv_code": 9999}, 422, "bad_avv_code", "record.avvCode"),
    "avv-seven-digits": (lambda now: {"avv_code": 1_000_000}, 422, "bad_avv_code", "record.avvCode"),
    "avv-zero": (lambda now: {"avv_code": 0}, 422, "bad_avv_code", "record.avvCode"),
    "zero-record-id": (
        lambda now: {"record_id": b"\0" * 32},
        422,
        "zero_record_id",
        "record.recordId",
    ),
    "seq-zero": (lambda now: {"seq": 0}, 409, "seq_replay", "record.seq"),
}


@pytest.mark.parametrize("case", CHECKS.values(), ids=CHECKS.keys())
def test_a_signed_record_that_fails_a_check_is_refused_and_changes_nothing(
    weighbridge: Weighbridge, case: CheckCase
) -> None:
    overrides, status, code, field = case
    scale = weighbridge.scale()
    record = weighbridge.record(scale, **overrides(now_ms()))
    body = weighbridge.body(record, scale.key)
    assert_refused(weighbridge, body, status, code, field, (rid(record),))
    follow_up_is_accepted(weighbridge, scale)


def test_values_at_the_limits_are_accepted(weighbridge: Weighbridge) -> None:
    """The edges of every check, one after another on one scale (seq 1, 2, ...)."""
    scale = weighbridge.scale()
    now = now_ms()
    edges: list[dict[str, Any]] = [
        {"gross_kg": 60_000, "tare_kg": 0, "net_kg": 60_000},
        {"gross_kg": 1, "tare_kg": 1, "net_kg": 0},
        {"tare_mode": 1},
        {"avv_code": 10_101},  # AVV 01 01 01: six digits with a leading zero
        {"avv_code": 999_999},
        {"measured_at": now + 200_000},  # within the allowed clock skew
        {"measured_at": now - 29 * DAY_MS},  # within 30 days
        {"time_synced": False, "status_flags": 65_535},
    ]
    for seq, overrides in enumerate(edges, start=1):
        answer = weighbridge.accept(weighbridge.record(scale, seq, **overrides), scale)
        assert answer["status"] == "pending"
        assert answer["seqGap"] is False, overrides
    largest = weighbridge.record(scale, 2**63 - 1)  # the largest seq the service's database holds
    assert weighbridge.accept(largest, scale)["seqGap"] is True
    assert weighbridge.status(rid(largest)).json()["seqGap"] is True


def test_a_seq_beyond_the_databases_integer_range_is_answered_without_5xx(
    weighbridge: Weighbridge,
) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale, 2**63)
    before = weighbridge.outbox_total()
    reply = weighbridge.submit(record, scale)
    assert reply.status_code < 500, reply.text
    if reply.status_code == 202:
        assert weighbridge.status(rid(record)).status_code == 200
    else:
        assert_error(reply, reply.status_code, reply.json()["error"]["code"], "record.seq")
        assert weighbridge.outbox_total() == before
