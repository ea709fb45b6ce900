"""Verifications per second through aachen's registry service on the devnet, by hash
(GET /v1/verify/{sha256}) and by upload (POST /v1/verify, multipart, 100 kB and 1 MB extracts),
with p50/p99 latency, from a number of concurrent clients.

Run: .venv/bin/python bench/registry_service.py [--nodes 5] [--clients 8] [--seconds 10]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.table import Table

from apps.registry.client import RegistryClient
from devnet.keys import dev_account
from devnet.network import DevnetOptions, down, up


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def measure(
    name: str, call: Callable[[requests.Session, int], requests.Response], clients: int, seconds: float
) -> dict[str, Any]:
    """`clients` threads call as fast as they can for `seconds`; every answer must be 200."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        nonlocal failures
        mine: list[float] = []
        bad = 0
        with requests.Session() as session:
            n = index
            while time.monotonic() < stop:
                started = time.perf_counter()
                reply = call(session, n)
                mine.append(time.perf_counter() - started)
                bad += reply.status_code != 200
                n += clients
        with lock:
            latencies.extend(mine)
            failures += bad

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(worker, range(clients)))
    elapsed = time.monotonic() - began
    latencies.sort()
    return {
        "mode": name,
        "requests": len(latencies),
        "failures": failures,
        "perSecond": len(latencies) / elapsed,
        "p50ms": 1000 * statistics.median(latencies),
        "p95ms": 1000 * latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
        "p99ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
    }


def verifications(url: str, clients: int, seconds: float) -> list[dict[str, Any]]:
    """Attests 4 documents of each size as aachen's clerk, then measures verification by hash (half
    of them unknown documents) and by upload of 100 kB and 1 MB extracts."""
    clerk = RegistryClient(url, dev_account("aachen", "clerk"))
    clerk.login()
    documents: dict[str, list[bytes]] = {"small": [], "100 kB": [], "1 MB": []}
    for size_name, size in (("small", 2_000), ("100 kB", 100_000), ("1 MB", 1_000_000)):
        for _ in range(4):
            data = b"%PDF-1.7\n" + os.urandom(size - 9)
            clerk.attest(data)
            documents[size_name].append(data)
    for data in (d for group in documents.values() for d in group):
        assert clerk.wait_status(hashlib.sha256(data).digest(), "valid", 120)["status"] == "valid"
    hashes = [hashlib.sha256(d).hexdigest() for group in documents.values() for d in group]
    hashes += [os.urandom(32).hex() for _ in hashes]  # as many unknown documents

    def by_hash(session: requests.Session, n: int) -> requests.Response:
        return session.get(f"{url}/v1/verify/{hashes[n % len(hashes)]}", timeout=60)

    def by_upload(size_name: str) -> Callable[[requests.Session, int], requests.Response]:
        group = documents[size_name]

        def call(session: requests.Session, n: int) -> requests.Response:
            files = {"file": ("auskunft.pdf", group[n % len(group)], "application/pdf")}
            return session.post(f"{url}/v1/verify", files=files, timeout=60)

        return call

    rows = [measure("by hash", by_hash, clients, seconds)]
    for size_name in ("100 kB", "1 MB"):
        rows.append(
            measure(f"by upload, {size_name} (POST /v1/verify)", by_upload(size_name), clients, seconds)
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "devnet"
        description = up(DevnetOptions(data_dir=data_dir, nodes=args.nodes, base_port=19900))
        try:
            rows = verifications(str(description["apps"]["registry"]), args.clients, args.seconds)
        finally:
            down(data_dir)
    table = Table(
        title=f"Registry service verifications, {args.nodes} validators, {args.clients} clients "
        f"({cpu_model()}, {os.cpu_count()} cores)"
    )
    for column in ("mode", "requests", "verifications/s", "p50 ms", "p99 ms"):
        table.add_column(column, justify="left" if column == "mode" else "right")
    for r in rows:
        table.add_row(
            r["mode"], str(r["requests"]), f"{r['perSecond']:.0f}", f"{r['p50ms']:.1f}", f"{r['p99ms']:.1f}"
        )
    Console().print(table)
    failures = sum(r["failures"] for r in rows)
    if failures:
        print(f"{failures} requests did not answer 200")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
