"""Node throughput for the weighing workload next to the raw py-evm limit, measured in one run.

Run: .venv/bin/python bench/node_throughput.py [--txs 20] [--batch 50] [--json FILE]

1. raw limit: the signed transactions (each a submitBatch of `batch` scale-signed weighings)
   executed in-process in one block by the node's own block builder (py-evm, no RPC, no disk);
2. node: a fresh 1-node devnet; the very same raw transactions sent with eth_sendRawTransaction,
   timed from the first send until the last receipt is final.
Both start from the same genesis and deployments, so the transactions are byte-identical.
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

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey
from rich.console import Console
from rich.table import Table

from contracts.artifacts import load_artifact
from contracts.genesis import CONSORTIUM_ADDRESS
from devnet.keys import CityKeys
from devnet.network import DevnetOptions, down, up
from devnet.samples import free_gas_transaction, sample_weighing
from ledger.connect import connect
from ledger.deploy import bind
from ledger.records import Weighing, domain_for
from nodes.chain.chain import Chain, seal_for
from nodes.chain.execution import TX_BUILDER
from nodes.genesis import Genesis
from nodes.storage.sqlite import SqliteStore


def signed_batches(
    chain_id: int, weighing_address: str, gateway: LocalAccount, scale: LocalAccount, txs: int, batch: int
) -> list[bytes]:
    contract = bind(connect("http://unused.invalid"), "WeighingLedger", weighing_address)
    domain = domain_for(Weighing, chain_id, weighing_address)
    raws = []
    seq = 0
    now_ms = int(time.time() * 1000)
    for nonce in range(txs):
        records, signatures = [], []
        for _ in range(batch):
            seq += 1
            w = sample_weighing(scale.address, seq, measured_at=now_ms)
            records.append(w.as_abi())
            signatures.append(w.sign(domain, scale.key))
        data = contract.encode_abi("submitBatch", [records, signatures])
        tx = free_gas_transaction(nonce, weighing_address, data, 100_000 * batch + 200_000, chain_id)
        raws.append(bytes(Account.sign_transaction(tx, gateway.key).raw_transaction))
    return raws


def raw_limit(
    genesis: Genesis, admin: LocalAccount, validators: list[LocalAccount], raws: list[bytes]
) -> float:
    """Seconds the node's block builder needs to execute `raws` in one block, in-process."""
    with tempfile.TemporaryDirectory() as tmp:
        chain = Chain(SqliteStore(Path(tmp) / "chain.sqlite"), genesis)
        proposer = bytes.fromhex(validators[0].address[2:])
        deployments = []
        for nonce, name in enumerate(("WeighingLedger", "RegistryAttestations")):
            code = load_artifact(name).bytecode + bytes(12) + bytes.fromhex(CONSORTIUM_ADDRESS[2:])
            tx = free_gas_transaction(nonce, None, code, 5_000_000, genesis.chain_id)
            deployments.append(
                TX_BUILDER.decode(bytes(Account.sign_transaction(tx, admin.key).raw_transaction))
            )
        setup = chain.propose(deployments, timestamp=int(time.time()), proposer=proposer)
        chain.commit_proposal(setup, [seal_for(setup.block, eth_key(v)) for v in validators])
        txs = [TX_BUILDER.decode(raw) for raw in raws]
        start = time.perf_counter()
        proposal = chain.propose(txs, timestamp=int(time.time()), proposer=proposer)
        elapsed = time.perf_counter() - start
        assert len(proposal.executed.transactions) == len(txs), proposal.executed.skipped
        assert all(r.state_root == b"\x01" for r in proposal.executed.receipts)
        chain.store.close()
        return elapsed


def eth_key(account: LocalAccount) -> PrivateKey:
    return PrivateKey(account.key)


def node_time(rpc: str, raws: list[bytes]) -> float:
    session = requests.Session()

    def call(method: str, params: list[Any]) -> Any:
        reply = session.post(
            rpc, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=120
        )
        body = reply.json()
        if "error" in body:
            raise RuntimeError(f"{method}: {body['error']}")
        return body["result"]

    start = time.perf_counter()
    hashes = [call("eth_sendRawTransaction", ["0x" + raw.hex()]) for raw in raws]
    pending = list(hashes)
    while pending:
        receipt = call("eth_getTransactionReceipt", [pending[0]])
        if receipt is None:
            time.sleep(0.02)
            continue
        assert receipt["status"] == "0x1", receipt
        pending.pop(0)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--txs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--block-period", type=float, default=1.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    records = args.txs * args.batch
    aachen = CityKeys.derive("aachen")

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "devnet"
        description = up(
            DevnetOptions(data_dir=data_dir, nodes=1, block_period=args.block_period, base_port=18545)
        )
        try:
            genesis = Genesis.load(data_dir / "genesis.json")
            weighing = description["contracts"]["weighing"]
            raws = signed_batches(
                genesis.chain_id, weighing, aachen.gateway, aachen.scales[0], args.txs, args.batch
            )
            node_seconds = node_time(description["nodes"][0]["rpc"], raws)
        finally:
            down(data_dir)
        raw_seconds = raw_limit(genesis, aachen.admin, [aachen.validator], raws)

    node_rate, raw_rate = records / node_seconds, records / raw_seconds
    table = Table(
        title=f"Weighing workload: {args.txs} transactions x {args.batch} records "
        f"({platform.machine()}, {os.cpu_count()} cores)"
    )
    table.add_column("engine")
    table.add_column("records/s", justify="right")
    table.add_column("tx/s", justify="right")
    table.add_column("seconds", justify="right")
    table.add_row(
        "raw py-evm (in-process block build)",
        f"{raw_rate:.1f}",
        f"{args.txs / raw_seconds:.2f}",
        f"{raw_seconds:.2f}",
    )
    table.add_row(
        f"node over JSON-RPC, until final (period {args.block_period} s)",
        f"{node_rate:.1f}",
        f"{args.txs / node_seconds:.2f}",
        f"{node_seconds:.2f}",
    )
    Console().print(table)
    ratio = node_rate / raw_rate
    print(f"node / raw limit = {ratio:.2f} (goal ≥ 0.70)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "records": records,
                    "rawRecordsPerSecond": raw_rate,
                    "nodeRecordsPerSecond": node_rate,
                    "ratio": ratio,
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
