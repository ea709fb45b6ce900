"""Signed weighings per second from POST to final through the weighing service, at increasing rates,
with p50/p95 latency, next to the raw py-evm limit for the same on-chain work, in one run.

Run: .venv/bin/python bench/weighing_service.py [--nodes 5] [--rates 10 25 50 100] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.table import Table

from apps.weighing.simulator import ensure_scales
from bench.node_throughput import raw_limit, signed_batches
from devnet.keys import CityKeys
from devnet.network import PORTS_PER_NODE, DevnetOptions, down, up
from devnet.ports import free_base_port
from devnet.samples import sample_weighing
from ledger.records import Weighing, domain_for
from nodes.genesis import Genesis


def step(
    url: str, outbox: Path, scales: list[Any], seqs: dict[str, int], domain: Any, rate: float, seconds: float
) -> dict[str, float]:
    session = requests.Session()
    posted: dict[str, float] = {}
    lock = threading.Lock()

    def post(scale: Any, seq: int) -> None:
        record = sample_weighing(scale.address, seq)
        body: dict[str, Any] = {
            "record": record.to_json(),
            "signature": "0x" + record.sign(domain, scale.key).hex(),
        }
        sent = time.time()
        if session.post(f"{url}/v1/weighings", json=body, timeout=60).status_code == 202:
            with lock:
                posted["0x" + record.record_id.hex()] = sent

    start = time.time()
    with ThreadPoolExecutor(max_workers=16) as pool:
        n, next_at = 0, time.monotonic()
        while time.monotonic() - (next_at - n / rate) < seconds and n < rate * seconds:
            scale = scales[n % len(scales)]
            seqs[scale.address] += 1
            pool.submit(post, scale, seqs[scale.address])
            n += 1
            next_at += 1 / rate
            time.sleep(max(0.0, next_at - time.monotonic()))
    final: dict[str, float] = {}
    deadline = time.monotonic() + 600
    while len(final) < len(posted) and time.monotonic() < deadline:
        with sqlite3.connect(outbox) as db:
            rows = db.execute("SELECT id, updated_at FROM items WHERE state = 'final'").fetchall()
        final = {i: t for i, t in rows if i in posted}
        time.sleep(0.5)
    latencies = sorted(final[i] - posted[i] for i in final)
    end = max(final.values()) if final else time.time()
    return {
        "offered": rate,
        "accepted": len(posted) / seconds,
        "finalPerSecond": len(final) / (end - start),
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p95": latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--rates", type=float, nargs="+", default=[10, 25, 50, 100])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    aachen = CityKeys.derive("aachen")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "devnet"
        port = free_base_port(19700, PORTS_PER_NODE * args.nodes + 2)
        description = up(DevnetOptions(data_dir=data_dir, nodes=args.nodes, base_port=port))
        try:
            url = description["apps"]["weighing"]
            outbox = data_dir / "apps" / "weighing-aachen" / "outbox.sqlite"
            scales = ensure_scales(description, "aachen", 20)
            seqs: dict[str, int] = {s.address: 0 for s in scales}
            domain = domain_for(Weighing, description["chainId"], description["contracts"]["weighing"])
            rows = [step(url, outbox, scales, seqs, domain, rate, args.seconds) for rate in args.rates]
            genesis = Genesis.load(data_dir / "genesis.json")
            validators = [CityKeys.derive(n["name"]).validator for n in description["nodes"]]
        finally:
            down(data_dir)
    raws = signed_batches(
        genesis.chain_id, description["contracts"]["weighing"], aachen.gateway, aachen.scales[0], 5, 100
    )
    raw_rate = 500 / raw_limit(genesis, aachen.admin, validators, raws)
    table = Table(
        title=f"Weighing service, {args.nodes} validators ({platform.machine()}, {os.cpu_count()} cores)"
    )
    for column in ("offered/s", "accepted/s", "final/s", "p50 s", "p95 s", "final / raw limit"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(
            f"{r['offered']:.0f}",
            f"{r['accepted']:.1f}",
            f"{r['finalPerSecond']:.1f}",
            f"{r['p50']:.2f}",
            f"{r['p95']:.2f}",
            f"{r['finalPerSecond'] / raw_rate:.2f}",
        )
    Console().print(table)
    print(f"raw py-evm limit for the same records (batches of 100, in-process): {raw_rate:.1f} records/s")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "rawLimit": raw_rate}, indent=2) + "\n")


if __name__ == "__main__":
    main()
