"""JSON-RPC blocks of a running govchain node: the block tags, genesis, blocks by number and by
hash, and unknown blocks."""

from __future__ import annotations

from typing import Any, cast

import requests
from hexbytes import HexBytes
from web3 import Web3
from web3.types import TxData

from tests.nodes.rpc_support import CONSORTIUM_ADDRESS, ZERO_HASH, Sent, rpc


def _batch(url: str, calls: list[tuple[str, list[Any]]]) -> list[Any]:
    body: list[dict[str, Any]] = [
        {"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)
    ]
    answers = requests.post(url, json=body, timeout=10).json()
    assert isinstance(answers, list)
    by_id = {a["id"]: a for a in answers}
    return [by_id[i]["result"] for i in range(len(calls))]


def test_block_tags_agree(rpc_url: str) -> None:
    """Blocks are final when sealed: latest, safe, finalized and pending are the same block."""
    tags = ["latest", "safe", "finalized", "pending"]
    for _ in range(10):  # a block sealed between two of the batched calls: ask again
        blocks = _batch(rpc_url, [("eth_getBlockByNumber", [tag, False]) for tag in tags])
        if len({b["hash"] for b in blocks}) == 1:
            break
    assert len({b["hash"] for b in blocks}) == 1, [b["number"] for b in blocks]
    assert blocks[0]["number"] == rpc(rpc_url, "eth_getBlockByHash", [blocks[0]["hash"], False])["number"]


def test_earliest_is_genesis(w3: Web3) -> None:
    genesis = w3.eth.get_block("earliest")
    assert genesis["number"] == 0
    assert genesis["parentHash"] == HexBytes(ZERO_HASH)
    assert w3.eth.get_block(1)["parentHash"] == genesis["hash"]


def test_block_by_number_and_hash(w3: Web3, rpc_url: str, sent: Sent) -> None:
    number = sent.receipt["blockNumber"]
    block = w3.eth.get_block(number)
    assert block["hash"] == sent.receipt["blockHash"]
    assert sent.receipt["transactionHash"] in block["transactions"]
    assert block["parentHash"] == w3.eth.get_block(number - 1)["hash"]
    assert w3.eth.get_block(block["hash"]) == block
    full = w3.eth.get_block(number, full_transactions=True)
    txs = cast(list[TxData], full["transactions"])
    [tx] = [t for t in txs if t["hash"] == sent.receipt["transactionHash"]]
    assert tx["blockHash"] == block["hash"]
    assert tx["to"] == CONSORTIUM_ADDRESS
    raw = rpc(rpc_url, "eth_getBlockByNumber", [hex(number), False])
    for field in (
        "hash",
        "parentHash",
        "stateRoot",
        "transactionsRoot",
        "receiptsRoot",
        "logsBloom",
        "miner",
        "extraData",
        "gasLimit",
        "gasUsed",
        "timestamp",
        "baseFeePerGas",
        "size",
        "mixHash",
    ):
        assert isinstance(raw[field], str) and raw[field].startswith("0x"), field
    assert raw["uncles"] == []
    assert int(raw["gasUsed"], 16) == sent.receipt["gasUsed"]
    assert rpc(rpc_url, "eth_getBlockTransactionCountByNumber", [hex(number)]) == hex(
        len(block["transactions"])
    )


def test_unknown_blocks_are_null(rpc_url: str) -> None:
    head = int(rpc(rpc_url, "eth_blockNumber", []), 16)
    assert rpc(rpc_url, "eth_getBlockByNumber", [hex(head + 1000), False]) is None
    assert rpc(rpc_url, "eth_getBlockByHash", ["0x" + "ab" * 32, False]) is None
