"""JSON-RPC transactions of a running govchain node: by hash and by index, receipts (also of a
contract creation), and the pending count with a nonce gap."""

from __future__ import annotations

import time
from typing import Any

import pytest
import rlp
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from devnet.keys import CityKeys
from tests.nodes.rpc_support import (
    AACHEN,
    ACCOUNT_SET_TOPIC,
    CHAIN_ID,
    CLERK,
    CONSORTIUM_ADDRESS,
    INIT_42,
    MEMBER_COUNT,
    RUNTIME_42,
    Sent,
    abi_address,
    rpc,
)


@pytest.fixture(scope="module")
def creation(w3: Web3, aachen: CityKeys) -> TxReceipt:
    nonce = w3.eth.get_transaction_count(aachen.admin.address, "pending")
    tx_hash = w3.eth.send_transaction(
        {"from": aachen.admin.address, "data": HexBytes(INIT_42), "nonce": nonce}
    )
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)
    assert receipt["status"] == 1
    return receipt


def test_transaction_by_hash(
    w3: Web3, rpc_url: str, sent: Sent, consortium: Contract, aachen: CityKeys
) -> None:
    tx = w3.eth.get_transaction(sent.receipt["transactionHash"])
    assert tx["blockHash"] == sent.receipt["blockHash"]
    assert tx["blockNumber"] == sent.receipt["blockNumber"]
    assert tx["transactionIndex"] == sent.receipt["transactionIndex"]
    assert tx["from"] == aachen.admin.address
    assert tx["to"] == CONSORTIUM_ADDRESS
    assert tx["value"] == 0
    expected_input = consortium.encode_abi("setAccount", [sent.clerk, CLERK, b"\0" * 32, 0])
    assert tx["input"] == HexBytes(expected_input)
    assert tx["chainId"] == CHAIN_ID
    assert rpc(rpc_url, "eth_getTransactionByHash", ["0x" + "cd" * 32]) is None
    by_index = rpc(
        rpc_url,
        "eth_getTransactionByBlockNumberAndIndex",
        [hex(sent.receipt["blockNumber"]), hex(sent.receipt["transactionIndex"])],
    )
    assert by_index["hash"] == "0x" + bytes(sent.receipt["transactionHash"]).hex()


def test_receipt(w3: Web3, rpc_url: str, sent: Sent, aachen: CityKeys) -> None:
    receipt = sent.receipt
    assert receipt["status"] == 1
    assert receipt["effectiveGasPrice"] == 0
    assert receipt["from"] == aachen.admin.address
    assert receipt["to"] == CONSORTIUM_ADDRESS
    assert receipt["contractAddress"] is None
    assert 21_000 < receipt["gasUsed"] <= receipt["cumulativeGasUsed"]
    [log] = receipt["logs"]
    assert log["address"] == CONSORTIUM_ADDRESS
    assert log["topics"] == [HexBytes(ACCOUNT_SET_TOPIC), HexBytes(AACHEN), HexBytes(abi_address(sent.clerk))]
    assert log["transactionIndex"] == receipt["transactionIndex"]
    assert log["transactionHash"] == receipt["transactionHash"]
    assert log["blockHash"] == receipt["blockHash"]
    # logIndex counts within the block: the logs of the transactions before ours come first.
    block_receipts = rpc(rpc_url, "eth_getBlockReceipts", [hex(receipt["blockNumber"])])
    earlier = sum(len(r["logs"]) for r in block_receipts[: receipt["transactionIndex"]])
    assert log["logIndex"] == earlier
    assert int(block_receipts[receipt["transactionIndex"]]["gasUsed"], 16) == receipt["gasUsed"]
    assert rpc(rpc_url, "eth_getTransactionReceipt", ["0x" + "cd" * 32]) is None


def test_receipt_of_a_creation(w3: Web3, creation: TxReceipt, aachen: CityKeys) -> None:
    tx = w3.eth.get_transaction(creation["transactionHash"])
    assert tx["to"] is None
    expected = Web3.to_checksum_address(
        keccak(rlp.encode([bytes.fromhex(aachen.admin.address[2:]), tx["nonce"]]))[12:]
    )
    assert creation["contractAddress"] == expected
    assert creation["to"] is None
    assert w3.eth.get_code(expected) == HexBytes(RUNTIME_42)
    assert int.from_bytes(w3.eth.call({"to": expected, "data": HexBytes("0x12345678")}), "big") == 42


def test_pending_count_skips_a_nonce_gap(w3: Web3, rpc_url: str) -> None:
    """A transaction with a future nonce waits in the pool, visible but not counted for "pending";
    once the gap is filled both are mined in order."""
    sender = CityKeys.derive("paderborn").admin  # no other test sends from it

    def signed(nonce: int) -> str:
        tx: dict[str, Any] = {
            "to": CONSORTIUM_ADDRESS,
            "data": "0x" + MEMBER_COUNT.hex(),
            "gas": 100_000,
            "nonce": nonce,
            "maxFeePerGas": 0,
            "maxPriorityFeePerGas": 0,
            "chainId": CHAIN_ID,
            "type": 2,
        }
        return "0x" + bytes(sender.sign_transaction(tx).raw_transaction).hex()

    nonce = w3.eth.get_transaction_count(sender.address, "latest")
    later = rpc(rpc_url, "eth_sendRawTransaction", [signed(nonce + 1)])
    pooled = rpc(rpc_url, "eth_getTransactionByHash", [later])
    assert pooled["hash"] == later
    assert pooled["blockHash"] is None and pooled["blockNumber"] is None
    assert pooled["nonce"] == hex(nonce + 1)
    assert int(rpc(rpc_url, "txpool_status", [])["queued"], 16) >= 1
    time.sleep(0.3)  # several block periods: a queued transaction is not mined
    assert rpc(rpc_url, "eth_getTransactionReceipt", [later]) is None
    assert rpc(rpc_url, "eth_getTransactionCount", [sender.address, "pending"]) == hex(nonce)

    first = rpc(rpc_url, "eth_sendRawTransaction", [signed(nonce)])
    receipts = [w3.eth.wait_for_transaction_receipt(h, timeout=30, poll_latency=0.05) for h in (first, later)]
    assert [r["status"] for r in receipts] == [1, 1]
    assert receipts[0]["blockNumber"] <= receipts[1]["blockNumber"]
    assert w3.eth.get_transaction_count(sender.address, "latest") == nonce + 2
    assert rpc(rpc_url, "eth_getTransactionCount", [sender.address, "pending"]) == hex(nonce + 2)
