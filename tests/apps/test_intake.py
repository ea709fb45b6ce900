"""POST /v1/weighings: every refusal with its status, code and field (and that it changes nothing),
acceptance at the limits, idempotent resends, seq gaps and batches."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount

from devnet.keys import dev_account
from devnet.network import pid_alive, start_weighing_service
from ledger.events import decode_rpc_log, topic_of
from ledger.records import Weighing, domain_for, salted_ref
from ledger.rpc import RpcClient
from tests.apps.conftest import TIMEOUT, Weighbridge, assert_error, assert_refused, now_ms, rid
from tests.support.devnet import free_port_block

DAY_MS = 86_400_000
FIELD_NAMES = [wire for wire, _ in Weighing.FIELDS]


def follow_up_is_accepted(wb: Weighbridge, scale: LocalAccount, seq: int = 1) -> None:
    """After a refusal, a valid record with the same seq is accepted without a gap: the refused
    record used up nothing."""
    answer = wb.accept(wb.record(scale, seq), scale)
    assert answer["status"] == "pending"
    assert answer["seqGap"] is False


# ------------------------------------------------------------ the body


@pytest.mark.parametrize(
    "data",
    [
        b"{",
        b"",
        b'{"record": }',
        b"\xc3\x28",
    ],
    ids=["truncated", "empty", "syntax", "not-utf8"],
)
def test_malformed_json_is_400_invalid_json(weighbridge: Weighbridge, data: bytes) -> None:
    before = weighbridge.outbox_total()
    assert_error(weighbridge.post_raw(data), 400, "invalid_json")
    assert weighbridge.outbox_total() == before


def test_json_nested_too_deep_is_400_and_the_service_lives_on(weighbridge: Weighbridge) -> None:
    # A service of its own (gelsenkirchen's, on the same chain): the bug takes the process down.
    pid, url = start_weighing_service(weighbridge.data_dir, "gelsenkirchen", free_port_block(1))
    try:
        depth = 100_001  # one more than the recursion limit in the service process
        body = b"[" * depth + b"]" * depth
        reply: requests.Response | None
        try:
            reply = requests.post(f"{url}/v1/weighings", data=body, timeout=TIMEOUT)
        except requests.ConnectionError:
            reply = None
        time.sleep(0.5)
        assert pid_alive(pid), "the weighing service process died"
        assert reply is not None
        assert_error(reply, 400, "invalid_json")
    finally:
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            while pid_alive(pid):
                time.sleep(0.05)


def test_a_body_over_two_mebibytes_is_413(weighbridge: Weighbridge) -> None:
    before = weighbridge.outbox_total()
    assert_error(weighbridge.post_raw(b" " * (2 * 1024 * 1024 + 1)), 413, "too_large")
    assert weighbridge.outbox_total() == before


@pytest.mark.parametrize("data", [b"42", b'"record"', b"null", b"true", b"1.5"])
def test_a_body_that_is_not_an_object_is_422_invalid_body(weighbridge: Weighbridge, data: bytes) -> None:
    before = weighbridge.outbox_total()
    assert_error(weighbridge.post_raw(data), 422, "invalid_body")
    assert weighbridge.outbox_total() == before


def test_an_unknown_top_level_field_is_named(weighbridge: Weighbridge) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    body = weighbridge.body(record, scale.key) | {"zeta": 1, "extra": True}
    assert_refused(weighbridge, body, 422, "unknown_field", "extra", (rid(record),))  # the first, sorted
    follow_up_is_accepted(weighbridge, scale)


def test_a_missing_or_non_object_record_is_refused(weighbridge: Weighbridge) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    body = weighbridge.body(record, scale.key)
    before = weighbridge.outbox_total()
    for payload in ({"signature": body["signature"]}, body | {"record": [body["record"]]}, {}):
        reply = weighbridge.post(payload)
        assert reply.status_code == 422, reply.text
        error = reply.json()["error"]
        assert error["code"] == "invalid_field"
        assert str(error["field"]).startswith("record")  # the exact name: see the test below
    assert weighbridge.outbox_total() == before
    assert_error(weighbridge.status(rid(record)), 404, "not_found", "recordId")
    follow_up_is_accepted(weighbridge, scale)


def test_a_missing_record_names_the_field_record(weighbridge: Weighbridge) -> None:
    assert_error(weighbridge.post({"signature": "0x" + "00" * 65}), 422, "invalid_field", "record")


WRONG_TYPES: list[tuple[str, Any]] = [
    ("recordId", 12345),
    ("recordId", "0x1234"),
    ("recordId", "0x" + "zz" * 32),
    ("scale", "0x123"),
    ("scale", 5),
    ("seq", "1"),
    ("seq", -1),
    ("seq", 2**64),
    ("measuredAt", 1.7e12),
    ("measuredAt", None),
    ("timeSynced", 1),
    ("timeSynced", "true"),
    ("grossKg", "18000"),
    ("grossKg", 2**32),
    ("tareKg", None),
    ("tareKg", 12000.0),
    ("netKg", -1),
    ("netKg", True),
    ("tareMode", 256),
    ("tareMode", [0]),
    ("avvCode", "200301"),
    ("avvCode", {"code": 200301}),
    ("vehicleRef", "0x12"),
    ("vehicleRef", "ab" * 32),
    ("containerRef", "0x" + "zz" * 32),
    ("customerRef", 5),
    ("statusFlags", 65536),
    ("statusFlags", False),
]


@pytest.mark.parametrize(("name", "value"), WRONG_TYPES)
def test_a_record_field_of_the_wrong_type_is_422_with_its_name(
    weighbridge: Weighbridge, name: str, value: Any
) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    body = weighbridge.body(record, scale.key)
    body["record"][name] = value
    assert_refused(weighbridge, body, 422, "invalid_field", f"record.{name}", (rid(record),))


@pytest.mark.parametrize("name", FIELD_NAMES)
def test_a_missing_record_field_is_422_with_its_name(weighbridge: Weighbridge, name: str) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    body = weighbridge.body(record, scale.key)
    del body["record"][name]
    error = assert_refused(weighbridge, body, 422, "invalid_field", f"record.{name}", (rid(record),))
    assert error["message"] == "missing"


def test_an_unknown_record_field_is_422_with_its_name(weighbridge: Weighbridge) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    body = weighbridge.body(record, scale.key)
    body["record"]["driver"] = "Hans"
    assert_refused(weighbridge, body, 422, "invalid_field", "record.driver", (rid(record),))


# ------------------------------------------------------------ signature


@pytest.mark.parametrize(
    "signature",
    [None, 5, "", "0x1234", "ab" * 66, "0X" + "ab" * 65, "0x" + "zz" * 65, "0x" + "ab" * 66],
    ids=["null", "number", "empty", "short", "no-0x", "0X", "not-hex", "66-bytes"],
)
def test_a_malformed_signature_is_422_invalid_field(weighbridge: Weighbridge, signature: Any) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    body = weighbridge.body(record, scale.key) | {"signature": signature}
    assert_refused(weighbridge, body, 422, "invalid_field", "signature", (rid(record),))


def test_a_missing_signature_is_422_invalid_field(weighbridge: Weighbridge) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    assert_refused(
        weighbridge, {"record": record.to_json()}, 422, "invalid_field", "signature", (rid(record),)
    )


def _other_key(wb: Weighbridge, record: Weighing, scale: LocalAccount) -> str:
    return wb.signature(record, os.urandom(32))


def _other_scale(wb: Weighbridge, record: Weighing, scale: LocalAccount) -> str:
    return wb.signature(record, wb.scales[0].key)  # a registered aachen scale, not this one


def _zero_bytes(wb: Weighbridge, record: Weighing, scale: LocalAccount) -> str:
    return "0x" + "00" * 65


def _other_domain(wb: Weighbridge, record: Weighing, scale: LocalAccount) -> str:
    contracts = wb.description["contracts"]
    domain = domain_for(Weighing, wb.description["chainId"], contracts["registry"])
    return "0x" + record.sign(domain, scale.key).hex()


def _other_chain(wb: Weighbridge, record: Weighing, scale: LocalAccount) -> str:
    domain = domain_for(Weighing, 1, wb.description["contracts"]["weighing"])
    return "0x" + record.sign(domain, scale.key).hex()


def _other_record(wb: Weighbridge, record: Weighing, scale: LocalAccount) -> str:
    return wb.signature(wb.record(scale, record.seq, record_id=record.record_id, net_kg=6001), scale.key)


@pytest.mark.parametrize(
    "forge", [_other_key, _other_scale, _zero_bytes, _other_domain, _other_chain, _other_record]
)
def test_a_signature_that_is_not_the_scales_is_422_bad_signature(
    weighbridge: Weighbridge, forge: Callable[[Weighbridge, Weighing, LocalAccount], str]
) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    body = {"record": record.to_json(), "signature": forge(weighbridge, record, scale)}
    assert_refused(weighbridge, body, 422, "bad_signature", "signature", (rid(record),))
    follow_up_is_accepted(weighbridge, scale)


# ---------------------------------------------------------------- scale


@pytest.mark.parametrize(
    "signer",
    [
        Account.from_key(b"\x42" * 32),  # registered nowhere
        dev_account("gelsenkirchen", "scale", 0),  # a registered scale, of another city
        dev_account("aachen", "gateway"),  # registered in aachen, but not as a scale
    ],
    ids=["unregistered", "other-city", "not-a-scale"],
)
def test_a_signer_that_is_not_a_scale_of_aachen_is_403_unknown_scale(
    weighbridge: Weighbridge, signer: LocalAccount
) -> None:
    record = weighbridge.record(signer)
    body = weighbridge.body(record, signer.key)
    error = assert_refused(weighbridge, body, 403, "unknown_scale", "record.scale", (rid(record),))
    assert signer.address in error["message"]


def test_a_measurement_after_the_calibration_expired_is_422(weighbridge: Weighbridge) -> None:
    until = int(now_ms() / 1000) - 3600  # expired an hour ago
    scale = weighbridge.register_scale(until)
    late = weighbridge.record(scale, measured_at=until * 1000 + 1000)
    assert_refused(
        weighbridge,
        weighbridge.body(late, scale.key),
        422,
        "calibration_expired",
        "record.measuredAt",
        (rid(late),),
    )
    # the last millisecond of the calibration's last second is still covered
    answer = weighbridge.accept(weighbridge.record(scale, measured_at=until * 1000 + 999), scale)
    assert answer["seqGap"] is False


# ------------------------------------------------------- record checks

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


# ---------------------------------------------------------- seq and ids


def test_a_used_seq_is_409_seq_replay(weighbridge: Weighbridge) -> None:
    scale = weighbridge.scale()
    weighbridge.accept(weighbridge.record(scale, 1), scale)
    weighbridge.accept(weighbridge.record(scale, 2), scale)
    for seq in (2, 1):
        again = weighbridge.record(scale, seq)
        error = assert_refused(
            weighbridge, weighbridge.body(again, scale.key), 409, "seq_replay", "record.seq", (rid(again),)
        )
        assert str(seq) in error["message"]
    assert weighbridge.accept(weighbridge.record(scale, 3), scale)["seqGap"] is False


def test_a_seq_gap_is_accepted_and_flagged_down_to_the_chain(weighbridge: Weighbridge) -> None:
    scale = weighbridge.scale()
    first = weighbridge.record(scale, 1)
    gapped = weighbridge.record(scale, 3)
    assert weighbridge.accept(first, scale)["seqGap"] is False
    assert weighbridge.accept(gapped, scale)["seqGap"] is True
    assert weighbridge.status(rid(gapped)).json()["seqGap"] is True
    late = weighbridge.record(scale, 2)  # the skipped seq cannot be filled in afterwards
    assert_refused(weighbridge, weighbridge.body(late, scale.key), 409, "seq_replay", "record.seq")
    after = weighbridge.record(scale, 4)
    assert weighbridge.accept(after, scale)["seqGap"] is False
    weighbridge.wait_state(rid(gapped))
    logs = RpcClient([weighbridge.rpc]).call(
        "eth_getLogs",
        [
            {
                "fromBlock": "0x0",
                "toBlock": "latest",
                "address": weighbridge.description["contracts"]["weighing"],
                "topics": ["0x" + topic_of("WeighingRecorded").hex(), rid(gapped)],
            }
        ],
    )
    assert len(logs) == 1
    decoded = decode_rpc_log(logs[0])
    assert decoded is not None
    assert decoded[1]["seq"] == 3 and decoded[1]["seqGap"] is True


def test_another_record_under_a_used_record_id_is_409(weighbridge: Weighbridge) -> None:
    scale, other = weighbridge.scale(), weighbridge.scale()
    first = weighbridge.record(scale, 1)
    weighbridge.accept(first, scale)
    same_scale = weighbridge.record(scale, 2, record_id=first.record_id)
    other_scale = weighbridge.record(other, 1, record_id=first.record_id)
    before = weighbridge.outbox_total()
    for record, signer in ((same_scale, scale), (other_scale, other)):
        assert_error(weighbridge.submit(record, signer), 409, "record_id_used", "record.recordId")
    assert weighbridge.outbox_total() == before
    stored = weighbridge.get("/v1/weighings", scale=scale.address).json()["items"]
    assert [item["seq"] for item in stored] == [1]
    follow_up_is_accepted(weighbridge, other, 1)
    assert weighbridge.accept(weighbridge.record(scale, 2), scale)["seqGap"] is False


def test_an_identical_resend_is_200_with_the_same_status(weighbridge: Weighbridge) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    body = weighbridge.body(record, scale.key)
    first = weighbridge.post(body)
    assert first.status_code == 202
    assert first.json()["recordId"] == rid(record)
    assert first.json()["status"] == "pending" and first.json()["seqGap"] is False
    total = weighbridge.outbox_total()
    again = weighbridge.post(body)
    assert again.status_code == 200, again.text
    assert again.json()["recordId"] == rid(record)
    assert again.json()["status"] in ("pending", "final")
    final = weighbridge.wait_state(rid(record))
    late = weighbridge.post(body)
    assert late.status_code == 200
    assert late.json() == final
    assert weighbridge.outbox_total() == total  # stored once


# ---------------------------------------------------------------- clear


@pytest.mark.parametrize("kind", ["vehicle", "container", "customer"])
def test_a_clear_value_that_does_not_hash_to_the_ref_is_422_ref_mismatch(
    weighbridge: Weighbridge, kind: str
) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    body = weighbridge.body(record, scale.key, {kind: "AC-XY 123"})
    assert_refused(weighbridge, body, 422, "ref_mismatch", f"clear.{kind}", (rid(record),))
    follow_up_is_accepted(weighbridge, scale)


def test_one_mismatching_clear_value_refuses_the_whole_record(weighbridge: Weighbridge) -> None:
    scale = weighbridge.scale()
    plate = "AC-GV 101"
    record = weighbridge.record(scale, vehicle_ref=salted_ref(weighbridge.salt, plate))
    body = weighbridge.body(record, scale.key, {"vehicle": plate, "customer": "Kunde 4711"})
    assert_refused(weighbridge, body, 422, "ref_mismatch", "clear.customer", (rid(record),))
    assert weighbridge.clear_value("0x" + record.vehicle_ref.hex()) is None


@pytest.mark.parametrize(
    ("clear", "field"),
    [
        ({"driver": "Hans"}, "clear.driver"),
        ({"vehicleRef": "AC-GV 101"}, "clear.vehicleRef"),
        ({"vehicle": 123}, "clear.vehicle"),
        ({"vehicle": ""}, "clear.vehicle"),
        ({"vehicle": "A" * 201}, "clear.vehicle"),
        ({"customer": None}, "clear.customer"),
        ("AC-GV 101", "clear"),
        (["AC-GV 101"], "clear"),
    ],
    ids=["unknown-kind", "ref-name", "number", "empty", "too-long", "null", "text", "list"],
)
def test_a_malformed_clear_part_is_422_invalid_field(
    weighbridge: Weighbridge, clear: Any, field: str
) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    body = weighbridge.body(record, scale.key) | {"clear": clear}
    assert_refused(weighbridge, body, 422, "invalid_field", field, (rid(record),))


def test_matching_clear_values_of_up_to_200_characters_are_kept(weighbridge: Weighbridge) -> None:
    scale = weighbridge.scale()
    plate, customer = "AC-GV 102", "K" * 200
    record = weighbridge.record(
        scale,
        vehicle_ref=salted_ref(weighbridge.salt, plate),
        customer_ref=salted_ref(weighbridge.salt, customer),
    )
    weighbridge.accept(record, scale, {"vehicle": plate, "customer": customer})
    assert weighbridge.clear_value("0x" + record.vehicle_ref.hex()) == plate
    assert weighbridge.clear_value("0x" + record.customer_ref.hex()) == customer
    assert weighbridge.clear_value("0x" + record.container_ref.hex()) is None
    without = weighbridge.body(weighbridge.record(scale, 2), scale.key) | {"clear": None}
    assert weighbridge.post(without).status_code == 202  # null: no clear values


# -------------------------------------------------------------- batches


def test_a_batch_answers_per_item_and_keeps_only_the_good_ones(weighbridge: Weighbridge) -> None:
    scale = weighbridge.scale()
    good1 = weighbridge.record(scale, 1)
    bad = weighbridge.record(scale, 2, net_kg=1)
    good2 = weighbridge.record(scale, 2)
    batch = [
        weighbridge.body(good1, scale.key),
        weighbridge.body(bad, scale.key),
        weighbridge.body(good2, scale.key),
        7,
        weighbridge.body(good1, scale.key),  # the same record twice
    ]
    before = weighbridge.outbox_total()
    reply = weighbridge.post(batch)
    assert reply.status_code == 202, reply.text
    results = reply.json()["results"]
    assert len(results) == 5
    for result, record in ((results[0], good1), (results[2], good2)):
        assert result["recordId"] == rid(record)
        assert (result["status"], result["seqGap"], result["created"]) == ("pending", False, True)
    assert set(results[1]) == {"error", "status"} and results[1]["status"] == 422
    assert results[1]["error"]["code"] == "bad_net_weight"
    assert results[1]["error"]["field"] == "[1].record.netKg"
    assert results[3]["status"] == 422 and results[3]["error"]["code"] == "invalid_body"
    assert "field" not in results[3]["error"]
    assert results[4]["recordId"] == rid(good1) and results[4]["created"] is False
    assert weighbridge.outbox_total() == before + 2
    assert_error(weighbridge.status(rid(bad)), 404, "not_found", "recordId")
    for record in (good1, good2):
        assert weighbridge.status(rid(record)).status_code == 200
    resent = weighbridge.post(batch[:1])
    assert resent.status_code == 202  # a batch with an accepted item is 202, even if nothing is new
    assert resent.json()["results"][0]["created"] is False


def test_a_batch_without_a_good_item_is_422(weighbridge: Weighbridge) -> None:
    scale = weighbridge.scale()
    records = [
        weighbridge.record(scale, 1, tare_mode=2),
        weighbridge.record(scale, 1, avv_code=5),
    ]
    batch: list[Any] = [weighbridge.body(r, scale.key) for r in records]
    batch.append({"record": records[0].to_json(), "signature": "0x12"})
    before = weighbridge.outbox_total()
    reply = weighbridge.post(batch)
    assert reply.status_code == 422, reply.text
    results = reply.json()["results"]
    assert [r["error"]["field"] for r in results] == [
        "[0].record.tareMode",
        "[1].record.avvCode",
        "[2].signature",
    ]
    assert [r["error"]["code"] for r in results] == ["bad_tare_mode", "bad_avv_code", "invalid_field"]
    assert [r["status"] for r in results] == [422, 422, 422]
    assert weighbridge.outbox_total() == before
    follow_up_is_accepted(weighbridge, scale)


@pytest.mark.parametrize("size", [0, 501])
def test_an_empty_or_oversized_batch_is_422_bad_batch(weighbridge: Weighbridge, size: int) -> None:
    scale = weighbridge.scale()
    item = weighbridge.body(weighbridge.record(scale), scale.key)
    before = weighbridge.outbox_total()
    assert_error(weighbridge.post([item] * size), 422, "bad_batch")
    assert weighbridge.outbox_total() == before
    follow_up_is_accepted(weighbridge, scale)
