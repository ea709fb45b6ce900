"""JSON-RPC chain info of a running govchain node: chain id and versions, the head, zero fees and
the fee history, the QBFT validators, and batch requests."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from web3 import Web3

from tests.nodes.rpc_support import CHAIN_ID, Sent, rpc

# ------------------------------------------------------------------ chain info


def test_chain_id_and_versions(w3: Web3, rpc_url: str, node_devnet: dict[str, Any]) -> None:
    assert w3.eth.chain_id == CHAIN_ID == node_devnet["chainId"]
    assert rpc(rpc_url, "eth_chainId", []) == hex(CHAIN_ID)
    assert rpc(rpc_url, "net_version", []) == str(CHAIN_ID)
    assert w3.net.version == str(CHAIN_ID)
    assert w3.client_version.startswith("govchain/")


def test_block_number(w3: Web3, rpc_url: str, sent: Sent) -> None:
    number = w3.eth.block_number
    assert number >= sent.receipt["blockNumber"]
    raw = rpc(rpc_url, "eth_blockNumber", [])
    assert raw.startswith("0x")
    assert int(raw, 16) - number in (0, 1, 2)


def test_fees_are_zero(w3: Web3, rpc_url: str) -> None:
    assert rpc(rpc_url, "eth_gasPrice", []) == "0x0"
    assert rpc(rpc_url, "eth_maxPriorityFeePerGas", []) == "0x0"
    assert w3.eth.gas_price == 0
    assert w3.eth.get_block("latest")["baseFeePerGas"] == 0


def test_fee_history(w3: Web3, sent: Sent) -> None:
    newest = sent.receipt["blockNumber"]
    history = w3.eth.fee_history(3, newest, [10.0, 50.0])
    assert history["oldestBlock"] == newest - 2
    assert history["baseFeePerGas"] == [0, 0, 0, 0]
    assert len(history["gasUsedRatio"]) == 3
    block = w3.eth.get_block(newest)
    assert history["gasUsedRatio"][-1] == pytest.approx(block["gasUsed"] / block["gasLimit"])
    assert history["gasUsedRatio"][-1] > 0
    assert history["reward"] == [[0, 0], [0, 0], [0, 0]]


# ------------------------------------------------------------------ qbft, batch


def test_validators(rpc_url: str, node_devnet: dict[str, Any], sent: Sent) -> None:
    validator = node_devnet["nodes"][0]["validator"].lower()
    assert rpc(rpc_url, "qbft_getValidatorsByBlockNumber", ["latest"]) == [validator]
    assert rpc(rpc_url, "qbft_getValidatorsByBlockNumber", [hex(sent.receipt["blockNumber"])]) == [validator]
    block_hash = "0x" + bytes(sent.receipt["blockHash"]).hex()
    assert rpc(rpc_url, "qbft_getValidatorsByBlockHash", [block_hash]) == [validator]
    assert rpc(rpc_url, "eth_getBlockByHash", [block_hash, False])["miner"] == validator


def test_batch(rpc_url: str) -> None:
    body: list[dict[str, Any]] = [
        {"jsonrpc": "2.0", "id": 7, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": "b", "method": "net_version", "params": []},
        {"jsonrpc": "2.0", "id": 9, "method": "eth_getBlockByNumber", "params": ["earliest", False]},
    ]
    answers = requests.post(rpc_url, json=body, timeout=10).json()
    assert isinstance(answers, list) and len(answers) == 3
    by_id = {a["id"]: a for a in answers}
    assert set(by_id) == {7, "b", 9}
    assert by_id[7]["result"] == hex(CHAIN_ID)
    assert by_id["b"]["result"] == str(CHAIN_ID)
    assert by_id[9]["result"]["number"] == "0x0"
    assert all(a["jsonrpc"] == "2.0" for a in answers)
