"""The harness's row groups: each runs one benchmark of the project (reusing its module) and returns
rows for the one table. The weighing workload is the same everywhere: scale-signed weighings in
`submitBatch` transactions of 100, through the project's gateway and outbox."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import gas, network, node_throughput, registry_service, weighing_service
from bench.report import RECORDS_PER_S, Row, percentile
from bench.workload import (
    GatewayRun,
    direct_rate,
    drive_gateway,
    gateway_settings,
    verification_rate,
)
from devnet.anvil import anvil_chain
from devnet.keys import CityKeys
from devnet.network import PORTS_PER_NODE, DevnetOptions, down, up
from devnet.ports import free_base_port
from ledger.connect import connect
from ledger.deploy import bind
from ledger.records import Weighing, domain_for

GROUPS = ("raw", "node", "devnet", "anvil", "service", "registry", "verify", "gas", "network", "resources")
FULL_ONLY = ("network", "resources")
BATCH = 100
BASE_PORT = 21000  # devnets of the harness: 21000 and up, away from the defaults of other tools
Say = Callable[[str], None]


@dataclass(frozen=True)
class Sizes:
    records: int  # per workload row (a multiple of BATCH)
    service_rates: tuple[float, ...]
    service_seconds: float
    verify_seconds: float
    gas_repeat: int
    network_validators: tuple[int, ...] = (1, 4, 5, 7)
    network_txs: int = 200
    resource_records: int = 100_000
    sync_blocks: int = 10_000


QUICK = Sizes(records=1000, service_rates=(25,), service_seconds=8, verify_seconds=1.5, gas_repeat=3)
FULL = Sizes(records=3000, service_rates=(25, 50, 100), service_seconds=10, verify_seconds=3, gas_repeat=5)


def _gateway_row(key: str, name: str, run: GatewayRun, note: str) -> Row:
    return Row(
        key,
        "workload",
        name,
        run.final_rate,
        RECORDS_PER_S,
        percentile(run.tx_latencies, 0.5),
        percentile(run.tx_latencies, 0.95),
        note,
        workload=True,
        detail={
            "records": run.records,
            "intakeSeconds": run.intake_seconds,
            "finalSeconds": run.final_seconds,
        },
    )


LATENCY_NOTE = "p50/p95: a batch's transaction signed → final (8 in flight)"


def raw_rows(sizes: Sizes, say: Say) -> list[Row]:
    say(f"raw py-evm limit: {sizes.records} records in-process")
    rate = node_throughput.dev_raw_rate(sizes.records // BATCH, BATCH)
    note = "node's block builder, no RPC; execution only, blocks up to the gas limit"
    return [
        Row(
            "raw",
            "workload",
            "raw py-evm limit (in-process block build)",
            rate,
            RECORDS_PER_S,
            note=note,
            workload=True,
        )
    ]


def node_rows(sizes: Sizes, say: Say, folder: Path) -> list[Row]:
    aachen = CityKeys.derive("aachen")
    data_dir = folder / "devnet"
    port = free_base_port(BASE_PORT, PORTS_PER_NODE + 2)
    description = up(DevnetOptions(data_dir=data_dir, nodes=1, base_port=port))
    try:
        say(f"one node over JSON-RPC via the gateway: {sizes.records} records")
        rpc, contracts = description["nodes"][0]["rpc"], description["contracts"]
        settings = gateway_settings(folder / "outbox.sqlite", [rpc], description["chainId"], contracts, BATCH)
        run = drive_gateway(settings, aachen.gateway, aachen.scales[1], sizes.records)
        say("the same node, the same batches signed up front, no gateway")
        direct = direct_rate(
            rpc,
            description["chainId"],
            contracts["weighing"],
            aachen.gateway,
            aachen.scales[0],
            sizes.records,
            BATCH,
        )
    finally:
        down(data_dir)
    return [
        _gateway_row("node1", "1 node (validator) over JSON-RPC via the gateway", run, LATENCY_NOTE),
        Row("node1:direct", "workload", "1 node, batches sent directly (no gateway)", direct, RECORDS_PER_S,
            note="pre-signed, eth_sendRawTransaction, first send → last receipt", workload=True),
        Row("intake", "gateway", "gateway durable intake (outbox commit, fsync each)", run.intake_rate,
            RECORDS_PER_S, note="what a service can acknowledge (HTTP 202) per second"),
    ]  # fmt: skip


def devnet_rows(sizes: Sizes, say: Say, folder: Path, groups: set[str]) -> list[Row]:
    """The 5-validator devnet: the gateway workload, then (same devnet) the weighing service at
    steady offered rates, and offline verification of bundles of its records."""
    aachen = CityKeys.derive("aachen")
    data_dir = folder / "devnet"
    port = free_base_port(BASE_PORT + 500, PORTS_PER_NODE * 5 + 2)
    say(f"5-validator devnet on ports {port}+")
    description = up(DevnetOptions(data_dir=data_dir, nodes=5, base_port=port))
    rows: list[Row] = []
    try:
        records = sizes.records if "devnet" in groups else BATCH
        say(f"5-node devnet via the gateway: {records} records")
        settings = gateway_settings(
            folder / "outbox.sqlite",
            [n["rpc"] for n in description["nodes"]],
            description["chainId"],
            description["contracts"],
            BATCH,
        )
        run = drive_gateway(settings, aachen.gateway, aachen.scales[1], records, bundles=20)
        if "devnet" in groups:
            note = LATENCY_NOTE + "; all 5 validators share this machine"
            rows.append(_gateway_row("devnet5", "5-node devnet via the gateway", run, note))
        if "service" in groups:
            rows += _service_rows(description, data_dir, sizes, say)
        if "registry" in groups:
            rows += _registry_rows(str(description["apps"]["registry"]), sizes, say)
        if "verify" in groups:
            say("offline bundle verification (5-validator seals)")
            rate = verification_rate(run.bundles, run.trust, sizes.verify_seconds)
            note = "govchain verify: header, 4 of 5 seals, receipt proof"
            rows.append(
                Row("verify", "gateway", "proof bundle verification (offline)", rate, "bundles/s", note=note)
            )
    finally:
        down(data_dir)
    return rows


def _service_rows(description: dict[str, Any], data_dir: Path, sizes: Sizes, say: Say) -> list[Row]:
    from apps.weighing.simulator import ensure_scales

    contracts = description["contracts"]
    scales = ensure_scales(description, "aachen", 20)
    ledger = bind(connect(description["nodes"][0]["rpc"]), "WeighingLedger", contracts["weighing"])
    # the scales' counters continue from the chain (the gateway rows may have used one of them)
    seqs: dict[str, int] = {s.address: int(ledger.functions.lastSeq(s.address).call()) for s in scales}
    domain = domain_for(Weighing, description["chainId"], contracts["weighing"])
    url = str(description["apps"]["weighing"])
    outbox = data_dir / "apps" / "weighing-aachen" / "outbox.sqlite"
    rows = []
    for rate in sizes.service_rates:
        say(f"weighing service: {rate:.0f}/s offered for {sizes.service_seconds:.0f} s, POST → final")
        r = weighing_service.step(url, outbox, scales, seqs, domain, rate, sizes.service_seconds)
        rows.append(
            Row(
                f"service@{rate:.0f}",
                "workload",
                f"weighing service, {rate:.0f}/s offered (5 nodes)",
                r["finalPerSecond"],
                RECORDS_PER_S,
                r["p50"],
                r["p95"],
                f"POST → final; accepted {r['accepted']:.1f}/s; 20 scales",
                workload=True,
                detail=r,
            )
        )
    return rows


def _registry_rows(url: str, sizes: Sizes, say: Say) -> list[Row]:
    say(
        f"registry service: verifications by hash and by upload, 8 clients, {sizes.verify_seconds:.0f} s each"
    )
    rows = []
    for r in registry_service.verifications(url, clients=8, seconds=sizes.verify_seconds):
        key = "registry:" + r["mode"].split(" (")[0].replace(", ", ":").replace(" ", "-")
        rows.append(
            Row(
                key,
                "registry",
                f"registry service, verification {r['mode'].split(' (')[0]}",
                r["perSecond"],
                "verifications/s",
                r["p50ms"] / 1000,
                r["p95ms"] / 1000,
                f"p99 {r['p99ms']:.0f} ms; 8 clients; {r['failures']} not 200",
                detail=r,
            )
        )
    return rows


def anvil_rows(sizes: Sizes, say: Say, folder: Path) -> list[Row]:
    say(f"anvil via the same gateway: {sizes.records} records")
    aachen = CityKeys.derive("aachen")
    with anvil_chain(folder / "anvil.log") as chain:
        settings = gateway_settings(
            folder / "outbox.sqlite", [chain["rpc"]], chain["chainId"], chain["contracts"], BATCH
        )
        run = drive_gateway(settings, aachen.gateway, aachen.scales[0], sizes.records)
        say("anvil, the same batches signed up front, no gateway")
        direct = direct_rate(
            chain["rpc"], chain["chainId"], chain["contracts"]["weighing"], aachen.gateway, aachen.scales[1],
            sizes.records, BATCH,
        )  # fmt: skip
    note = "anvil (Foundry, Rust revm), automine; " + LATENCY_NOTE
    return [
        _gateway_row("anvil", "anvil via the same gateway", run, note),
        Row("anvil:direct", "workload", "anvil, batches sent directly (no gateway)", direct, RECORDS_PER_S,
            note="pre-signed, eth_sendRawTransaction, first send → last receipt", workload=True),
    ]  # fmt: skip


def gas_rows(sizes: Sizes, say: Say) -> list[Row]:
    say(f"gas per operation (in-process chain, median of {sizes.gas_repeat})")
    rows = []
    for r in gas.run(sizes.gas_repeat):
        data = r.as_json()
        key = "gas:" + r.operation.split(" (")[0].replace(", ", ":").replace(" ", "-")
        note = f"{data['msPerItem']:.1f} ms/item wall on the eth-tester chain"
        rows.append(Row(key, "gas", f"gas: {r.operation}", float(data["gasPerItem"]), "gas/item", note=note))
    return rows


def network_rows(sizes: Sizes, say: Say) -> list[Row]:
    rows = []
    for n in sizes.network_validators:
        say(f"QBFT network: {n} validator(s), {sizes.network_txs} single-weighing transactions")
        r = network.run_size(n, sizes.network_txs, 1.0, BASE_PORT + 1000)
        note = f"single `submit` per tx; {r['blocksPerSecond']:.2f} blocks/s; p50/p95: send → in a block"
        rows.append(
            Row(
                f"network:{n}",
                "network",
                f"QBFT network, {n} validator(s)",
                r["txPerSecond"],
                "tx/s",
                r["latencyP50"],
                r["latencyP95"],
                note,
                detail=r,
            )
        )
    return rows


def run_groups(groups: set[str], sizes: Sizes, say: Say) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="govchain-bench-") as tmp:
        folder = Path(tmp)
        if "raw" in groups:
            rows += raw_rows(sizes, say)
        if "node" in groups:
            (folder / "node").mkdir()
            rows += node_rows(sizes, say, folder / "node")
        if groups & {"devnet", "service", "registry", "verify"}:
            (folder / "devnet5").mkdir()
            rows += devnet_rows(sizes, say, folder / "devnet5", groups)
        if "anvil" in groups:
            (folder / "anvil").mkdir()
            rows += anvil_rows(sizes, say, folder / "anvil")
        if "gas" in groups:
            rows += gas_rows(sizes, say)
        if "network" in groups:
            rows += network_rows(sizes, say)
        if "resources" in groups:
            from bench import resources

            rows += resources.rows(sizes.resource_records, sizes.sync_blocks, folder / "resources", say)
    order = {
        key: i for i, key in enumerate(("raw", "node1", "node1:direct", "devnet5", "anvil", "anvil:direct"))
    }
    return sorted(rows, key=lambda r: (r.group != "workload", order.get(r.key, len(order))))
