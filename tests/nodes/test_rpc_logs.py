"""JSON-RPC eth_getLogs of a running govchain node: filters by block hash, range, address and
topics that match exactly one log, and filters that must match none."""

from __future__ import annotations

from hexbytes import HexBytes
from web3 import Web3

from tests.nodes.rpc_support import ACCOUNT_SET_TOPIC, CONSORTIUM_ADDRESS, Sent, abi_address, fresh_address


def test_get_logs(w3: Web3, sent: Sent) -> None:
    number = sent.receipt["blockNumber"]
    tx_hash = sent.receipt["transactionHash"]
    clerk_topic = HexBytes(abi_address(sent.clerk))
    by_hash = w3.eth.get_logs({"blockHash": sent.receipt["blockHash"], "address": CONSORTIUM_ADDRESS})
    assert [log["transactionHash"] for log in by_hash] == [tx_hash]
    by_range = w3.eth.get_logs({"fromBlock": number, "toBlock": number})
    assert [log["transactionHash"] for log in by_range] == [tx_hash]
    by_topics = w3.eth.get_logs(
        {"fromBlock": 0, "toBlock": "latest", "topics": [HexBytes(ACCOUNT_SET_TOPIC), None, clerk_topic]}
    )
    assert [(log["transactionHash"], log["logIndex"]) for log in by_topics] == [
        (tx_hash, sent.receipt["logs"][0]["logIndex"])
    ]
    either = w3.eth.get_logs({"fromBlock": 0, "topics": [None, None, [clerk_topic, HexBytes(bytes(32))]]})
    assert [log["transactionHash"] for log in either] == [tx_hash]
    # Filters that must not match.
    other_address = w3.eth.get_logs({"blockHash": sent.receipt["blockHash"], "address": fresh_address()})
    assert other_address == []
    other_topic = w3.eth.get_logs({"fromBlock": number, "toBlock": number, "topics": [HexBytes(bytes(32))]})
    assert other_topic == []
    before = w3.eth.get_logs({"fromBlock": 0, "toBlock": number - 1, "topics": [None, None, clerk_topic]})
    assert before == []
