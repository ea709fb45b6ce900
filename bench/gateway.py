"""Records per second through the gateway to final, and offline verifications per second.

Run: .venv/bin/python bench/gateway.py [--records 1000] [--nodes 1] [--json FILE]

A fresh devnet; `records` scale-signed weighings are queued in the gateway's outbox (durably,
as a service would acknowledge them), the submitter batches them, and the clock stops when the
last one is final. Then proof bundles of some of them are verified offline, repeatedly.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from devnet.keys import CityKeys
from devnet.network import DevnetOptions, down, up
from devnet.samples import sample_weighing
from ledger.deploy import ContractAddresses
from ledger.gateway import Gateway, GatewaySettings
from ledger.records import Weighing, domain_for
from ledger.submitter import SubmitterConfig
from ledger.trust import trust_from_node
from ledger.verify import verify_bundle


def run(records: int, nodes: int, batch: int) -> dict[str, Any]:
    aachen = CityKeys.derive("aachen")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "devnet"
        description = up(DevnetOptions(data_dir=data_dir, nodes=nodes, base_port=19500))
        try:
            c = description["contracts"]
            settings = GatewaySettings(
                outbox=Path(tmp) / "outbox.sqlite",
                node_urls=[n["rpc"] for n in description["nodes"]],
                chain_id=description["chainId"],
                contracts=ContractAddresses(c["consortium"], c["weighing"], c["registry"]),
                submitter=SubmitterConfig(batch_size=batch),
            )
            gateway = Gateway(settings, aachen.gateway)
            domain = domain_for(Weighing, description["chainId"], c["weighing"])
            scale = aachen.scales[0]
            now_ms = int(time.time() * 1000)
            signed = []
            for seq in range(1, records + 1):
                w = sample_weighing(scale.address, seq, measured_at=now_ms)
                signed.append((w, w.sign(domain, scale.key)))
            start = time.perf_counter()
            keys = [gateway.submit("weighing", w, s)[0].id for w, s in signed]
            intake = time.perf_counter() - start
            gateway.start()
            while gateway.outbox.counts().get("final", 0) < records:
                time.sleep(0.05)
            to_final = time.perf_counter() - start
            bundles = [gateway.bundle(k) for k in keys[:: max(1, records // 20)]]
            trust = trust_from_node(gateway.rpc)
            gateway.stop()
        finally:
            down(data_dir)
    start = time.perf_counter()
    rounds = 0
    while time.perf_counter() - start < 3:
        for bundle in bundles:
            assert verify_bundle(bundle, trust).valid
        rounds += 1
    verify_rate = rounds * len(bundles) / (time.perf_counter() - start)
    return {
        "records": records,
        "nodes": nodes,
        "batch": batch,
        "intakePerSecond": records / intake,
        "finalPerSecond": records / to_final,
        "secondsToFinal": to_final,
        "verificationsPerSecond": verify_rate,
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
