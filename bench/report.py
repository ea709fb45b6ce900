"""The harness's one table: rows, ratios measured in the same run, the machine, and the JSON file.

Pure apart from `machine()` and `git_commit()` (they read /proc and git), so tests can build and
check a report without running a benchmark.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from rich.table import Table

SCHEMA = 1
RECORDS_PER_S = "records/s"
RAW, ANVIL = "raw", "anvil"  # the keys of the two reference rows


@dataclass(frozen=True)
class Row:
    """One measured figure. Rows in records/s of the weighing workload get ratios to the raw
    py-evm limit and to anvil when those reference rows were measured in the same run."""

    key: str  # stable id to compare runs, e.g. "devnet5" or "service@25"
    group: str
    name: str
    value: float
    unit: str
    p50: float | None = None  # seconds
    p95: float | None = None
    note: str = ""
    workload: bool = False  # the weighing workload in records/s: ratios apply
    ratio_raw: float | None = None
    ratio_anvil: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # raw figures for the JSON, not the table

    def to_json(self) -> dict[str, Any]:
        return {k: _finite(v) for k, v in asdict(self).items()}


def _finite(value: Any) -> Any:
    """NaN and infinities become null (JSON has neither), also inside details."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return None if isinstance(value, float) and not math.isfinite(value) else value


def with_ratios(rows: list[Row]) -> list[Row]:
    """Every workload row divided by the raw limit and by anvil (None where either is missing)."""
    references = {r.key: r.value for r in rows if r.key in (RAW, ANVIL) and r.value > 0}
    raw, anvil = references.get(RAW), references.get(ANVIL)
    out = []
    for row in rows:
        if row.workload:
            row = replace(
                row,
                ratio_raw=None if raw is None else row.value / raw,
                ratio_anvil=None if anvil is None else row.value / anvil,
            )
        out.append(row)
    return out


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def fmt_value(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _opt(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def render(rows: list[Row], title: str) -> Table:
    table = Table(title=title)
    table.add_column("benchmark")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for column in ("p50 s", "p95 s", "÷ raw", "÷ anvil"):
        table.add_column(column, justify="right")
    table.add_column("notes")
    group = None
    for row in rows:
        if group is not None and row.group != group:
            table.add_section()
        group = row.group
        table.add_row(
            row.name,
            fmt_value(row.value),
            row.unit,
            _opt(row.p50),
            _opt(row.p95),
            _opt(row.ratio_raw),
            _opt(row.ratio_anvil),
            row.note,
        )
    return table


def markdown(rows: list[Row]) -> str:
    """The table as Markdown, for the README."""
    lines = [
        "| benchmark | value | unit | p50 s | p95 s | ÷ raw | ÷ anvil | notes |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        cells = [r.name, fmt_value(r.value), r.unit, _opt(r.p50), _opt(r.p95)]
        cells += [_opt(r.ratio_raw), _opt(r.ratio_anvil), r.note]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def document(
    rows: list[Row],
    machine_info: dict[str, Any],
    settings: dict[str, Any],
    started: datetime,
    seconds: float,
    commit: str | None,
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "timestamp": started.astimezone(UTC).isoformat(timespec="seconds"),
        "durationSeconds": round(seconds, 1),
        "commit": commit,
        "machine": machine_info,
        "settings": settings,
        "rows": [r.to_json() for r in rows],
    }


def rows_from_document(data: dict[str, Any]) -> list[Row]:
    return [Row(**row) for row in data["rows"]]


def compare(before: list[Row], after: list[Row]) -> list[tuple[str, str, float, float, float]]:
    """(key, name, old value, new value, relative change) for every row present in both runs."""
    old = {r.key: r for r in before}
    return [
        (r.key, r.name, old[r.key].value, r.value, r.value / old[r.key].value - 1)
        for r in after
        if r.key in old and old[r.key].value
    ]


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = round(int(line.split()[1]) / 1024**2, 1)
    try:
        py_evm = version("py-evm")
    except PackageNotFoundError:
        py_evm = None
    return {
        "nproc": os.cpu_count(),
        "cpuModel": cpu,
        "ramGiB": ram,
        "python": platform.python_version(),
        "pyEvm": py_evm,
        "platform": platform.platform(),
        "loadAverage": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def git_commit(root: Path) -> str | None:
    """HEAD, with "+dirty" when the working tree has changes (None outside a git checkout)."""

    def git(*args: str) -> str:
        command = ["git", *args]
        return subprocess.run(command, cwd=root, capture_output=True, text=True, check=True).stdout.strip()  # noqa: S603

    try:
        head, dirty = git("rev-parse", "HEAD"), git("status", "--porcelain")
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")
