"""Crash safety and tamper detection of a real node process (DESIGN.md §3).

`kill -9` at any moment loses no block that was reported final; a node whose database was
tampered with, or that is given the genesis of another chain, refuses to start and says why.
Every test runs its own devnet in its own tmp dir.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import rlp
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress, Hash32, HexStr
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.types import Nonce, TxParams, Wei

from contracts.artifacts import load_artifact
from contracts.founding import Role
from contracts.genesis import CONSORTIUM_ADDRESS
from devnet.keys import CityKeys, dev_founding
from devnet.network import pid_alive, start_node, wait_for_rpc
from ledger.connect import connect
from nodes.chain.execution import decode_header, decode_receipts, decode_transactions
from nodes.genesis import Genesis, make_genesis
from protocol.qbft_extra import QbftExtra
from tests.support.devnet import free_port_block, running_devnet

REPO = Path(__file__).resolve().parents[2]
AACHEN = CityKeys.derive("aachen")
ZERO32 = b"\0" * 32
CONSORTIUM = Web3().eth.contract(abi=load_artifact("Consortium").abi)
START_TIMEOUT = 45.0
MAX_IN_FLIGHT = 20


# ------------------------------------------------------------------ helpers


def stop_process(pid: int, sig: signal.Signals, timeout: float = 15) -> None:
    """Sends `sig` and waits until the process is gone (reaping it if it is our child)."""
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            pytest.fail(f"node {pid} did not exit within {timeout} s of {sig.name}")
        time.sleep(0.02)


def set_pid(data_dir: Path, pid: int) -> None:
    """Points devnet.json at the running node so that running_devnet's down() stops it."""
    path = data_dir / "devnet.json"
    description = json.loads(path.read_text())
    description["nodes"][0]["pid"] = pid
    path.write_text(json.dumps(description, indent=2) + "\n")


def clerk_address(i: int) -> ChecksumAddress:
    address: ChecksumAddress = Account.from_key(keccak(text=f"crash-test clerk {i}")).address
    return address


def set_account_tx(admin: LocalAccount, nonce: int, clerk: ChecksumAddress, chain_id: int) -> TxParams:
    data = CONSORTIUM.encode_abi("setAccount", args=[clerk, Role.CLERK, ZERO32, 0])
    return {
        "from": admin.address,
        "to": Web3.to_checksum_address(CONSORTIUM_ADDRESS),
        "data": HexStr(data),
        "value": Wei(0),
        "gas": 300_000,
        "gasPrice": Wei(0),
        "nonce": Nonce(nonce),
        "chainId": chain_id,
    }


@dataclass
class Acknowledged:
    """What the node reported as final: receipts it returned and blocks it showed."""

    receipts: dict[bytes, tuple[bytes, int, int]] = field(
        default_factory=dict
    )  # tx -> (block, number, status)
    blocks: dict[int, bytes] = field(default_factory=dict)  # number -> hash
    lock: threading.Lock = field(default_factory=threading.Lock)

    def block(self, number: int, block_hash: bytes) -> None:
        with self.lock:
            previous = self.blocks.setdefault(number, block_hash)
        assert previous == block_hash, f"block {number} was reported with two hashes"


