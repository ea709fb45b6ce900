"""The one workload of the benchmarks: scale-signed weighings queued in a gateway's durable outbox
and submitted by its submitter in `submitBatch` transactions, timed until every record is final.
Any engine that speaks Ethereum JSON-RPC can be behind the gateway (our node, a devnet, anvil)."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from bench.node_throughput import node_time, signed_batches
from devnet.samples import sample_weighing
from ledger.deploy import ContractAddresses
from ledger.gateway import Gateway, GatewaySettings
from ledger.outbox import FINAL, REJECTED
from ledger.records import Weighing, domain_for
from ledger.submitter import SubmitterConfig
from ledger.trust import trust_from_node
from ledger.verify import verify_bundle


@dataclass
class GatewayRun:
    records: int
    intake_seconds: float  # durable outbox commits of every record (one fsync each)
    final_seconds: float  # from starting the submitter (all records queued) to the last one final
    tx_latencies: list[float]  # per transaction: signed -> its records final
    bundles: list[dict[str, Any]] = field(default_factory=list)
    trust: dict[str, Any] = field(default_factory=dict)

    @property
    def intake_rate(self) -> float:
        return self.records / self.intake_seconds

    @property
    def final_rate(self) -> float:
        return self.records / self.final_seconds


def gateway_settings(
    outbox: Path, urls: list[str], chain_id: int, contracts: dict[str, str], batch: int = 100
) -> GatewaySettings:
    return GatewaySettings(
        outbox=outbox,
        node_urls=urls,
        chain_id=chain_id,
        contracts=ContractAddresses(
            *(to_checksum_address(contracts[k]) for k in ("consortium", "weighing", "registry"))
        ),
        submitter=SubmitterConfig(batch_size=batch),
    )


def drive_gateway(
    settings: GatewaySettings,
    account: LocalAccount,
    scale: LocalAccount,
    records: int,
    first_seq: int = 1,
    bundles: int = 0,
    timeout: float = 1800,
) -> GatewayRun:
    """Queues `records` signed weighings of `scale` (seq from `first_seq`), then starts the
    submitter and waits until all are final; optionally builds `bundles` proof bundles."""
    gateway = Gateway(settings, account)
    try:
        domain = domain_for(Weighing, settings.chain_id, settings.contracts.weighing)
        now_ms = int(time.time() * 1000)
        signed = []
        for seq in range(first_seq, first_seq + records):
            w = sample_weighing(scale.address, seq, measured_at=now_ms)
            signed.append((w, w.sign(domain, scale.key)))
        start = time.perf_counter()
        keys = [gateway.submit("weighing", w, s)[0].id for w, s in signed]
        intake = time.perf_counter() - start
        start = time.perf_counter()
        gateway.start()
        deadline = time.monotonic() + timeout
        while True:
            counts = gateway.outbox.counts()
            if counts.get(REJECTED):
                raise RuntimeError(f"records were rejected: {gateway.outbox.items(REJECTED, limit=3)}")
            if counts.get(FINAL, 0) >= records:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"not final after {timeout} s: {counts}")
            time.sleep(0.02)
        final = time.perf_counter() - start
        run = GatewayRun(records, intake, final, tx_latencies(settings.outbox))
        if bundles:
            run.bundles = [gateway.bundle(k) for k in keys[:: max(1, records // bundles)][:bundles]]
            run.trust = trust_from_node(gateway.rpc)
        return run
    finally:
        gateway.stop()


def tx_latencies(outbox: Path) -> list[float]:
    """Seconds from signing each final transaction to its records' settlement, from the outbox."""
    with sqlite3.connect(outbox) as db:
        rows = db.execute(
            "SELECT t.created_at, MAX(i.updated_at) FROM txs t JOIN items i ON i.nonce = t.nonce "
            "WHERE t.state = 'final' AND i.state = 'final' GROUP BY t.nonce"
        ).fetchall()
    return [float(settled) - float(signed) for signed, settled in rows]


def verification_rate(bundles: list[dict[str, Any]], trust: dict[str, Any], seconds: float = 3) -> float:
    """Offline bundle verifications per second (every verdict must be valid)."""
    start = time.perf_counter()
    done = 0
    while time.perf_counter() - start < seconds:
        for bundle in bundles:
            verdict = verify_bundle(bundle, trust)
            assert verdict.valid, verdict.describe()
            done += 1
    return done / (time.perf_counter() - start)


def direct_rate(
    rpc: str,
    chain_id: int,
    weighing: str,
    sender: LocalAccount,
    scale: LocalAccount,
    records: int,
    batch: int,
) -> float:
    """Records/s of the same batches signed up front and sent with eth_sendRawTransaction, no gateway:
    from the first send until the last receipt (bench/node_throughput.py's measurement)."""
    reply = requests.post(
        rpc,
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_getTransactionCount",
            "params": [sender.address, "pending"],
        },
        timeout=30,
    ).json()
    nonce = int(reply["result"], 16)
    raws = signed_batches(chain_id, weighing, sender, scale, records // batch, batch, first_nonce=nonce)
    return records // batch * batch / node_time(rpc, raws)
