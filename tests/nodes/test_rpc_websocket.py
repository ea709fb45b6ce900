"""JSON-RPC over WebSocket of a running govchain node: requests, newHeads and logs subscriptions,
and unsubscribing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from web3 import Web3
from web3.contract import Contract
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from devnet.keys import CityKeys
from tests.nodes.rpc_support import (
    CHAIN_ID,
    CONSORTIUM_ADDRESS,
    abi_address,
    fresh_address,
    register_clerk,
    rpc,
)


class Ws:
    """A WebSocket JSON-RPC client that keeps subscription notifications apart from responses."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.notifications: list[dict[str, Any]] = []
        self.ids = iter(range(1, 10**6))

    def request(self, method: str, params: list[Any]) -> Any:
        request_id = next(self.ids)
        self.connection.send(
            json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.connection.recv(timeout=10))
            if message.get("id") == request_id:
                assert "error" not in message, message
                return message["result"]
            assert message["method"] == "eth_subscription", message
            self.notifications.append(message["params"])

    def next_notification(self, timeout: float = 15) -> dict[str, Any]:
        if self.notifications:
            return self.notifications.pop(0)
        message = json.loads(self.connection.recv(timeout=timeout))
        assert message["method"] == "eth_subscription", message
        params: dict[str, Any] = message["params"]
        return params


@pytest.fixture
def ws(ws_url: str) -> Iterator[Ws]:
    with ws_connect(ws_url, open_timeout=10) as connection:
        yield Ws(connection)


def test_ws_answers_requests(ws: Ws) -> None:
    assert ws.request("eth_chainId", []) == hex(CHAIN_ID)


def test_new_heads(ws: Ws, w3: Web3, rpc_url: str, consortium: Contract, aachen: CityKeys) -> None:
    sub = ws.request("eth_subscribe", ["newHeads"])
    assert isinstance(sub, str) and sub.startswith("0x")
    for _ in range(2):  # each transaction makes a block (a heartbeat block also comes every 5 s)
        register_clerk(w3, consortium, aachen.admin)
    heads = [ws.next_notification() for _ in range(2)]
    assert {n["subscription"] for n in heads} == {sub}
    first, second = heads[0]["result"], heads[1]["result"]
    assert int(second["number"], 16) == int(first["number"], 16) + 1
    assert second["parentHash"] == first["hash"]
    # A header as eth_getBlockByNumber shows it, without the transactions.
    block = rpc(rpc_url, "eth_getBlockByNumber", [first["number"], False])
    assert first == {k: v for k, v in block.items() if k not in ("transactions", "uncles", "withdrawals")}
    assert ws.request("eth_unsubscribe", [sub]) is True
    assert ws.request("eth_unsubscribe", [sub]) is False


def test_logs_subscription(ws: Ws, w3: Web3, consortium: Contract, aachen: CityKeys) -> None:
    ours = ws.request("eth_subscribe", ["logs", {"address": CONSORTIUM_ADDRESS}])
    elsewhere = ws.request("eth_subscribe", ["logs", {"address": fresh_address()}])
    assert ours != elsewhere
    sent = register_clerk(w3, consortium, aachen.admin)
    notification = ws.next_notification()
    assert notification["subscription"] == ours
    log = notification["result"]
    assert log["transactionHash"] == "0x" + bytes(sent.receipt["transactionHash"]).hex()
    assert log["address"] == CONSORTIUM_ADDRESS.lower()
    assert log["topics"][2] == "0x" + abi_address(sent.clerk).hex()
    assert log["blockNumber"] == hex(sent.receipt["blockNumber"])
    assert log["removed"] is False
    assert ws.request("eth_unsubscribe", [ours]) is True
    assert ws.request("eth_unsubscribe", [elsewhere]) is True
    assert ws.notifications == []  # nothing arrived for the filter that matches no log
