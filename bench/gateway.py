"""Records per second through the gateway to final, and offline verifications per second.

Run: .venv/bin/python bench/gateway.py [--records 1000] [--nodes 1] [--json FILE]

A fresh devnet; `records` scale-signed weighings are queued in the gateway's outbox (durably,
as a service would acknowledge them), the submitter batches them, and the clock stops when the
last one is final. Then proof bundles of some of them are verified offline, repeatedly.
(`govchain bench` runs the same workload on one node, five nodes and anvil in one table.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.workload import drive_gateway, gateway_settings, verification_rate
from devnet.keys import CityKeys
from devnet.network import PORTS_PER_NODE, DevnetOptions, down, up
from devnet.ports import free_base_port


def run(records: int, nodes: int, batch: int) -> dict[str, Any]:
    aachen = CityKeys.derive("aachen")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "devnet"
        base_port = free_base_port(19500, PORTS_PER_NODE * nodes + 2)
        description = up(DevnetOptions(data_dir=data_dir, nodes=nodes, base_port=base_port))
        try:
            settings = gateway_settings(
                Path(tmp) / "outbox.sqlite",
                [n["rpc"] for n in description["nodes"]],
                description["chainId"],
                description["contracts"],
                batch,
            )
            result = drive_gateway(settings, aachen.gateway, aachen.scales[0], records, bundles=20)
        finally:
            down(data_dir)
    return {
        "records": records,
        "nodes": nodes,
        "batch": batch,
        "intakePerSecond": result.intake_rate,
        "finalPerSecond": result.final_rate,
        "secondsToFinal": result.final_seconds,
        "verificationsPerSecond": verification_rate(result.bundles, result.trust),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.records, args.nodes, args.batch)
    table = Table(title=f"Gateway ({platform.machine()}, {os.cpu_count()} cores, {args.nodes} validator(s))")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("durable intake (outbox commits)", f"{result['intakePerSecond']:.0f} records/s")
    table.add_row(f"queued to final, batches of {args.batch}", f"{result['finalPerSecond']:.1f} records/s")
    table.add_row("offline bundle verification", f"{result['verificationsPerSecond']:.0f} bundles/s")
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
