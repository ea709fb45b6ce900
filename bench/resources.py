"""Resource figures of a node: memory after N weighing records, disk per 1,000 records, and the time a
new node needs to sync M blocks from a running one over the peer-to-peer network.

Run: .venv/bin/python bench/resources.py [--records 100000] [--blocks 10000] [--json FILE]

Memory and disk: a 1-node devnet; the gateway's signed `submitBatch` transactions (100 scale-signed
weighings each) are sent with eth_sendRawTransaction, 16 in flight, until all are final; the node
process's VmRSS (/proc/PID/status) and the size of its chain store (chain.sqlite with its WAL) are
read before, every tenth of the way, and after. Sync: see bench/sync.py.
"""

from __future__ import annotations

import argparse
import json
import queue
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import requests
from rich.console import Console

from bench.node_throughput import signed_batches
from bench.report import RECORDS_PER_S, Row, render
from bench.sync import sync_time
from devnet.keys import CityKeys
from devnet.network import PORTS_PER_NODE, DevnetOptions, down, up
from devnet.ports import free_base_port

BATCH = 100
IN_FLIGHT = 16
MIB = 1024 * 1024


def proc_status(pid: int, field: str) -> int:
    """A /proc/PID/status figure in bytes (VmRSS, VmHWM, ...)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def store_bytes(node_dir: Path) -> int:
    """The chain store on disk: the database, its WAL and shared-memory index."""
    return sum(p.stat().st_size for p in node_dir.glob("chain.sqlite*"))


class Rpc:
    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def __call__(self, method: str, params: list[Any]) -> Any:
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        answer = self.session.post(self.url, json=body, timeout=120).json()
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]


def memory_and_disk(records: int, folder: Path, say: Any) -> dict[str, Any]:
    aachen = CityKeys.derive("aachen")
    data_dir = folder / "devnet"
    port = free_base_port(22500, PORTS_PER_NODE + 2)
    description = up(DevnetOptions(data_dir=data_dir, nodes=1, block_period=0.5, base_port=port))
    try:
        node = description["nodes"][0]
        pid, node_dir, rpc = int(node["pid"]), Path(node["dataDir"]), Rpc(node["rpc"])
        weighing = description["contracts"]["weighing"]
        txs = records // BATCH
        first_nonce = int(rpc("eth_getTransactionCount", [aachen.gateway.address, "pending"]), 16)
        time.sleep(2)
        samples = [_sample(0, pid, node_dir, 0.0)]
        say(f"node pid {pid}: {samples[0]['rssMiB']:.0f} MiB RSS; feeding {records:,} records")
        signed: queue.Queue[bytes] = queue.Queue(maxsize=64)

        def sign() -> None:  # signing runs beside the node, a chunk ahead
            for chunk in range(0, txs, 10):
                n = min(10, txs - chunk)
                for raw in signed_batches(
                    description["chainId"],
                    weighing,
                    aachen.gateway,
                    aachen.scales[0],
                    n,
                    BATCH,
                    first_nonce=first_nonce + chunk,
                    first_seq=chunk * BATCH + 1,
                ):
                    signed.put(raw)

        threading.Thread(target=sign, daemon=True).start()
        start = time.perf_counter()
        pending: deque[str] = deque()
        sent = done = 0
        step = max(1, txs // 10)
        while done < txs:
            while sent < txs and len(pending) < IN_FLIGHT:
                pending.append(rpc("eth_sendRawTransaction", ["0x" + signed.get(timeout=600).hex()]))
                sent += 1
            receipt = rpc("eth_getTransactionReceipt", [pending[0]])
            if receipt is None:
                time.sleep(0.05)
                continue
            if receipt["status"] != "0x1":
                raise RuntimeError(f"transaction failed: {receipt}")
            pending.popleft()
            done += 1
            if done % step == 0 or done == txs:
                samples.append(_sample(done * BATCH, pid, node_dir, time.perf_counter() - start))
                say(
                    f"  {done * BATCH:>7,} records: {samples[-1]['rssMiB']:.0f} MiB RSS, "
                    f"{samples[-1]['storeMiB']:.1f} MiB store, {samples[-1]['seconds']:.0f} s"
                )
        seconds = time.perf_counter() - start
        time.sleep(2)
        after = _sample(records, pid, node_dir, seconds)
        return {
            "records": txs * BATCH,
            "seconds": seconds,
            "recordsPerSecond": txs * BATCH / seconds,
            "before": samples[0],
            "after": after,
            "peakRssMiB": proc_status(pid, "VmHWM") / MIB,
            "samples": samples,
        }
    finally:
        down(data_dir)


def _sample(records: int, pid: int, node_dir: Path, seconds: float) -> dict[str, Any]:
    return {
        "records": records,
        "seconds": round(seconds, 1),
        "rssMiB": proc_status(pid, "VmRSS") / MIB,
        "storeMiB": store_bytes(node_dir) / MIB,
    }


def rows(records: int, blocks: int, folder: Path, say: Any) -> list[Row]:
    out: list[Row] = []
    if records:
        say(f"resources: node memory and disk over {records:,} weighing records (1-node devnet)")
        m = memory_and_disk(records, folder / "memory", say)
        n = m["records"]
        before, after = m["before"], m["after"]
        per_1000 = (after["storeMiB"] - before["storeMiB"]) / (n / 1000)
        out += [
            Row("rss:start", "resources", "node memory (RSS) after start", before["rssMiB"], "MiB",
                note="1-node devnet, contracts deployed"),
            Row(f"rss:{n}", "resources", f"node memory (RSS) after {n:,} records", after["rssMiB"], "MiB",
                note=f"peak {m['peakRssMiB']:.0f} MiB; batches of 100 via eth_sendRawTransaction", detail=m),
            Row("disk:per1000", "resources", "disk per 1,000 records", per_1000, "MiB",
                note=f"chain.sqlite + WAL: {before['storeMiB']:.1f} → {after['storeMiB']:.1f} MiB"),
            Row(f"feed:{n}", "resources", f"sustained intake, {n:,} records, 1 node", m["recordsPerSecond"],
                RECORDS_PER_S, note="raw signed batches, 16 in flight, no gateway"),
        ]  # fmt: skip
    if blocks:
        say(f"resources: a new node syncing {blocks:,} blocks")
        s = sync_time(blocks, folder / "sync", say)
        out += [
            Row(f"sync:{blocks}", "resources", f"new node syncs {blocks:,} blocks", s["syncSeconds"], "s",
                note=f"{blocks / s['syncSeconds']:.0f} blocks/s over mTLS p2p, seals checked, re-executed; "
                f"1 tx per block", detail=s),
            Row(f"startcheck:{blocks}", "resources", f"node start with store check, {blocks:,} blocks",
                s["startSeconds"], "s", note="every block, seal and state row verified"),
            Row("disk:per1000blocks", "resources", "disk per 1,000 blocks (1 tx each)",
                s["storeMiB"] / (blocks / 1000), "MiB", note="chain.sqlite + WAL of the synced node"),
        ]  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--blocks", type=int, default=10_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    import tempfile

    console = Console()
    with tempfile.TemporaryDirectory(prefix="govchain-resources-") as tmp:
        result = rows(args.records, args.blocks, Path(tmp), console.print)
    console.print(render(result, "Node resources"))
    if args.json:
        args.json.write_text(json.dumps([r.to_json() for r in result], indent=2) + "\n")


if __name__ == "__main__":
    main()
