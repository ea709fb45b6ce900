"""How long a new node takes to sync a chain of M blocks from a running node over the p2p network.

The chain is built in-process (the node's own block builder, sealed by both genesis validators,
one small transaction per block: the gateway's 0-value call, checked by the Consortium like any
transaction) straight into the data directory of the first node of a prepared 2-city devnet.
That node is started as a non-validator (so its head stays at M), then the second, empty, also
non-validating node: it verifies every block's seals and re-executes it. The clock runs from the
second node's process start until it reports the same head hash.
"""

from __future__ import annotations

import os
import signal
import time
import tomllib
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_keys.datatypes import PrivateKey

from devnet.keys import CityKeys
from devnet.network import PORTS_PER_NODE, DevnetOptions, pid_alive, prepare, start_node, wait_for_rpc
from devnet.ports import free_base_port
from devnet.samples import free_gas_transaction
from nodes.chain.chain import Chain, seal_for
from nodes.chain.execution import TX_BUILDER
from nodes.config import write_config
from nodes.genesis import Genesis
from nodes.storage.sqlite import SqliteStore


def build_chain(node_dir: Path, genesis: Genesis, validators: list[CityKeys], blocks: int) -> None:
    chain = Chain(SqliteStore(node_dir / "chain.sqlite"), genesis)
    keys = [PrivateKey(c.validator.key) for c in validators]
    proposer = bytes.fromhex(validators[0].validator.address[2:])
    gateway, target = validators[0].gateway, validators[0].admin.address
    for nonce in range(blocks):
        tx = free_gas_transaction(nonce, target, b"", 21_000, genesis.chain_id)
        raw = bytes(Account.sign_transaction(tx, gateway.key).raw_transaction)
        timestamp = min(genesis.timestamp + nonce, int(time.time()))
        proposal = chain.propose([TX_BUILDER.decode(raw)], timestamp=timestamp, proposer=proposer)
        assert len(proposal.executed.transactions) == 1, proposal.executed.skipped
        chain.commit_proposal(proposal, [seal_for(proposal.block, k) for k in keys])
    chain.store.close()


def _follower(node_dir: Path) -> dict[str, Any]:
    """Makes the node's config non-validating; returns the config."""
    config = tomllib.loads((node_dir / "node.toml").read_text())
    config.pop("validator_keystore", None)
    config.pop("validator_password_file", None)
    write_config(node_dir / "node.toml", config)
    return config


def _call(url: str, method: str, params: list[Any]) -> Any:
    import requests

    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    return requests.post(url, json=body, timeout=30).json()["result"]


def _stop(pid: int) -> None:
    if pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)


def sync_time(blocks: int, folder: Path, say: Any, timeout: float = 3600) -> dict[str, Any]:
    port = free_base_port(23000, PORTS_PER_NODE * 2 + 2)
    options = DevnetOptions(data_dir=folder / "devnet", nodes=2, members=2, base_port=port)
    cities = prepare(options, int(time.time()) + 365 * 86400)
    genesis = Genesis.load(options.data_dir / "genesis.json")
    source_dir, new_dir = (options.data_dir / "nodes" / c.city for c in cities[:2])
    say(f"building {blocks:,} blocks in-process")
    start = time.perf_counter()
    build_chain(source_dir, genesis, cities[:2], blocks)
    built = time.perf_counter() - start
    source_rpc = f"http://127.0.0.1:{_follower(source_dir)['rpc_port']}"
    new_rpc = f"http://127.0.0.1:{_follower(new_dir)['rpc_port']}"
    pids: list[int] = []
    try:
        start = time.perf_counter()
        pids.append(start_node(source_dir))
        wait_for_rpc(source_rpc, pids[0], timeout=timeout)
        started = time.perf_counter() - start
        head = _call(source_rpc, "eth_getBlockByNumber", [hex(blocks), False])
        assert head is not None and int(head["number"], 16) == blocks
        say(f"source node up after {started:.1f} s (store check); starting the new node")
        start = time.perf_counter()
        pids.append(start_node(new_dir))
        wait_for_rpc(new_rpc, pids[1], timeout=120)
        deadline = time.monotonic() + timeout
        while True:
            if not pid_alive(pids[1]):
                raise RuntimeError(f"the new node exited; see {new_dir / 'node.log'}")
            number = int(_call(new_rpc, "eth_blockNumber", []), 16)
            if number >= blocks:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the new node reached only block {number} in {timeout} s")
            time.sleep(0.2)
        synced = time.perf_counter() - start
        theirs = _call(new_rpc, "eth_getBlockByNumber", [hex(blocks), False])
        if theirs["hash"] != head["hash"]:
            raise RuntimeError(f"block {blocks} differs: {theirs['hash']} vs {head['hash']}")
        store = sum(p.stat().st_size for p in new_dir.glob("chain.sqlite*"))
    finally:
        for pid in pids:
            _stop(pid)
    return {
        "blocks": blocks,
        "buildSeconds": built,
        "startSeconds": started,
        "syncSeconds": synced,
        "storeMiB": store / 1024**2,
    }
