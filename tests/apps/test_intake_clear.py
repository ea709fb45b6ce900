"""POST /v1/weighings, the clear part: values that do not hash to their salted refs, malformed
clear parts, and matching clear values that the service keeps."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.records import salted_ref
from tests.apps.conftest import Weighbridge, assert_refused, follow_up_is_accepted, rid


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
