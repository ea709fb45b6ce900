"""A sixth city joins a running devnet of five validators, end to end through the CLI, as the README
tells a city's IT department: `node init`, `ca sign`, `consortium propose` + `vote`, `node join`,
`devnet attach`; then a second node of a member city joins as an observer; then the new city is
removed again. The tests share one devnet and run in file order.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from typer.testing import CliRunner

from cli.main import app
from devnet.network import load
from governance.client import ConsortiumClient
from nodes.p2p.pki import fingerprint
from protocol.qbft_extra import QbftExtra, quorum
from tests.network.test_faults import assert_same_chain, height, rpc, wait_for
from tests.support.devnet import free_port_block, running_devnet

runner = CliRunner()


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data_dir = tmp_path_factory.mktemp("admission") / "devnet"
    with running_devnet(
        data_dir, nodes=5, members=5, block_period=0.3, empty_block_period=1, request_timeout=2
    ):
        yield data_dir


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("joining")


def govchain(*args: object, ok: bool = True) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, f"govchain {' '.join(map(str, args))}:\n{result.output}"
    else:
        assert result.exit_code != 0, result.output
    return result.output


def consortium(devnet: Path, city: str, *args: object, ok: bool = True) -> str:
    """`govchain consortium ...` signed with a devnet city's dev ADMIN key."""
    return govchain("consortium", *args, "--devnet", devnet, "--as", city, ok=ok)


def as_bielefeld(devnet: Path, work: Path, *args: object, ok: bool = True) -> str:
    """`govchain consortium ...` signed with the ADMIN keystore `node init` made, as a real city would."""
    folder = work / "bielefeld"
    keys = ("--keystore", folder / "admin.keystore.json", "--passphrase-file", folder / "admin.passphrase")
    return govchain("consortium", *args, "--rpc", node(devnet, "aachen")["rpc"], *keys, ok=ok)


def client(devnet: Path) -> ConsortiumClient:
    return ConsortiumClient(load(devnet)["nodes"][0]["rpc"])


def node(devnet: Path, name: str) -> dict[str, Any]:
    return next(n for n in load(devnet)["nodes"] if n["name"] == name)


def peers_of(entry: dict[str, Any]) -> int:
    return int(rpc(entry["rpc"], "net_peerCount"), 16)


def latest_extra(entry: dict[str, Any]) -> QbftExtra:
    block = rpc(entry["rpc"], "eth_getBlockByNumber", ["latest", False])
    return QbftExtra.decode(bytes.fromhex(block["extraData"][2:]))


def proposal_id(output: str) -> int:
    found = re.search(r"proposal (\d+):", output)
    assert found, output
    return int(found.group(1))


def init_node(devnet: Path, node_dir: Path, city: str, *extra: str) -> None:
    port = free_port_block(3)
    peers = [p for p in govchain("devnet", "peers", "--data-dir", devnet).split() if ":" in p]
    ports = ("--rpc-port", port, "--ws-port", port + 1, "--p2p-port", port + 2)
    options = [o for p in peers for o in ("--peer", p)]
    govchain("node", "init", "--city", city, "--data-dir", node_dir, "--devnet", *ports, *options, *extra)


def sign_and_join(devnet: Path, work: Path, name: str, node_dir: Path) -> Path:
    """The CA signs the node's request; `node join` puts the certificate, CA and genesis in place."""
    cert = work / f"{name}.pem"
    govchain("ca", "sign", "--ca-dir", devnet / "ca", node_dir / "join-request.json", "-o", cert)
    ca, genesis = devnet / "ca" / "ca.pem", devnet / "genesis.json"
    govchain("node", "join", "--data-dir", node_dir, "--cert", cert, "--ca", ca, "--genesis", genesis)
    return cert


def test_a_proposal_without_majority_has_no_effect(devnet: Path) -> None:
    c = client(devnet)
    before = (c.members(), c.validators(), c.header_validators())
    fp = "ab" * 32
    subject = ("--city", "dortmund", "--admin", "0x" + "11" * 20, "--validator", "0x" + "22" * 20)
    out = consortium(devnet, "aachen", "propose", "admit-city", *subject, "--fingerprint", fp)
    pid = proposal_id(out)
    assert "open (yes 1, no 0 of 5 members)" in out  # one yes of five: nothing happens
    assert not c.node_allowed(bytes.fromhex(fp))
    assert "open" in consortium(devnet, "gelsenkirchen", "vote", pid, "--no")
    refused = consortium(devnet, "gelsenkirchen", "vote", pid, "--yes", ok=False)
    assert "gelsenkirchen already voted on proposal" in refused
    assert "open (yes 1, no 2 of 5 members)" in consortium(devnet, "paderborn", "vote", pid, "--no")
    assert "rejected (yes 1, no 3 of 5 members)" in consortium(devnet, "soest", "vote", pid, "--no")
    assert "is closed: rejected" in consortium(devnet, "wuppertal", "vote", pid, "--yes", ok=False)
    assert "there is no proposal 99" in consortium(devnet, "wuppertal", "vote", 99, "--yes", ok=False)
    start = c.head()
    wait_for(lambda: c.head() >= start + 3, 30, "three more blocks")
    assert (c.members(), c.validators(), c.header_validators()) == before
    assert not c.node_allowed(bytes.fromhex(fp))
    assert rpc(node(devnet, "aachen")["rpc"], "qbft_getPendingVotes") == {}


