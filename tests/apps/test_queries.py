"""The read side of the weighing service: status from pending to final (or rejected), proof bundles
that verify offline, search filters, totals as JSON and CSV, erasure of clear values, OpenAPI."""

from __future__ import annotations

import copy
import os
import time
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from contracts.founding import Role
from devnet.keys import dev_account
from ledger.connect import connect
from ledger.deploy import bind
from ledger.events import decode_rpc_log
from ledger.records import Weighing, salted_ref
from ledger.rpc import RpcClient
from ledger.trust import trust_from_node
from ledger.verify import verify_bundle
from tests.apps.conftest import TIMEOUT, Weighbridge, assert_error, now_ms, rid

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


def receipt_of(wb: Weighbridge, tx_hash: str) -> dict[str, Any]:
    receipt: dict[str, Any] = RpcClient([wb.rpc]).call("eth_getTransactionReceipt", [tx_hash])
    return receipt


# ------------------------------------------------------------------ status


def test_status_goes_from_pending_to_final_with_block_transaction_and_proof_link(
    weighbridge: Weighbridge,
) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    answer = weighbridge.accept(record, scale)
    assert answer["status"] == "pending"
    assert "proof" not in answer and "block" not in answer
    final = weighbridge.wait_state(rid(record))
    assert set(final) == {"recordId", "status", "seqGap", "block", "transaction", "proof"}
    assert final["recordId"] == rid(record) and final["seqGap"] is False
    assert final["proof"] == f"/v1/weighings/{rid(record)}/proof"
    receipt = receipt_of(weighbridge, final["transaction"])
    assert receipt["status"] == "0x1"
    assert int(receipt["blockNumber"], 16) == final["block"]["number"]
    assert receipt["blockHash"] == final["block"]["hash"]
    events = [decode_rpc_log(log) for log in receipt["logs"]]
    recorded = [e[1] for e in events if e is not None and e[0] == "WeighingRecorded"]
    assert record.record_id in [e["recordId"] for e in recorded]
    upper = weighbridge.status("0x" + record.record_id.hex().upper())
    assert upper.status_code == 200 and upper.json() == final


def test_an_unknown_record_is_404_for_status_and_proof(weighbridge: Weighbridge) -> None:
    unknown = "0x" + os.urandom(32).hex()
    assert_error(weighbridge.status(unknown), 404, "not_found", "recordId")
    assert_error(weighbridge.get(f"/v1/weighings/{unknown}/proof"), 404, "not_found", "recordId")
    assert_error(weighbridge.status("not-an-id"), 404, "not_found", "recordId")


def test_the_proof_of_a_final_record_verifies_and_a_pending_one_has_none(
    weighbridge: Weighbridge,
) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    weighbridge.accept(record, scale)
    pending = weighbridge.get(f"/v1/weighings/{rid(record)}/proof")  # right after the 202
    assert_error(pending, 409, "not_final", "recordId")
    weighbridge.wait_state(rid(record))
    reply = weighbridge.get(f"/v1/weighings/{rid(record)}/proof")
    assert reply.status_code == 200, reply.text
    bundle = reply.json()
    assert bundle["record"] == record.to_json()
    trust = trust_from_node(RpcClient([weighbridge.rpc]))
    verdict = verify_bundle(bundle, trust)
    assert verdict.valid, verdict.describe()
    tampered = copy.deepcopy(bundle)
    tampered["record"]["netKg"] += 1
    assert not verify_bundle(tampered, trust).valid


def _register_second_gateway(wb: Weighbridge) -> LocalAccount:
    gateway: LocalAccount = Account.from_key(os.urandom(32))
    admin = dev_account("aachen", "admin")
    w3 = connect(wb.rpc, [admin])
    consortium = bind(w3, "Consortium", wb.description["contracts"]["consortium"])
    tx = consortium.functions.setAccount(gateway.address, Role.GATEWAY, b"\0" * 32, 0).transact(
        {"from": admin.address, "gas": 300_000}
    )
    assert w3.eth.wait_for_transaction_receipt(tx, timeout=TIMEOUT)["status"] == 1
    return gateway


