"""The main job: a 5-city devnet with aachen's weighing and registry services, simulated scales
posting signed weighings, one of them proven offline, and a sample extract attested by aachen's
clerk. The devnet keeps running for a look around."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import requests
from rich.console import Console
from rich.table import Table

from apps.registry.demo import attest_sample
from apps.weighing.simulator import run_simulation
from devnet.network import DevnetOptions, down, load, up
from ledger.verify import load_trust, verify_bundle


def run_showcase(console: Console, data_dir: Path, nodes: int = 5, seconds: float = 10) -> None:
    if (data_dir / "devnet.json").exists():
        down(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)
    console.rule(f"[bold]govchain: {nodes} city nodes, QBFT, the weighing and registry services")
    description = up(
        DevnetOptions(data_dir=data_dir, nodes=nodes),
        progress=lambda line: console.print(f"[dim]•[/dim] {line}"),
    )
    service = description["apps"]["weighing"]
    console.rule("scales of aachen post signed weighings / Waagen senden signierte Wiegungen")
    progress = run_simulation(data_dir, "aachen", scales=5, rate=10, duration=seconds)
    console.print(f"sent {progress.sent}, accepted {progress.accepted}, refused {progress.refused}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        counts = requests.get(f"{service}/health", timeout=5).json()["outbox"]
        if counts.get("final", 0) + counts.get("rejected", 0) >= progress.accepted:
            break
        time.sleep(0.5)
    console.print(f"outbox: {counts}")
    token_file = data_dir / "apps" / "weighing-aachen-DEV-STAFF-TOKEN.txt"
    staff = {"Authorization": f"Bearer {token_file.read_text().strip()}"}  # billing office's view
    reply = requests.get(f"{service}/v1/weighings", params={"limit": 3}, headers=staff, timeout=10)
    items = reply.json()["items"]
    table = Table("recordId", "scale", "seq", "netKg", "AVV", "status / Status")
    for item in items:
        table.add_row(
            item["recordId"][:18] + "…",
            item["scale"][:12] + "…",
            str(item["seq"]),
            str(item["netKg"]),
            str(item["avvCode"]),
            item["status"],
        )
    console.print(table)
    if items:
        record_id = items[0]["recordId"]
        bundle = requests.get(f"{service}/v1/weighings/{record_id}/proof", timeout=30).json()
        (data_dir / "bundle.json").write_text(json.dumps(bundle, indent=2) + "\n")
        console.rule("offline proof / Nachweis ohne Server")
        console.print(
            verify_bundle(bundle, load_trust(data_dir / "trust.json")).describe(),
            highlight=False,
            soft_wrap=True,
        )
    console.rule("registry extract / Registerauskunft")
    sample = attest_sample(data_dir, description)
    console.print(f"aachen's clerk attested {sample.pdf.name}: {sample.status}; QR code {sample.qr}")
    nodes_info = load(data_dir)["nodes"]
    console.rule("where to look / wo nachsehen")
    console.print(f"weighing service  {service}   OpenAPI: {service}/docs")
    console.print(
        f'  curl -H "Authorization: Bearer $(cat {token_file})" '
        f'"{service}/v1/totals?period=day&by=avv&format=csv"   (staff token: devnet only)'
    )
    registry = description["apps"]["registry"]
    console.print(
        f"registry service  {registry}   verify a file (Prüfseite): {registry}/   OpenAPI: {registry}/docs"
    )
    console.print(f"  the sample extract: {sample.verify_url}")
    console.print(
        f"  clerks (Sachbearbeitung): {registry}/clerk   dev key: accounts.aachen.clerk.privateKey "
        f"in {data_dir / 'devnet.json'}"
    )
    for node in nodes_info:
        console.print(f"node {node['name']:14} JSON-RPC {node['rpc']}   WebSocket {node['ws']}")
    console.print(
        f"proof bundle      {data_dir / 'bundle.json'}  (govchain verify … --trust {data_dir / 'trust.json'})"
    )
    console.print(
        f"[bold]the devnet keeps running:[/bold] ./govchain devnet status|down --data-dir {data_dir}"
    )