class WriteLoad(threading.Thread):
    """Sends batches of setAccount transactions and records every receipt and block it sees."""

    def __init__(self, rpc: str, chain_id: int, seen: Acknowledged, first_clerk: int) -> None:
        super().__init__(name="write-load", daemon=True)
        self.rpc = rpc
        self.chain_id = chain_id
        self.seen = seen
        self.clerk = first_clerk
        self.killed = threading.Event()  # set by the test just before it kills the node
        self.failure: BaseException | None = None  # an error before the kill
        self.sent = 0
        self.acknowledged = 0

    def run(self) -> None:
        try:
            self._load()
        except Exception as exc:
            if not self.killed.is_set():
                self.failure = exc

    def _load(self) -> None:
        """Keeps up to MAX_IN_FLIGHT transactions in flight: sends never wait for blocks, so the
        node is always both accepting transactions and committing blocks when it is killed."""
        w3 = connect(self.rpc, [AACHEN.admin], timeout=5)
        nonce = int(w3.eth.get_transaction_count(AACHEN.admin.address))
        pending: list[bytes] = []  # in nonce order, so they are mined in this order
        oldest_sent_at = time.monotonic()
        while True:
            if len(pending) < MAX_IN_FLIGHT:
                tx = set_account_tx(AACHEN.admin, nonce, clerk_address(self.clerk), self.chain_id)
                pending.append(bytes(w3.eth.send_transaction(tx)))
                nonce += 1
                self.clerk += 1
                self.sent += 1
            while pending:
                try:
                    receipt = w3.eth.get_transaction_receipt(Hash32(pending[0]))
                except TransactionNotFound:
                    break
                block_hash = bytes(receipt["blockHash"])
                with self.seen.lock:
                    self.seen.receipts[pending[0]] = (block_hash, receipt["blockNumber"], receipt["status"])
                self.seen.block(receipt["blockNumber"], block_hash)
                self.acknowledged += 1
                pending.pop(0)
                oldest_sent_at = time.monotonic()
            if time.monotonic() - oldest_sent_at > 20:
                raise AssertionError(f"transaction {pending[0].hex()} was not mined within 20 s")
            if self.sent % 4 == 0:
                latest = w3.eth.get_block("latest")
                self.seen.block(latest["number"], bytes(latest["hash"]))


def check_everything_acknowledged_is_there(w3: Web3, seen: Acknowledged) -> None:
    for tx_hash, (block_hash, number, status) in seen.receipts.items():
        receipt = w3.eth.get_transaction_receipt(Hash32(tx_hash))  # raises TransactionNotFound if lost
        assert (bytes(receipt["blockHash"]), receipt["blockNumber"], receipt["status"]) == (
            block_hash,
            number,
            status,
        ), f"receipt of {tx_hash.hex()} changed across the crash"
        assert status == 1
    for number, block_hash in seen.blocks.items():
        block = w3.eth.get_block(number)
        assert bytes(block["hash"]) == block_hash, f"block {number} changed across the crash"


# --------------------------------------------------------------- (a) kill -9


def test_kill_9_during_a_write_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    # Three kills at three different moments of the load: early, middle, late.
    delays = [rng.uniform(0.0, 0.3), rng.uniform(0.3, 0.8), rng.uniform(0.8, 1.5)]
    print(f"kill -9 delays {delays} (seed {seed})")
    data_dir = tmp_path / "devnet"
    seen = Acknowledged()
    with running_devnet(data_dir) as description:
        node = description["nodes"][0]
        rpc, node_dir, chain_id = str(node["rpc"]), Path(node["dataDir"]), int(description["chainId"])
        pid = int(node["pid"])
        clerk = 0
        for round_, delay in enumerate(delays):
            load = WriteLoad(rpc, chain_id, seen, clerk)
            load.start()
            # The load is under way (something was mined) before the random delay starts.
            deadline = time.monotonic() + 15
            while load.acknowledged == 0 and load.is_alive() and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(delay)
            assert load.failure is None, f"the load failed before the kill: {load.failure!r}"
            assert load.is_alive()
            load.killed.set()
            stop_process(pid, signal.SIGKILL)
            load.join(timeout=15)
            assert not load.is_alive()
            assert load.failure is None, f"the load failed before the kill: {load.failure!r}"
            assert load.acknowledged > 0, f"round {round_}: no transaction was mined before the kill"
            clerk = load.clerk

            pid = start_node(node_dir)
            set_pid(data_dir, pid)
            wait_for_rpc(rpc, pid, timeout=START_TIMEOUT)

            w3 = connect(rpc, [AACHEN.admin])
            check_everything_acknowledged_is_there(w3, seen)
            # The chain goes on: the head links to what was seen, and a new transaction is mined.
            last_seen = max(seen.blocks)
            nonce = w3.eth.get_transaction_count(AACHEN.admin.address)
            tx_hash = w3.eth.send_transaction(
                set_account_tx(AACHEN.admin, nonce, clerk_address(clerk), chain_id)
            )
            clerk += 1
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=20)
            assert receipt["status"] == 1
            assert receipt["blockNumber"] > last_seen
            after = w3.eth.get_block(last_seen + 1)
            assert bytes(after["parentHash"]) == seen.blocks[last_seen]
            seen.block(receipt["blockNumber"], bytes(receipt["blockHash"]))
        assert len(seen.receipts) >= len(delays)
        log = (node_dir / "node.log").read_text()
        assert log.count("store verified") >= len(delays)