def _record_directly(wb: Weighbridge, gateway: LocalAccount, record: Weighing, scale: LocalAccount) -> None:
    """Records a weighing on chain past the service, as another gateway of the city could."""
    w3 = connect(wb.rpc, [gateway])
    ledger = bind(w3, "WeighingLedger", wb.description["contracts"]["weighing"])
    tx = ledger.functions.submit(record.as_abi(), record.sign(wb.domain, scale.key)).transact(
        {"from": gateway.address, "gas": 500_000}
    )
    assert w3.eth.wait_for_transaction_receipt(tx, timeout=TIMEOUT)["status"] == 1
    assert ledger.functions.lastSeq(scale.address).call() == record.seq


# ------------------------------------------------------------------ totals


def test_totals_sum_the_final_records_as_json_and_csv(weighbridge: Weighbridge) -> None:
    """Records 20 days ago in a one-hour window; one of them the chain refuses (its seq was used on
    chain by another gateway of the city meanwhile): it is rejected and not counted."""
    scale = weighbridge.scale()
    since = (now_ms() // DAY_MS - 20) * DAY_MS + 10 * HOUR_MS
    until = since + HOUR_MS
    day = time.strftime("%Y-%m-%d", time.gmtime(since / 1000))
    in_window = [
        weighbridge.record(scale, 1, measured_at=since, avv_code=150106),  # since is inclusive
        weighbridge.record(
            scale, 2, measured_at=since + 1000, avv_code=150106, gross_kg=14_500, net_kg=2_500
        ),
        weighbridge.record(
            scale, 3, measured_at=since + 2000, avv_code=200301, gross_kg=19_000, net_kg=7_000
        ),
    ]
    outside = weighbridge.record(scale, 4, measured_at=until, avv_code=150106)  # until is exclusive
    for record in [*in_window, outside]:
        weighbridge.accept(record, scale)
    for record in [*in_window, outside]:
        weighbridge.wait_state(rid(record))

    _record_directly(
        weighbridge,
        _register_second_gateway(weighbridge),
        weighbridge.record(scale, 10, measured_at=since + 4000),
        scale,
    )
    refused = weighbridge.record(
        scale, 5, measured_at=since + 3000, avv_code=150106, gross_kg=12_999, net_kg=999
    )
    assert weighbridge.accept(refused, scale)["seqGap"] is False  # the service's view: seq 4 came last
    rejected = weighbridge.wait_state(rid(refused), ("final", "rejected"))
    assert rejected["status"] == "rejected" and rejected["reason"] == "SeqReplay"
    assert "proof" not in rejected
    assert_error(weighbridge.get(f"/v1/weighings/{rid(refused)}/proof"), 409, "not_final", "recordId")

    reply = weighbridge.get("/v1/totals", since=since, until=until)
    assert reply.status_code == 200, reply.text
    assert reply.json() == {
        "city": "aachen",
        "period": "day",
        "by": "avv",
        "totals": [
            {"period": day, "avv": "150106", "netKg": 8_500, "weighings": 2},
            {"period": day, "avv": "200301", "netKg": 7_000, "weighings": 1},
        ],
    }
    csv = weighbridge.get("/v1/totals", since=since, until=until, format="csv")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines() == [
        "period;avv;netKg;weighings",
        f"{day};150106;8500;2",
        f"{day};200301;7000;1",
    ]
    by_scale = weighbridge.get("/v1/totals", since=since, until=until, period="month", by="scale")
    assert by_scale.json()["totals"] == [
        {"period": day[:7], "scale": scale.address, "netKg": 15_500, "weighings": 3}
    ]
    empty = weighbridge.get("/v1/totals", since=since, until=since, format="csv")
    assert empty.text.splitlines() == ["period;avv;netKg;weighings"]
    assert_error(weighbridge.get("/v1/totals", city="gelsenkirchen"), 404, "other_city", "city")
    assert weighbridge.get("/v1/totals", city="aachen", since=since, until=until).json() == reply.json()


@pytest.mark.parametrize(
    ("params", "field"),
    [({"period": "week"}, "period"), ({"by": "plate"}, "by"), ({"format": "xml"}, "format")],
)
def test_bad_totals_parameters_are_422(weighbridge: Weighbridge, params: dict[str, Any], field: str) -> None:
    assert_error(weighbridge.get("/v1/totals", **params), 422, "invalid_parameter", field)


# ------------------------------------------------------------------ search


@pytest.fixture(scope="module")
def searchable(weighbridge: Weighbridge) -> tuple[LocalAccount, list[Weighing]]:
    """Three final records of one scale, ten minutes ago, one second apart."""
    scale = weighbridge.scale()
    t0 = now_ms() - 600_000
    v1, v2, c1, c2 = (os.urandom(32) for _ in range(4))
    records = [
        weighbridge.record(scale, 1, measured_at=t0, avv_code=200301, vehicle_ref=v1, customer_ref=c1),
        weighbridge.record(scale, 2, measured_at=t0 + 1000, avv_code=150101, vehicle_ref=v2, customer_ref=c1),
        weighbridge.record(scale, 3, measured_at=t0 + 2000, avv_code=200301, vehicle_ref=v1, customer_ref=c2),
    ]
    for record in records:
        weighbridge.accept(record, scale)
    for record in records:
        weighbridge.wait_state(rid(record))
    return scale, records


def _found(wb: Weighbridge, **params: Any) -> list[str]:
    reply = wb.get("/v1/weighings", **params)
    assert reply.status_code == 200, reply.text
    return [item["recordId"] for item in reply.json()["items"]]


def test_search_items_carry_the_record_and_its_status(
    weighbridge: Weighbridge, searchable: tuple[LocalAccount, list[Weighing]]
) -> None:
    scale, records = searchable
    reply = weighbridge.get("/v1/weighings", scale=scale.address)
    assert reply.status_code == 200
    body = reply.json()
    assert body["limit"] == 100 and body["offset"] == 0
    expected = [
        {k: v for k, v in r.to_json().items() if k not in ("timeSynced", "tareMode", "statusFlags")}
        | {"seqGap": False, "status": "final"}
        for r in records
    ]
    assert body["items"] == expected


def test_search_filters_combine(
    weighbridge: Weighbridge, searchable: tuple[LocalAccount, list[Weighing]]
) -> None:
    scale, (a, b, c) = searchable
    t0 = a.measured_at
    assert _found(weighbridge, scale=scale.address) == [rid(a), rid(b), rid(c)]
    assert _found(weighbridge, scale=scale.address, avvCode=200301) == [rid(a), rid(c)]
    assert _found(weighbridge, scale=scale.address, avvCode=150106) == []
    assert _found(weighbridge, vehicleRef="0x" + a.vehicle_ref.hex()) == [rid(a), rid(c)]
    assert _found(weighbridge, customerRef="0x" + a.customer_ref.hex()) == [rid(a), rid(b)]
    assert _found(weighbridge, customerRef="0x" + c.customer_ref.hex(), avvCode=200301) == [rid(c)]
    assert _found(weighbridge, scale=scale.address, since=t0 + 1000) == [rid(b), rid(c)]
    assert _found(weighbridge, scale=scale.address, until=t0 + 2000) == [rid(a), rid(b)]
    assert _found(weighbridge, scale=scale.address, since=t0 + 1000, until=t0 + 2000) == [rid(b)]
    assert _found(weighbridge, scale=scale.address, since=t0 + 2001) == []
    assert _found(weighbridge, scale=scale.address, city="aachen") == [rid(a), rid(b), rid(c)]


def test_search_pages_with_limit_and_offset(
    weighbridge: Weighbridge, searchable: tuple[LocalAccount, list[Weighing]]
) -> None:
    scale, (a, b, c) = searchable
    page = weighbridge.get("/v1/weighings", scale=scale.address, limit=1, offset=1).json()
    assert [i["recordId"] for i in page["items"]] == [rid(b)]
    assert (page["limit"], page["offset"]) == (1, 1)
    assert _found(weighbridge, scale=scale.address, limit=2) == [rid(a), rid(b)]
    assert _found(weighbridge, scale=scale.address, limit=2, offset=2) == [rid(c)]
    assert _found(weighbridge, scale=scale.address, offset=3) == []


def test_search_of_another_city_is_404(weighbridge: Weighbridge) -> None:
    assert_error(weighbridge.get("/v1/weighings", city="gelsenkirchen"), 404, "other_city", "city")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"avvCode": "abc"}, "avvCode"),
        ({"avvCode": 1_000_000}, "avvCode"),
        ({"since": "yesterday"}, "since"),
        ({"until": 1.5}, "until"),
    ],
)
def test_bad_search_parameters_are_422(weighbridge: Weighbridge, params: dict[str, Any], field: str) -> None:
    assert_error(weighbridge.get("/v1/weighings", **params), 422, "invalid_parameter", field)


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v1/weighings", "since"),
        ("/v1/weighings", "until"),
        ("/v1/weighings", "offset"),
        ("/v1/totals", "since"),
        ("/v1/totals", "until"),
    ],
)
def test_huge_integer_parameters_are_not_a_5xx(weighbridge: Weighbridge, path: str, param: str) -> None:
    reply = weighbridge.get(path, **{param: 2**63})
    assert reply.status_code < 500, reply.text
    if reply.status_code >= 400:
        assert_error(reply, reply.status_code, reply.json()["error"]["code"], param)


