"""Blocks/s, transactions/s and finality latency with 1, 4, 5 and 7 validators, in one run.

Run: .venv/bin/python bench/network.py [--validators 1 4 5 7] [--txs 300] [--json FILE]

For each size: a fresh devnet of that many validator processes on this machine; the aachen
gateway's pre-signed transactions (each one scale-signed weighing, `submit`) are sent to aachen's
node as fast as it takes them; latency is from a transaction's send to the first moment its block
is seen on that node (blocks are final when sealed). The 1-validator row is the single-node figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from eth_account import Account
from rich.console import Console
from rich.table import Table

from devnet.keys import CityKeys
from devnet.network import PORTS_PER_NODE, DevnetOptions, down, up
from devnet.ports import free_base_port
from devnet.samples import free_gas_transaction, sample_weighing
from ledger.connect import connect
from ledger.deploy import bind
from ledger.records import Weighing, domain_for


def presigned(chain_id: int, weighing_address: str, count: int) -> list[bytes]:
    aachen = CityKeys.derive("aachen")
    contract = bind(connect("http://unused.invalid"), "WeighingLedger", weighing_address)
    domain = domain_for(Weighing, chain_id, weighing_address)
    now_ms = int(time.time() * 1000)
    raws = []
    for nonce in range(count):
        scale = aachen.scales[0]
        w = sample_weighing(scale.address, nonce + 1, measured_at=now_ms)
        data = contract.encode_abi("submit", [w.as_abi(), w.sign(domain, scale.key)])
        tx = free_gas_transaction(nonce, weighing_address, data, 400_000, chain_id)
        raws.append(bytes(Account.sign_transaction(tx, aachen.gateway.key).raw_transaction))
    return raws


def measure(rpc: str, raws: list[bytes]) -> dict[str, Any]:
    session = requests.Session()

    def call(method: str, params: list[Any]) -> Any:
        body = session.post(
            rpc, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=60
        ).json()
        if "error" in body:
            raise RuntimeError(f"{method}: {body['error']}")
        return body["result"]

    sent_at: dict[str, float] = {}
    final_at: dict[str, float] = {}
    first_block = int(call("eth_blockNumber", []), 16) + 1
    done = threading.Event()

    def watch() -> None:
        watcher = requests.Session()
        number = first_block
        while not done.is_set():
            reply = watcher.post(
                rpc,
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "eth_getBlockByNumber",
                    "params": [hex(number), False],
                },
                timeout=60,
            ).json()
            block = reply.get("result")
            if block is None:
                time.sleep(0.01)
                continue
            seen = time.perf_counter()
            for tx_hash in block["transactions"]:
                final_at[tx_hash] = seen
            number += 1

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.perf_counter()
    for raw in raws:
        tx_hash = call("eth_sendRawTransaction", ["0x" + raw.hex()])
        sent_at[tx_hash] = time.perf_counter()
    deadline = time.monotonic() + 600
    while len([h for h in sent_at if h in final_at]) < len(raws) and time.monotonic() < deadline:
        time.sleep(0.05)
    done.set()
    elapsed = max(final_at.values()) - start
    last_block = int(call("eth_blockNumber", []), 16)
    latencies = sorted(final_at[h] - sent_at[h] for h in sent_at)
    return {
        "transactions": len(raws),
        "seconds": elapsed,
        "txPerSecond": len(raws) / elapsed,
        "blocks": last_block - first_block + 1,
        "blocksPerSecond": (last_block - first_block + 1) / elapsed,
        "latencyP50": statistics.median(latencies),
        "latencyP95": latencies[int(0.95 * (len(latencies) - 1))],
    }


def run_size(validators: int, txs: int, block_period: float, base_port: int = 19000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "devnet"
        port = free_base_port(base_port, PORTS_PER_NODE * validators + 2)
        options = DevnetOptions(
            data_dir=data_dir, nodes=validators, block_period=block_period, base_port=port
        )
        description = up(options)
        try:
            raws = presigned(description["chainId"], description["contracts"]["weighing"], txs)
            result = measure(description["nodes"][0]["rpc"], raws)
        finally:
            down(data_dir)
    return {"validators": validators, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--validators", type=int, nargs="+", default=[1, 4, 5, 7])
    parser.add_argument("--txs", type=int, default=300)
    parser.add_argument("--block-period", type=float, default=1.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = [run_size(n, args.txs, args.block_period) for n in args.validators]
    single = next((r for r in rows if r["validators"] == 1), rows[0])
    table = Table(
        title=f"QBFT network, {args.txs} weighing transactions, block period {args.block_period} s "
        f"({platform.machine()}, {os.cpu_count()} cores, all validators on this machine)"
    )
    for column in ("validators", "blocks/s", "tx/s", "tx/s vs 1 node", "finality p50 s", "finality p95 s"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(
            str(r["validators"]),
            f"{r['blocksPerSecond']:.2f}",
            f"{r['txPerSecond']:.1f}",
            f"{r['txPerSecond'] / single['txPerSecond']:.2f}",
            f"{r['latencyP50']:.2f}",
            f"{r['latencyP95']:.2f}",
        )
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
