"""The operator's view of a node: GET /metrics (Prometheus), GET /status (page) and govchain_nodeStatus."""

from __future__ import annotations

import time
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from nodes.config import NodeConfig
from nodes.genesis import Genesis
from nodes.metrics import NodeMetrics
from nodes.node import Node
from nodes.status import node_status, render_status_page
from tests.nodes.test_chain import VALIDATOR_KEY, genesis
from tests.nodes.test_validator_sync import ME, _seal

__all__ = ["genesis"]


def _samples(text: str) -> dict[str, float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


def test_metrics_on_the_rpc_port(rpc_url: str) -> None:
    requests.post(rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": []}, timeout=30)
    reply = requests.get(rpc_url + "/metrics", timeout=10)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    samples = _samples(reply.text)
    head = int(requests.get(rpc_url + "/health", timeout=10).json()["head"])
    assert head - 2 <= samples["govchain_block_height"] <= head
    assert samples["govchain_peers"] == 0  # the node devnet has one node
    assert samples["govchain_is_validator"] == 1 and samples["govchain_validators"] == 1
    assert "govchain_round_changes_total" in samples
    assert "govchain_txpool_transactions{state=pending}" in samples
    assert samples["govchain_finality_latency_seconds_count"] >= 1
    assert "govchain_finality_latency_seconds_bucket{le=1.0}" in samples


def test_status_page_and_rpc(rpc_url: str) -> None:
    status = requests.post(
        rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "govchain_nodeStatus", "params": []}, timeout=10
    ).json()["result"]
    assert status["name"] == "aachen" and status["validator"] is True and status["quorum"] == 1
    assert set(status["pendingVotes"]) == {"manual", "contract"}
    assert abs(status["lastBlockTime"] - time.time()) < 120
    page = requests.get(rpc_url + "/status", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Höhe / height" in page.text and "aachen" in page.text and 'lang="de"' in page.text


def test_the_page_escapes_what_it_shows() -> None:
    status = {
        "name": "<script>x</script>", "chainId": 1, "height": 3, "lastBlockTime": 100, "peers": 1,
        "peerNames": ["<b>"], "validatorAddress": None, "validator": False, "validators": ["0x01"],
        "quorum": 1, "pendingVotes": {"manual": {}, "contract": {"0x" + "ab" * 20: True}},
        "txpool": {"pending": 0, "queued": 0}, "roundChanges": 0,
    }  # fmt: skip
    page = render_status_page(status, now=130)
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;" in page
    assert "vor 30 s / 30 s ago" in page and "Beobachter / observer" in page and "+0xabababab" in page


def test_finality_latency_is_measured_from_the_proposal(tmp_path: Path, genesis: Genesis) -> None:
    config = NodeConfig(name="aachen", data_dir=tmp_path, genesis=tmp_path / "g.json", devnet=True)
    node = Node(config, genesis)
    try:
        metrics = NodeMetrics(node)
        node.proposal_seen[1] = time.time() - 0.3  # the driver saw the proposal 0.3 s ago
        _seal(node, ME, [VALIDATOR_KEY])
        samples = _samples(metrics.render().decode())
        assert samples["govchain_finality_latency_seconds_count"] == 1
        assert 0.3 <= samples["govchain_finality_latency_seconds_sum"] < 5
        assert samples["govchain_finality_latency_seconds_bucket{le=0.25}"] == 0
        assert node.proposal_seen == {}
        assert node_status(node)["height"] == 1
    finally:
        node.close()