def test_a_new_city_joins_syncs_validates_and_the_quorum_follows(devnet: Path, work: Path) -> None:
    node_dir = work / "bielefeld"
    init_node(devnet, node_dir, "bielefeld")
    request = node_dir / "join-request.json"
    assert "PRIVATE" not in request.read_text()
    cert_path = sign_and_join(devnet, work, "bielefeld", node_dir)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    out = consortium(devnet, "aachen", "propose", "admit-city", "--request", request, "--cert", cert_path)
    pid = proposal_id(out)
    consortium(devnet, "gelsenkirchen", "vote", pid, "--yes")
    out = consortium(devnet, "paderborn", "vote", pid, "--yes")
    assert "executed (yes 3, no 0 of 5 members)" in out and "ValidatorAdded(bielefeld" in out
    c = client(devnet)
    assert c.node_allowed(fingerprint(cert)) and "bielefeld" in c.members()
    govchain("devnet", "attach", node_dir, "--data-dir", devnet)
    new, aachen = node(devnet, "bielefeld"), node(devnet, "aachen")
    validator = new["validator"].lower()
    changed = c.wait_for_validator_sync(since_block=1, timeout=120)
    assert changed is not None, "the header votes did not follow the contract"
    after = rpc(aachen["rpc"], "qbft_getValidatorsByBlockNumber", [hex(changed)])
    before = rpc(aachen["rpc"], "qbft_getValidatorsByBlockNumber", [hex(changed - 1)])
    assert validator in [v.lower() for v in after] and len(after) == 6
    assert validator not in [v.lower() for v in before]
    wait_for(lambda: height(new) >= changed + 2, 120, "the new node to sync from genesis")
    assert_same_chain(load(devnet)["nodes"])

    def proposed_by_new_validator() -> bool:
        blocks = [
            rpc(new["rpc"], "eth_getBlockByNumber", [hex(n), False])
            for n in range(changed + 1, height(new) + 1)
        ]
        return any(b["miner"].lower() == validator for b in blocks)

    wait_for(proposed_by_new_validator, 120, "a block proposed by the new validator")
    extra = latest_extra(new)
    assert len(extra.validators) == 6 and len(extra.seals) >= quorum(6) == 4
    status = rpc(new["rpc"], "govchain_nodeStatus")
    assert status["validator"] and status["quorum"] == 4 and status["peers"] == 5
    assert "the same as the Consortium's list" in govchain("consortium", "status", "--devnet", devnet)


def test_a_second_node_of_a_member_city_joins_as_an_observer(devnet: Path, work: Path) -> None:
    node_dir = work / "aachen-2"
    init_node(devnet, node_dir, "aachen", "--observer", "--member", "--node-name", "aachen-2")
    assert not (node_dir / "validator.keystore.json").exists()
    assert not (node_dir / "admin.keystore.json").exists()
    cert = sign_and_join(devnet, work, "aachen-2", node_dir)
    request = ("--request", node_dir / "join-request.json", "--cert", cert)
    pid = proposal_id(consortium(devnet, "aachen", "propose", "allow-node", *request))
    consortium(devnet, "soest", "vote", pid, "--yes")
    consortium(devnet, "wuppertal", "vote", pid, "--yes")
    out = as_bielefeld(devnet, work, "vote", pid, "--yes")  # the new member votes too: 4 of 6
    assert "executed (yes 4, no 0 of 6 members)" in out
    govchain("devnet", "attach", node_dir, "--data-dir", devnet)
    observer, aachen = node(devnet, "aachen-2"), node(devnet, "aachen")
    wait_for(lambda: height(observer) >= height(aachen) - 1, 120, "the observer to follow the head")
    status = rpc(observer["rpc"], "govchain_nodeStatus")
    assert not status["validator"] and status["validatorAddress"] is None and len(status["validators"]) == 6
    assert_same_chain([aachen, observer])
    table = govchain("devnet", "status", "--data-dir", devnet)
    assert "aachen-2" in table and "observer" in table


def test_a_removed_city_is_disconnected_refused_and_voted_out(devnet: Path, work: Path) -> None:
    c = client(devnet)
    victim = node(devnet, "bielefeld")
    fp = fingerprint(x509.load_pem_x509_certificate((work / "bielefeld.pem").read_bytes()))
    pid = proposal_id(consortium(devnet, "soest", "propose", "remove-city", "--city", "bielefeld"))
    consortium(devnet, "gelsenkirchen", "vote", pid, "--yes")
    assert "open (yes 3, no 0 of 6 members)" in consortium(devnet, "paderborn", "vote", pid, "--yes")
    out = consortium(devnet, "wuppertal", "vote", pid, "--yes", "--wait")
    assert "executed" in out and "in effect from block" in out
    assert not c.node_allowed(fp) and "bielefeld" not in c.members()
    assert len(c.header_validators()) == 5
    wait_for(lambda: peers_of(victim) == 0, 30, "the removed city's node to be cut off")
    others = [n for n in load(devnet)["nodes"] if n["name"] != "bielefeld"]
    wait_for(lambda: all(peers_of(n) == len(others) - 1 for n in others), 30, "the others to drop it")
    time.sleep(3)  # it keeps dialling and must stay refused
    assert peers_of(victim) == 0
    start = max(height(n) for n in others)
    wait_for(lambda: min(height(n) for n in others) >= start + 3, 60, "five validators to go on")
    extra = latest_extra(others[0])
    assert len(extra.validators) == 5 and len(extra.seals) >= quorum(5) == 4
    assert_same_chain(others)
    refused = as_bielefeld(devnet, work, "propose", "remove-city", "--city", "soest", ok=False)
    assert "is not an ADMIN of a member city" in refused
