"""POST /v1/weighings, seq and record ids: a replayed seq, a seq gap flagged down to the chain, a
record id used twice, and identical resends answered 200 with the same status."""

from __future__ import annotations

from ledger.events import decode_rpc_log, topic_of
from ledger.rpc import RpcClient
from tests.apps.conftest import Weighbridge, assert_error, assert_refused, follow_up_is_accepted, rid


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
