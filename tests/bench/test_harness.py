"""The benchmark harness's pure parts: ratios, percentiles, the table, the JSON document, comparing runs,
block filling and latencies from an outbox. No benchmark runs here, and nothing is timed."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from bench.cli import parse_only
from bench.node_throughput import fit_blocks
from bench.report import (
    RECORDS_PER_S,
    Row,
    compare,
    document,
    machine,
    markdown,
    percentile,
    render,
    rows_from_document,
    with_ratios,
)
from bench.suite import GROUPS
from bench.workload import tx_latencies
from cli.main import app
from ledger.outbox import FINAL, Outbox


def workload(key: str, value: float) -> Row:
    return Row(key, "workload", key, value, RECORDS_PER_S, workload=True)


ROWS = [
    workload("raw", 400.0),
    workload("node1", 200.0),
    workload("anvil", 1000.0),
    Row("verify", "gateway", "bundles", 150.0, "bundles/s"),
    Row(
        "service@25",
        "workload",
        "svc",
        20.0,
        RECORDS_PER_S,
        1.5,
        float("nan"),
        workload=True,
        detail={"p95": float("nan"), "samples": [{"rss": float("inf")}]},
    ),
]


def test_ratios_are_to_raw_and_anvil_of_the_same_run_and_only_for_workload_rows() -> None:
    rows = {r.key: r for r in with_ratios(ROWS)}
    assert rows["node1"].ratio_raw == pytest.approx(0.5)
    assert rows["node1"].ratio_anvil == pytest.approx(0.2)
    assert rows["raw"].ratio_raw == pytest.approx(1.0)
    assert rows["anvil"].ratio_raw == pytest.approx(2.5)
    assert rows["verify"].ratio_raw is None and rows["verify"].ratio_anvil is None


def test_without_a_reference_row_its_ratio_stays_empty() -> None:
    rows = {r.key: r for r in with_ratios([r for r in ROWS if r.key != "anvil"])}
    assert rows["node1"].ratio_raw == pytest.approx(0.5)
    assert rows["node1"].ratio_anvil is None
    zero = {r.key: r for r in with_ratios([workload("raw", 0.0), workload("node1", 5.0)])}
    assert zero["node1"].ratio_raw is None


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.95) == 3.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(list(reversed(values)), 1.0) == 100.0


def test_the_json_document_round_trips_and_has_no_nan() -> None:
    rows = with_ratios(ROWS)
    info = {"nproc": 2, "cpuModel": "test cpu", "ramGiB": 1.0}
    data = document(rows, info, {"quick": True}, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), 12.34, "abc")
    text = json.dumps(data, allow_nan=False)  # NaN would not be JSON
    back = json.loads(text)
    assert back["timestamp"] == "2026-01-02T03:04:05+00:00"
    assert back["machine"]["cpuModel"] == "test cpu" and back["commit"] == "abc"
    assert back["durationSeconds"] == 12.3
    restored = rows_from_document(back)
    assert [r.key for r in restored] == [r.key for r in rows]
    assert restored[1].ratio_raw == pytest.approx(0.5)
    assert restored[-1].p95 is None
    assert restored[-1].detail == {"p95": None, "samples": [{"rss": None}]}


def test_table_and_markdown_show_every_row_with_its_ratios() -> None:
    rows = with_ratios(ROWS)
    console = Console(record=True, width=200)
    console.print(render(rows, "title"))
    text = console.export_text()
    for row in rows:
        assert row.name in text
    assert "0.50" in text and "0.20" in text
    lines = markdown(rows).splitlines()
    assert len(lines) == 2 + len(rows)
    assert lines[3].startswith("| node1 | 200 | records/s |  |  | 0.50 | 0.20 |")


def test_compare_matches_rows_by_key() -> None:
    later = [workload("raw", 500.0), workload("node1", 100.0), workload("new", 1.0)]
    changes = {key: change for key, _, _, _, change in compare(ROWS, later)}
    assert changes == {"raw": pytest.approx(0.25), "node1": pytest.approx(-0.5)}


def test_machine_names_what_the_readme_needs() -> None:
    info = machine()
    assert {"nproc", "cpuModel", "ramGiB", "python", "pyEvm"} <= set(info)


def test_only_accepts_known_groups_repeated_or_comma_separated() -> None:
    assert parse_only(["raw,anvil", " node "], GROUPS) == {"raw", "anvil", "node"}
    assert parse_only([], GROUPS) == set()
    with pytest.raises(typer.BadParameter):
        parse_only(["raw,warp"], GROUPS)
    result = CliRunner().invoke(app, ["bench", "--only", "warp"])
    assert result.exit_code != 0


def test_blocks_are_filled_up_to_the_gas_limit_in_order() -> None:
    txs = [cast(Any, SimpleNamespace(gas=gas)) for gas in [40, 41, 30, 50, 100, 10]]
    blocks = fit_blocks(txs, 100)
    assert [[txs.index(t) for t in b] for b in blocks] == [[0, 1], [2, 3], [4], [5]]
    assert fit_blocks([], 100) == []
    assert [len(b) for b in fit_blocks([cast(Any, SimpleNamespace(gas=150))], 100)] == [1]


def test_latencies_are_per_transaction_from_signing_to_final(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    for i in range(3):
        outbox.enqueue(f"0x{i:02x}", "weighing", {"n": i})
    outbox.store_signed(0, "0xaa", b"raw", "weighing", ["0x00", "0x01"])
    outbox.store_signed(1, "0xbb", b"raw", "weighing", ["0x02"])
    outbox.settle(0, {"0x00": (FINAL, None), "0x01": (FINAL, None)}, 5, "0xblock")
    outbox.close()
    latencies = tx_latencies(tmp_path / "outbox.sqlite")
    assert len(latencies) == 1  # the unsettled transaction has no latency yet
    assert 0 <= latencies[0] < 5 and not math.isnan(latencies[0])
