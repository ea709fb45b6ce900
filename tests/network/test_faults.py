"""Five validator processes on loopback: faults, restarts, refused peers, validator votes.

The tests share one devnet and run in file order; each leaves the network running with all
five nodes unless it says otherwise.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509

from devnet.keys import CityKeys
from devnet.network import load, pid_alive, restart_node
from ledger.connect import connect
from ledger.deploy import bind
from nodes.p2p.pki import create_ca, fingerprint, issue_node_keypair, load_ca
from nodes.p2p.transport import TlsFiles, dial
from tests.support.devnet import running_devnet

HEARTBEAT = 1.0
TIMEOUT = 2.0


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data_dir = tmp_path_factory.mktemp("five") / "devnet"
    with running_devnet(
        data_dir, nodes=5, members=5, block_period=0.5, empty_block_period=HEARTBEAT, request_timeout=TIMEOUT
    ):
        yield data_dir


def rpc(url: str, method: str, params: list[Any] | None = None) -> Any:
    reply = requests.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}, timeout=10
    )
    body = reply.json()
    assert "error" not in body, body
    return body["result"]


def nodes(data_dir: Path) -> list[dict[str, Any]]:
    return list(load(data_dir)["nodes"])


def height(node: dict[str, Any]) -> int:
    return int(rpc(node["rpc"], "eth_blockNumber"), 16)


def block_hash(node: dict[str, Any], number: int) -> str | None:
    block = rpc(node["rpc"], "eth_getBlockByNumber", [hex(number), False])
    return None if block is None else str(block["hash"])


def wait_for(condition: Any, limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def stop(node: dict[str, Any]) -> None:
    os.kill(int(node["pid"]), signal.SIGKILL)
    wait_for(lambda: not pid_alive(int(node["pid"])), 10, f"{node['name']} to die")


def blocks_in(node: dict[str, Any], seconds: float) -> int:
    start = height(node)
    time.sleep(seconds)
    return height(node) - start


def assert_same_chain(live: list[dict[str, Any]]) -> int:
    """All nodes agree on the hash of the lowest head among them; returns that height."""
    common = min(height(n) for n in live)
    assert len({block_hash(n, common) for n in live}) == 1, "nodes disagree: a fork"
    return common


def test_five_validators_agree(devnet: Path) -> None:
    live = nodes(devnet)
    wait_for(lambda: min(height(n) for n in live) >= 3, 30, "three blocks on every node")
    assert_same_chain(live)
    assert all(int(rpc(n["rpc"], "net_peerCount"), 16) == 4 for n in live)
    assert len(rpc(live[0]["rpc"], "qbft_getValidatorsByBlockNumber", ["latest"])) == 5


def test_one_node_down_keeps_at_least_half_the_block_rate(devnet: Path) -> None:
    live = nodes(devnet)
    normal = blocks_in(live[0], 10)
    stop(live[4])
    degraded = blocks_in(live[0], 10)
    assert normal > 0
    assert degraded * 2 >= normal, f"{degraded} blocks with one node down vs {normal} normally"
    assert_same_chain(live[:4])


def test_two_nodes_down_halt_without_a_fork_and_the_restarted_catch_up(devnet: Path) -> None:
    live = nodes(devnet)
    stop(live[3])
    time.sleep(TIMEOUT)  # let a block in flight finish
    before = {n["name"]: height(n) for n in live[:3]}
    time.sleep(3 * TIMEOUT)
    after = {n["name"]: height(n) for n in live[:3]}
    assert after == before, "three of five validators must not produce blocks"
    assert_same_chain(live[:3])
    for node in live[3:]:
        restart_node(devnet, node["name"])
    live = nodes(devnet)
    target = max(height(n) for n in live) + 3
    wait_for(lambda: min(height(n) for n in live) >= target, 60, "all five to move on together")
    assert_same_chain(live)


def _client_files(tmp: Path, pair: Any, ca_cert: Path) -> TlsFiles:
    pair.write(tmp / "client.key", tmp / "client.pem")
    return TlsFiles(ca_cert, tmp / "client.pem", tmp / "client.key")


async def _refused(host: str, port: int, files: TlsFiles) -> bool:
    async def anyone(_: bytes) -> bool:
        return True

    connection = await dial(host, port, files, anyone)
    if connection is None:
        return True  # the handshake itself failed
    try:
        await asyncio.wait_for(connection.receive(), 5)
    except (asyncio.IncompleteReadError, ConnectionError, OSError, TimeoutError):
        return True
    finally:
        await connection.close()
    return False  # the node spoke to us (sent its HELLO)


def test_peers_with_a_foreign_ca_or_an_unlisted_certificate_are_refused(devnet: Path, tmp_path: Path) -> None:
    node = nodes(devnet)[0]
    host, _, port = node["p2p"].rpartition(":")
    ca_cert = devnet / "ca" / "ca.pem"
    foreign = _client_files(tmp_path, issue_node_keypair(create_ca("another CA"), "intruder"), ca_cert)
    assert asyncio.run(_refused(host, int(port), foreign))
    unlisted_pair = issue_node_keypair(load_ca(devnet / "ca" / "ca.key", ca_cert), "not admitted")
    unlisted_dir = tmp_path / "unlisted"
    unlisted_dir.mkdir()
    assert asyncio.run(_refused(host, int(port), _client_files(unlisted_dir, unlisted_pair, ca_cert)))
    log = (Path(node["dataDir"]) / "node.log").read_text()
    assert fingerprint(unlisted_pair.cert).hex() in log  # named in the refusal
    # Control: a certificate the Consortium lists passes the check (the node may still close the
    # connection as a duplicate of the one it has to that city, so look at what it logged).
    listed_dir = Path(nodes(devnet)[1]["dataDir"])
    listed = TlsFiles(ca_cert, listed_dir / "node.pem", listed_dir / "node.key")
    asyncio.run(_refused(host, int(port), listed))
    time.sleep(0.5)
    listed_fp = fingerprint(x509.load_pem_x509_certificate((listed_dir / "node.pem").read_bytes())).hex()
    log = (Path(node["dataDir"]) / "node.log").read_text()
    assert f"certificate {listed_fp} is not allowed" not in log
    assert f"certificate {fingerprint(unlisted_pair.cert).hex()} is not allowed" in log


def test_a_revoked_node_certificate_is_disconnected_and_refused(devnet: Path) -> None:
    description = load(devnet)
    live = description["nodes"]
    victim = live[4]
    victim_fp = fingerprint(
        x509.load_pem_x509_certificate((Path(victim["dataDir"]) / "node.pem").read_bytes())
    )
    admins = [CityKeys.derive(n["name"]).admin for n in live[:3]]
    w3 = connect(live[0]["rpc"], admins)
    consortium = bind(w3, "Consortium", description["contracts"]["consortium"])
    revoke = 3  # ProposalKind.RevokeNode
    tx = consortium.functions.propose(revoke, b"\0" * 32, "0x" + "00" * 20, victim_fp).transact(
        {"from": admins[0].address}
    )
    w3.eth.wait_for_transaction_receipt(tx, timeout=60)
    proposal_id = consortium.functions.proposalCount().call() - 1
    for admin in admins[1:]:
        tx = consortium.functions.vote(proposal_id, True).transact({"from": admin.address})
        w3.eth.wait_for_transaction_receipt(tx, timeout=60)
    assert not consortium.functions.nodeAllowed(victim_fp).call()
    wait_for(lambda: int(rpc(victim["rpc"], "net_peerCount"), 16) == 0, 30, "the revoked node to be cut off")
    others = live[:4]
    wait_for(
        lambda: all(int(rpc(n["rpc"], "net_peerCount"), 16) == 3 for n in others), 30, "peers to drop it"
    )
    time.sleep(3)  # the revoked node keeps dialling; it must stay refused
    assert int(rpc(victim["rpc"], "net_peerCount"), 16) == 0
    start = max(height(n) for n in others)
    wait_for(lambda: min(height(n) for n in others) >= start + 2, 60, "the other four to go on")
    assert_same_chain(others)


def test_validators_vote_a_validator_out_and_the_quorum_follows(devnet: Path) -> None:
    live = nodes(devnet)[:4]  # wuppertal was cut off above; drop it from the validator set
    wuppertal_validator = load(devnet)["nodes"][4]["validator"]
    for node in live[:3]:
        assert rpc(node["rpc"], "qbft_proposeValidatorVote", [wuppertal_validator, False]) is True
    wait_for(
        lambda: len(rpc(live[0]["rpc"], "qbft_getValidatorsByBlockNumber", ["latest"])) == 4,
        60,
        "the vote to take effect",
    )
    changed_at = height(live[0])
    wait_for(lambda: min(height(n) for n in live) >= changed_at + 3, 60, "blocks with four validators")
    block = rpc(live[0]["rpc"], "eth_getBlockByNumber", [hex(changed_at + 2), False])
    from protocol.qbft_extra import QbftExtra

    extra = QbftExtra.decode(bytes.fromhex(block["extraData"][2:]))
    assert len(extra.validators) == 4 and len(extra.seals) >= 3  # ⌈2·4/3⌉ = 3
    assert_same_chain(live)
