"""POST /v1/weighings with a batch: answers per item, only the good items kept, and empty,
oversized or all-bad batches refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.apps.conftest import Weighbridge, assert_error, follow_up_is_accepted, rid


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
