"""POST /v1/weighings, the body: malformed or oversized JSON, a body that is not an object, unknown
top-level fields, and record fields that are missing, unknown or of the wrong type (each refusal
with its status, code and field, and changing nothing)."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest
import requests

from devnet.network import pid_alive, start_weighing_service
from ledger.records import Weighing
from tests.apps.conftest import TIMEOUT, Weighbridge, assert_error, assert_refused, follow_up_is_accepted, rid
from tests.support.devnet import free_port_block

FIELD_NAMES = [wire for wire, _ in Weighing.FIELDS]


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