# ------------------------------------------------------ (b) and (c): helpers


@dataclass(frozen=True)
class StoppedDevnet:
    data_dir: Path
    node_rel: Path  # the node's directory relative to data_dir
    head: int
    tx_blocks: list[int]  # blocks that hold transactions
    port: int  # the node's JSON-RPC port (free again: the node is stopped)

    @property
    def config(self) -> Path:
        return self.data_dir / self.node_rel / "node.toml"


def stopped_devnet(tmp_path: Path) -> StoppedDevnet:
    """This test's own devnet, whose node made blocks with transactions and was stopped with SIGTERM."""
    data_dir = tmp_path / "devnet"
    with running_devnet(data_dir) as description:
        node = description["nodes"][0]
        w3 = connect(str(node["rpc"]), [AACHEN.admin])
        nonce = w3.eth.get_transaction_count(AACHEN.admin.address)
        hashes = [
            w3.eth.send_transaction(
                set_account_tx(AACHEN.admin, nonce + i, clerk_address(i), int(description["chainId"]))
            )
            for i in range(3)
        ]
        for tx_hash in hashes:
            assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=20)["status"] == 1
        stop_process(int(node["pid"]), signal.SIGTERM)
        node_dir = Path(node["dataDir"])
    with closing(sqlite3.connect(node_dir / "chain.sqlite")) as db:
        head = int(db.execute("SELECT MAX(number) FROM blocks").fetchone()[0])
        tx_blocks = [
            int(n)
            for (n, txs) in db.execute("SELECT number, txs FROM blocks ORDER BY number")
            if rlp.decode(txs)
        ]
    assert len(tx_blocks) >= 3  # two deployments by `devnet up`, our setAccount calls
    port = int(str(node["rpc"]).rsplit(":", 1)[1])
    return StoppedDevnet(data_dir, node_dir.resolve().relative_to(data_dir.resolve()), head, tx_blocks, port)


def copy_devnet(devnet: StoppedDevnet, to: Path) -> tuple[Path, int]:
    """A copy of the whole devnet dir (node.toml refers to ../../genesis.json) on fresh ports."""
    shutil.copytree(devnet.data_dir, to)
    config = to / devnet.node_rel / "node.toml"
    port = free_port_block(2)
    lines = config.read_text().splitlines()
    lines = [line for line in lines if not line.startswith(("rpc_port", "ws_port"))] + [
        f"rpc_port = {port}",
        f"ws_port = {port + 1}",
    ]
    config.write_text("\n".join(lines) + "\n")
    return config, port


def start(config: Path) -> subprocess.Popen[bytes]:
    """Starts `govchain node run` on a copy; its stderr goes to <node dir>/stderr.txt."""
    with (config.parent / "stderr.txt").open("wb") as stderr:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "cli.main", "node", "run", "--config", str(config)],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok
    except requests.RequestException:
        return False


def refusal(process: subprocess.Popen[bytes], config: Path, port: int) -> str:
    """Waits for a node that must refuse to start; returns its stderr."""
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while process.poll() is None:
            if answers(port):
                pytest.fail("the node did not refuse to start: it answers /health")
            if time.monotonic() > deadline:
                pytest.fail(f"the node neither started nor exited within {START_TIMEOUT} s")
            time.sleep(0.1)
    finally:
        stop(process)
    stderr = (config.parent / "stderr.txt").read_text()
    assert process.returncode == 2, f"exit code {process.returncode}, stderr:\n{stderr}"
    return stderr


@contextmanager
def running_copy(config: Path, port: int) -> Iterator[str]:
    process = start(config)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not answers(port):
            if process.poll() is not None:
                stderr = (config.parent / "stderr.txt").read_text()
                pytest.fail(f"the node exited with {process.returncode}: {stderr}")
            assert time.monotonic() < deadline, "the node did not answer /health"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def flip(blob: bytes, offset: int) -> bytes:
    assert 0 <= offset < len(blob)
    return blob[:offset] + bytes([blob[offset] ^ 0x01]) + blob[offset + 1 :]