def test_search_by_address_and_ref_ignores_case(
    weighbridge: Weighbridge, searchable: tuple[LocalAccount, list[Weighing]]
) -> None:
    scale, (a, b, c) = searchable
    assert _found(weighbridge, scale=scale.address.lower()) == [rid(a), rid(b), rid(c)]
    assert _found(weighbridge, vehicleRef="0x" + a.vehicle_ref.hex().upper()) == [rid(a), rid(c)]


# ----------------------------------------------------------------- erasure


def test_deleting_a_subject_erases_its_clear_value_and_keeps_the_proof(weighbridge: Weighbridge) -> None:
    scale = weighbridge.scale()
    plate, customer = "AC-GV 777", "Kundennummer 4711"
    record = weighbridge.record(
        scale,
        vehicle_ref=salted_ref(weighbridge.salt, plate),
        customer_ref=salted_ref(weighbridge.salt, customer),
    )
    weighbridge.accept(record, scale, {"vehicle": plate, "customer": customer})
    weighbridge.wait_state(rid(record))
    vehicle_ref, customer_ref = "0x" + record.vehicle_ref.hex(), "0x" + record.customer_ref.hex()
    assert weighbridge.clear_value(vehicle_ref) == plate

    url = f"{weighbridge.url}/v1/subjects"
    gone = weighbridge.session.delete(f"{url}/{vehicle_ref}", timeout=TIMEOUT)
    assert gone.status_code == 204 and gone.content == b""
    assert weighbridge.clear_value(vehicle_ref) is None
    assert weighbridge.clear_value(customer_ref) == customer  # other subjects stay
    again = weighbridge.session.delete(f"{url}/{vehicle_ref}", timeout=TIMEOUT)
    assert_error(again, 404, "not_found", "ref")
    upper = weighbridge.session.delete(f"{url}/0x{record.customer_ref.hex().upper()}", timeout=TIMEOUT)
    assert upper.status_code == 204
    assert weighbridge.clear_value(customer_ref) is None
    never = weighbridge.session.delete(f"{url}/0x{record.container_ref.hex()}", timeout=TIMEOUT)
    assert_error(never, 404, "not_found", "ref")

    # what is on chain, and the salted reference, stay
    assert weighbridge.status(rid(record)).json()["status"] == "final"
    assert _found(weighbridge, vehicleRef=vehicle_ref) == [rid(record)]
    bundle = weighbridge.get(f"/v1/weighings/{rid(record)}/proof").json()
    verdict = verify_bundle(bundle, trust_from_node(RpcClient([weighbridge.rpc])))
    assert verdict.valid, verdict.describe()


