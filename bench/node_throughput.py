"""Node throughput for the weighing workload next to the raw py-evm limit, measured in one run.

Run: .venv/bin/python bench/node_throughput.py [--txs 20] [--batch 50] [--json FILE]

1. raw limit: the signed transactions (each a submitBatch of `batch` scale-signed weighings)
   executed in-process by the node's own block builder (py-evm, no RPC; blocks filled up to the
   gas limit, only their execution timed, not the commit to disk);
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
from eth._utils.address import generate_contract_address
from eth.abc import SignedTransactionAPI
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey
from eth_typing import Address
from eth_utils.address import to_checksum_address
from rich.console import Console
from rich.table import Table

from contracts.artifacts import load_artifact
from contracts.genesis import CONSORTIUM_ADDRESS
from devnet.keys import DEV_CITIES, CityKeys, dev_founding
from devnet.network import DEVNET_CHAIN_ID, DevnetOptions, down, up
from devnet.samples import free_gas_transaction, sample_weighing
from ledger.connect import connect
from ledger.deploy import bind
from ledger.records import Weighing, domain_for
from nodes.chain.chain import Chain, seal_for
from nodes.chain.execution import TX_BUILDER
from nodes.genesis import Genesis, make_genesis
from nodes.storage.sqlite import SqliteStore


def signed_batches(
    chain_id: int,
    weighing_address: str,
    gateway: LocalAccount,
    scale: LocalAccount,
    txs: int,
    batch: int,
    first_nonce: int = 0,
    first_seq: int = 1,
) -> list[bytes]:
    contract = bind(connect("http://unused.invalid"), "WeighingLedger", weighing_address)
    domain = domain_for(Weighing, chain_id, weighing_address)
    raws = []
    seq = first_seq - 1
    now_ms = int(time.time() * 1000)
    for nonce in range(first_nonce, first_nonce + txs):
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
    """Seconds the node's block builder needs to execute `raws` (in as many blocks as their gas
    needs), in-process; only the execution is timed, not the commits."""
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
        keys = [eth_key(v) for v in validators]
        setup = chain.propose(deployments, timestamp=int(time.time()), proposer=proposer)
        chain.commit_proposal(setup, [seal_for(setup.block, k) for k in keys])
        elapsed = 0.0
        for block in fit_blocks([TX_BUILDER.decode(raw) for raw in raws], genesis.gas_limit):
            start = time.perf_counter()
            proposal = chain.propose(block, timestamp=int(time.time()), proposer=proposer)
            elapsed += time.perf_counter() - start  # execution only; the commit (disk) is not timed
            assert len(proposal.executed.transactions) == len(block), proposal.executed.skipped
            assert all(r.state_root == b"\x01" for r in proposal.executed.receipts)
            chain.commit_proposal(proposal, [seal_for(proposal.block, k) for k in keys])
        chain.store.close()
        return elapsed


def fit_blocks(txs: list[SignedTransactionAPI], gas_limit: int) -> list[list[SignedTransactionAPI]]:
    """The transactions in order, cut into blocks whose summed gas limits fit the block's."""
    blocks: list[list[SignedTransactionAPI]] = [[]]
    used = 0
    for tx in txs:
        if blocks[-1] and used + tx.gas > gas_limit:
            blocks.append([])
            used = 0
        blocks[-1].append(tx)
        used += tx.gas
    return [b for b in blocks if b]


def dev_raw_rate(txs: int, batch: int) -> float:
    """Records/s of the raw limit for `txs` submitBatch transactions of `batch` weighings, on a
    fresh dev genesis (aachen validating), without any node process."""
    cities = tuple(CityKeys.derive(c) for c in DEV_CITIES)
    aachen = cities[0]
    genesis = make_genesis(
        DEVNET_CHAIN_ID,
        dev_founding(cities, int(time.time()) + 365 * 86400),
        [aachen.validator.address],
        int(time.time()),
    )
    # raw_limit deploys WeighingLedger first, from the admin's nonce 0
    weighing = to_checksum_address(
        generate_contract_address(Address(bytes.fromhex(aachen.admin.address[2:])), 0)
    )
    raws = signed_batches(genesis.chain_id, weighing, aachen.gateway, aachen.scales[0], txs, batch)
    return txs * batch / raw_limit(genesis, aachen.admin, [aachen.validator], raws)


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