def block_row(db: sqlite3.Connection, number: int) -> tuple[bytes, bytes, bytes]:
    header, txs, receipts = db.execute(
        "SELECT header, txs, receipts FROM blocks WHERE number = ?", (number,)
    ).fetchone()
    return bytes(header), bytes(txs), bytes(receipts)


# Each tampering changes one byte in a copy of the store and returns the block it should be
# reported for and the reason the node should give.
Tampering = Callable[[sqlite3.Connection, StoppedDevnet], tuple[int, str]]


def tamper_header(db: sqlite3.Connection, devnet: StoppedDevnet) -> tuple[int, str]:
    number = devnet.tx_blocks[1]
    header, _, _ = block_row(db, number)
    state_root = bytes(decode_header(header).state_root)
    tampered = flip(header, header.index(state_root) + 7)
    decode_header(tampered)  # still decodes: the check must notice the hash, not the syntax
    db.execute("UPDATE blocks SET header = ? WHERE number = ?", (tampered, number))
    return number, "the header does not hash to the stored block hash"


def tamper_seal(db: sqlite3.Connection, devnet: StoppedDevnet) -> tuple[int, str]:
    number = devnet.tx_blocks[0]
    header, _, _ = block_row(db, number)
    seal = QbftExtra.decode(decode_header(header).extra_data).seals[0]
    tampered = flip(header, header.index(seal) + 3)
    decode_header(tampered)
    db.execute("UPDATE blocks SET header = ? WHERE number = ?", (tampered, number))
    return number, "the commit seals are not a quorum of the validators"


