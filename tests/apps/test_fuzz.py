"""Hypothesis against POST /v1/weighings: random JSON, random bytes and mutated valid records never
get a 5xx, and every 4xx carries the error shape {"error": {"code", "message"[, "field"]}}.
Bodies with lone surrogates (valid JSON escapes that no UTF-8 can carry) are pinned separately."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.records import Weighing
from tests.apps.conftest import Weighbridge, now_ms

DAY_MS = 86_400_000
FIELD_NAMES = [wire for wire, _ in Weighing.FIELDS]

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and infinities too: Python's json reads them
    | st.text(max_size=24)
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=16,
)
TOP_KEYS = st.sampled_from(["record", "signature", "clear"]) | st.text(max_size=8)
CLEAR = st.dictionaries(
    st.sampled_from(["vehicle", "container", "customer"]) | st.text(max_size=8), JSON, max_size=3
)
WEIGHTS = st.sampled_from([0, 1, 6_000, 12_000, 18_000, 60_000, 60_001, 2**32 - 1]) | st.integers(
    0, 2**32 - 1
)
# Re-signed field values (a valid signature over a changed record reaches every later check).
# The time offsets avoid the window test_totals uses (20 days ago, 10:00-11:00 UTC).
RESIGNED = {
    "record_id": st.just(b"\0" * 32) | st.binary(min_size=32, max_size=32),
    # small enough not to burn the scale; 2**63 - 1 and 2**63 are tested in test_intake_checks
    "seq": st.integers(0, 2**40),
    "measured_at": st.sampled_from(
        [0, -60_000, 299_000, 301_000, -29 * DAY_MS, -31 * DAY_MS, 10 * DAY_MS]
    ).map(lambda offset: now_ms() + offset)
    | st.integers(0, 2**64 - 1),
    "time_synced": st.booleans(),
    "gross_kg": WEIGHTS,
    "tare_kg": WEIGHTS,
    "net_kg": WEIGHTS,
    "tare_mode": st.integers(0, 255),
    "avv_code": st.sampled_from([0, 9_999, 10_000, 10_101, 200_301, 999_999, 1_000_000])
    | st.integers(0, 2**32 - 1),
    "status_flags": st.integers(0, 2**16 - 1),
}
MUTATIONS = ("field", "drop-field", "top", "drop-top", "resign", "signature", "clear")


@pytest.fixture(scope="module")
def fuzz_scale(weighbridge: Weighbridge) -> LocalAccount:
    return weighbridge.scale()


def mutated_record(
    data: st.DataObject, wb: Weighbridge, scale: LocalAccount, mutations: tuple[str, ...] = MUTATIONS
) -> Any:
    """A valid signed body of the fuzz scale with one to three random changes."""
    record = wb.record(scale, data.draw(st.integers(1, 2**40), label="seq"))
    body: dict[str, Any] = wb.body(record, scale.key)
    for mutation in data.draw(st.lists(st.sampled_from(mutations), min_size=1, max_size=3), label="how"):
        if mutation == "resign":
            overrides: dict[str, Any] = data.draw(
                st.fixed_dictionaries({}, optional=RESIGNED), label="resign"
            )
            changed = replace(record, **overrides)
            if changed.tare_kg <= changed.gross_kg and data.draw(st.booleans(), label="net ok"):
                changed = replace(changed, net_kg=changed.gross_kg - changed.tare_kg)
            body["record"] = changed.to_json()
            body["signature"] = wb.signature(changed, scale.key)
        elif mutation == "signature":
            body["signature"] = data.draw(
                st.text(max_size=140)
                | st.text("0123456789abcdefABCDEF", min_size=130, max_size=130).map("0x{}".format),
                label="signature",
            )
        elif mutation == "clear":
            body["clear"] = data.draw(CLEAR, label="clear")
        elif mutation == "top":
            body[data.draw(TOP_KEYS, label="key")] = data.draw(JSON, label="value")
        elif mutation == "drop-top":
            body.pop(data.draw(st.sampled_from(["record", "signature", "clear"])), None)
        elif isinstance(body.get("record"), dict) and mutation == "field":
            body["record"][data.draw(st.sampled_from(FIELD_NAMES) | st.text(max_size=8))] = data.draw(JSON)
        elif isinstance(body.get("record"), dict) and mutation == "drop-field":
            body["record"].pop(data.draw(st.sampled_from(FIELD_NAMES)), None)
    return body


def assert_error_shape(error: Any) -> None:
    assert isinstance(error, dict), error
    assert {"code", "message"} <= set(error) <= {"code", "message", "field"}, error
    assert isinstance(error["code"], str) and error["code"], error
    assert isinstance(error["message"], str), error
    assert isinstance(error.get("field", ""), str), error


def assert_answer(reply: Any, sent: Any) -> None:
    """No 5xx; a 4xx is the error shape (a batch's 422 lists one error per item)."""
    assert reply.status_code < 500, (reply.status_code, reply.text, sent)
    body = reply.json()
    code = body["error"].get("code") if isinstance(body.get("error"), dict) else "results" in body
    event(f"{reply.status_code} {code}")
    if reply.status_code < 400:
        assert reply.status_code in (200, 202), reply.text
        assert isinstance(body, dict) and ("recordId" in body or "results" in body), body
        return
    if isinstance(sent, list) and "results" in body:
        assert reply.status_code == 422 and set(body) == {"results"}, body
        assert len(body["results"]) == len(sent)
        for result in body["results"]:
            assert set(result) == {"error", "status"}, result
            assert 400 <= result["status"] < 500
            assert_error_shape(result["error"])
        return
    assert set(body) == {"error"}, body
    assert_error_shape(body["error"])


def _parsed(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_bodies_never_get_a_5xx_and_4xx_are_errors(
    weighbridge: Weighbridge, fuzz_scale: LocalAccount, data: st.DataObject
) -> None:
    source = data.draw(
        st.sampled_from(["json", "object", "mutated", "resigned", "resigned", "batch", "bytes"]),
        label="source",
    )
    if source == "bytes":
        raw = data.draw(st.binary(max_size=64), label="bytes")
        assert_answer(weighbridge.post_raw(raw), _parsed(raw))
        return
    payload: Any
    if source == "json":
        payload = data.draw(JSON, label="json")
    elif source == "object":
        payload = data.draw(st.dictionaries(TOP_KEYS, JSON, max_size=4), label="object")
    elif source == "mutated":
        payload = mutated_record(data, weighbridge, fuzz_scale)
    elif source == "resigned":
        payload = mutated_record(data, weighbridge, fuzz_scale, ("resign",))
    else:
        payload = [mutated_record(data, weighbridge, fuzz_scale) for _ in range(data.draw(st.integers(1, 3)))]
    assert_answer(weighbridge.post_raw(json.dumps(payload).encode()), payload)


# ------------------------------------------------- lone surrogates (bugs)


@pytest.mark.parametrize("where", ["top", "record", "clear"])
def test_a_field_name_with_a_lone_surrogate_is_a_4xx(
    weighbridge: Weighbridge, fuzz_scale: LocalAccount, where: str
) -> None:
    record = weighbridge.record(fuzz_scale, 2**41)
    body: dict[str, Any] = weighbridge.body(record, fuzz_scale.key)
    if where == "top":
        body["\ud800"] = 1
    elif where == "record":
        body["record"]["\ud800"] = 1
    else:
        body["clear"] = {"\ud800": "x"}
    reply = weighbridge.post_raw(json.dumps(body).encode())  # "\\ud800": valid JSON
    assert reply.status_code == 422, reply.text
    assert_error_shape(reply.json()["error"])


def test_a_clear_value_with_a_lone_surrogate_is_a_4xx(
    weighbridge: Weighbridge, fuzz_scale: LocalAccount
) -> None:
    record = weighbridge.record(fuzz_scale, 2**41)
    body = weighbridge.body(record, fuzz_scale.key, {"vehicle": "AC-\ud800"})
    reply = weighbridge.post_raw(json.dumps(body).encode())
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"]["field"] == "clear.vehicle"
