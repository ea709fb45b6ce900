"""`govchain bench [--quick] [--json FILE] [--only NAME...]`: every benchmark of the project, one table."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bench.report import (
    compare,
    document,
    fmt_value,
    git_commit,
    machine,
    markdown,
    render,
    rows_from_document,
    with_ratios,
)

app = typer.Typer(help="Benchmarks: the weighing workload on py-evm, our nodes and anvil, in one table.")
ROOT = Path(__file__).resolve().parents[1]


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=200)


def parse_only(values: list[str], known: tuple[str, ...]) -> set[str]:
    names = {v.strip() for value in values for v in value.split(",") if v.strip()}
    unknown = names - set(known)
    if unknown:
        raise typer.BadParameter(
            f"unknown benchmark(s) {', '.join(sorted(unknown))}; known: {', '.join(known)}"
        )
    return names


@app.callback(invoke_without_command=True)
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="small sizes, about 2-3 minutes (CI)")] = False,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="write the run here (default var/bench/bench-TIME.json)")
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="run only these groups (repeat or comma-separate): raw, node, devnet, anvil, service, "
            "verify, gas, network, resources",
        ),
    ] = None,
    records: Annotated[
        int | None, typer.Option("--records", min=100, help="records per workload row")
    ] = None,
    resource_records: Annotated[
        int | None, typer.Option("--resource-records", min=0, help="records fed for the memory/disk figures")
    ] = None,
    sync_blocks: Annotated[
        int | None, typer.Option("--sync-blocks", min=0, help="blocks a new node syncs")
    ] = None,
    previous: Annotated[
        Path | None, typer.Option("--compare", help="an earlier run's JSON: show the change per row")
    ] = None,
    markdown_file: Annotated[
        Path | None, typer.Option("--markdown", help="also write the table as Markdown")
    ] = None,
) -> None:
    """Run the benchmarks (full: ~15 min here, with the resource figures; --quick: ~1 min), one table."""
    from dataclasses import replace

    from bench.suite import FULL, FULL_ONLY, GROUPS, QUICK, run_groups

    console = _console()
    groups = parse_only(only or [], GROUPS) or {g for g in GROUPS if not (quick and g in FULL_ONLY)}
    sizes = QUICK if quick else FULL
    if records is not None:
        sizes = replace(sizes, records=max(100, records // 100 * 100))
    if resource_records is not None:
        sizes = replace(sizes, resource_records=resource_records)
    if sync_blocks is not None:
        sizes = replace(sizes, sync_blocks=sync_blocks)
    started, clock = datetime.now().astimezone(), time.perf_counter()
    rows = with_ratios(run_groups(groups, sizes, lambda text: console.print(f"[dim]{text}[/dim]")))
    seconds = time.perf_counter() - clock
    info = machine()
    settings = {"quick": quick, "groups": sorted(groups), **sizes.__dict__}
    data = document(rows, info, settings, started, seconds, git_commit(ROOT))
    title = (
        f"govchain bench{' --quick' if quick else ''}: {info['nproc']} x {info['cpuModel']}, "
        f"{info['ramGiB']} GiB, Python {info['python']}, py-evm {info['pyEvm']} ({seconds / 60:.1f} min)"
    )
    console.print(render(rows, title))
    path = json_file or ROOT / "var" / "bench" / f"bench-{started:%Y%m%d-%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    console.print(f"written: {path}")
    if markdown_file is not None:
        markdown_file.write_text(markdown(rows))
    if previous is not None:
        old = rows_from_document(json.loads(previous.read_text()))
        for key, name, before, after, change in compare(old, rows):
            line = f"{name:<55} {fmt_value(before):>10} → {fmt_value(after):>10}  ({change:+.0%})  [{key}]"
            console.print(line, markup=False, highlight=False)