def tamper_txs(db: sqlite3.Connection, devnet: StoppedDevnet) -> tuple[int, str]:
    number = devnet.tx_blocks[0]  # a contract deployment: a long init code to change a byte of
    _, txs, _ = block_row(db, number)
    data = bytes(decode_transactions(txs)[0].data)
    tampered = flip(txs, txs.index(data) + len(data) // 2)
    decode_transactions(tampered)
    db.execute("UPDATE blocks SET txs = ? WHERE number = ?", (tampered, number))
    return number, "the transactions do not match the header's transaction root"


def tamper_receipts(db: sqlite3.Connection, devnet: StoppedDevnet) -> tuple[int, str]:
    number = devnet.tx_blocks[-1]
    _, _, receipts = block_row(db, number)
    bloom = decode_receipts(receipts)[0].bloom.to_bytes(256, "big")
    tampered = flip(receipts, receipts.index(bloom) + 100)
    decode_receipts(tampered)
    db.execute("UPDATE blocks SET receipts = ? WHERE number = ?", (tampered, number))
    return number, "the receipts do not match the header's receipt root"


def tamper_state(db: sqlite3.Connection, devnet: StoppedDevnet) -> tuple[int, str]:
    number = devnet.tx_blocks[1]
    key, value = db.execute(
        "SELECT k, v FROM kv WHERE block = ? AND length(k) = 32 ORDER BY length(v) DESC LIMIT 1", (number,)
    ).fetchone()
    db.execute("UPDATE kv SET v = ? WHERE k = ?", (flip(bytes(value), len(value) // 2), key))
    return number, f"state entry {bytes(key).hex()} does not match its hash"


def tamper_stored_hash(db: sqlite3.Connection, devnet: StoppedDevnet) -> tuple[int, str]:
    number = devnet.head - 1
    (stored,) = db.execute("SELECT hash FROM blocks WHERE number = ?", (number,)).fetchone()
    db.execute("UPDATE blocks SET hash = ? WHERE number = ?", (flip(bytes(stored), 0), number))
    return number, "the header does not hash to the stored block hash"


TAMPERINGS: list[Tampering] = [
    tamper_header,
    tamper_txs,
    tamper_receipts,
    tamper_state,
    tamper_seal,
    tamper_stored_hash,
]


# ------------------------------------------------------ (b) tampered store


def test_tampered_database_is_refused(tmp_path: Path) -> None:
    devnet = stopped_devnet(tmp_path)
    cases: list[tuple[str, subprocess.Popen[bytes], Path, int, int, str]] = []
    try:
        for tampering in TAMPERINGS:
            config, port = copy_devnet(devnet, tmp_path / tampering.__name__)
            with closing(sqlite3.connect(config.parent / "chain.sqlite", isolation_level=None)) as db:
                number, reason = tampering(db, devnet)
            assert 0 < number <= devnet.head
            cases.append((tampering.__name__, start(config), config, port, number, reason))

        # An untampered copy starts fine: the check does not just fail everything.
        config, port = copy_devnet(devnet, tmp_path / "untampered")
        with running_copy(config, port) as url:
            w3 = connect(url)
            assert w3.eth.block_number >= devnet.head
            with closing(sqlite3.connect(config.parent / "chain.sqlite")) as db:
                (stored,) = db.execute("SELECT hash FROM blocks WHERE number = ?", (devnet.head,)).fetchone()
            assert bytes(w3.eth.get_block(devnet.head)["hash"]) == bytes(stored)
        assert "store verified" in (config.parent / "stderr.txt").read_text()

        for name, process, config, port, number, reason in cases:
            stderr = refusal(process, config, port)
            assert f"govchain node: block {number}: {reason}" in stderr, f"{name}: {stderr}"
    finally:
        for _, process, *_ in cases:
            stop(process)


def test_a_block_deleted_from_the_middle_is_refused(tmp_path: Path) -> None:
    devnet = stopped_devnet(tmp_path)
    number = devnet.tx_blocks[1]
    assert number < devnet.head
    with closing(sqlite3.connect(devnet.config.parent / "chain.sqlite", isolation_level=None)) as db:
        db.execute("DELETE FROM blocks WHERE number = ?", (number,))
    stderr = refusal(start(devnet.config), devnet.config, devnet.port)
    assert f"govchain node: block {number}: " in stderr
    assert "missing" in stderr


# -------------------------------------------------- (c) another chain's genesis


def blocks_of(config: Path) -> list[tuple[int, bytes]]:
    with closing(sqlite3.connect(config.parent / "chain.sqlite")) as db:
        return [(int(n), bytes(h)) for n, h in db.execute("SELECT number, hash FROM blocks ORDER BY number")]


def test_genesis_of_another_chain_is_refused(tmp_path: Path) -> None:
    devnet = stopped_devnet(tmp_path)
    genesis_path = devnet.data_dir / "genesis.json"
    original = Genesis.load(genesis_path)
    # Another devnet's genesis: same chain id, founded a minute later with another validator.
    cities = tuple(CityKeys.derive(c) for c in ("aachen", "gelsenkirchen", "paderborn"))
    other = make_genesis(
        original.chain_id,
        dev_founding(cities, original.timestamp + 365 * 86400),
        [cities[2].validator.address],
        original.timestamp + 60,
        block_period=original.config.qbft.blockperiodseconds,
        empty_block_period=original.config.qbft.emptyblockperiodseconds,
    )
    other.write(genesis_path)
    before = blocks_of(devnet.config)

    stderr = refusal(start(devnet.config), devnet.config, devnet.port)

    assert "govchain node: the database at" in stderr
    assert f"holds another chain (genesis {before[0][1].hex()}), not the one of this genesis file" in stderr
    assert blocks_of(devnet.config) == before  # and it changed nothing


def test_genesis_with_another_chain_id_is_refused(tmp_path: Path) -> None:
    devnet = stopped_devnet(tmp_path)
    genesis_path = devnet.data_dir / "genesis.json"
    raw = json.loads(genesis_path.read_text())
    chain_id = int(raw["config"]["chainId"])
    raw["config"]["chainId"] = chain_id + 1
    genesis_path.write_text(json.dumps(raw))
    before = blocks_of(devnet.config)

    stderr = refusal(start(devnet.config), devnet.config, devnet.port)

    assert "govchain node: the database at" in stderr
    assert f"chain id {chain_id}" in stderr
    assert str(chain_id + 1) in stderr
    assert blocks_of(devnet.config) == before