# ----------------------------------------------------------- the service


def test_the_openapi_document_lists_the_routes(weighbridge: Weighbridge) -> None:
    reply = weighbridge.get("/openapi.json")
    assert reply.status_code == 200
    document = reply.json()
    assert "aachen" in document["info"]["title"]
    methods = {path: set(ops) for path, ops in document["paths"].items()}
    assert methods == {
        "/v1/weighings": {"get", "post"},
        "/v1/weighings/{record_id}": {"get"},
        "/v1/weighings/{record_id}/proof": {"get"},
        "/v1/totals": {"get"},
        "/v1/subjects/{ref}": {"delete"},
    }
    search = {p["name"] for p in document["paths"]["/v1/weighings"]["get"]["parameters"]}
    assert {"scale", "vehicleRef", "customerRef", "avvCode", "since", "until", "limit", "offset"} <= search


def test_health_names_the_city_and_counts_the_outbox(weighbridge: Weighbridge) -> None:
    scale = weighbridge.scale()
    before = weighbridge.outbox_total()
    weighbridge.accept(weighbridge.record(scale), scale)
    health = weighbridge.get("/health").json()
    assert health["city"] == "aachen"
    assert all(isinstance(n, int) for n in health["outbox"].values())
    assert sum(health["outbox"].values()) == before + 1
