"""Batches and notifications: every request of a batch answered in order, notifications never."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.nodes.bad_input.conftest import (
    ADDRESS,
    INVALID_PARAMS,
    INVALID_REQUEST,
    MAX_BATCH,
    METHOD_NOT_FOUND,
    error_body,
    post,
    post_json,
)

# ------------------------------------------------------------------ batches


def test_an_empty_batch_is_an_invalid_request(rpc_url: str) -> None:
    status, body = post_json(rpc_url, [])
    assert status == 200
    assert "empty" in error_body(body, INVALID_REQUEST)["message"]
    assert body["id"] is None


def test_a_batch_over_the_limit_is_refused_and_one_at_the_limit_is_answered(
    rpc_url: str, chain_id: int
) -> None:
    request = {"jsonrpc": "2.0", "method": "eth_chainId", "params": []}
    status, body = post_json(rpc_url, [request | {"id": i} for i in range(MAX_BATCH + 1)])
    assert status == 200
    assert "batch too large" in error_body(body, INVALID_REQUEST)["message"]

    status, body = post_json(rpc_url, [request | {"id": i} for i in range(MAX_BATCH)])
    assert status == 200
    assert isinstance(body, list)
    assert [r["id"] for r in body] == list(range(MAX_BATCH))
    assert {r["result"] for r in body} == {hex(chain_id)}


def test_a_mixed_batch_answers_every_request_in_order(rpc_url: str, chain_id: int) -> None:
    batch: list[Any] = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        5,
        {"jsonrpc": "2.0", "id": "b", "method": "eth_nope", "params": []},
        {"jsonrpc": "2.0", "method": "eth_chainId", "params": []},  # a notification: no answer
        {"jsonrpc": "2.0", "id": 3, "method": "eth_getBalance", "params": ["0x12"]},
        {"jsonrpc": "1.0", "id": 4, "method": "eth_chainId", "params": []},
        [{"jsonrpc": "2.0", "id": 9, "method": "eth_chainId"}],
        {"jsonrpc": "2.0", "id": 5, "method": "eth_getBalance", "params": [ADDRESS, "latest"]},
        {"jsonrpc": "2.0", "id": {"x": 1}, "method": "eth_chainId"},
        {"jsonrpc": "2.0", "id": 6, "method": "eth_chainId"},
    ]
    status, body = post_json(rpc_url, batch)
    assert status == 200
    assert isinstance(body, list)
    assert [r["id"] for r in body] == [1, None, "b", 3, 4, None, 5, None, 6]
    outcome = [r["error"]["code"] if "error" in r else "ok" for r in body]
    ok, bad = "ok", INVALID_REQUEST
    assert outcome == [ok, bad, METHOD_NOT_FOUND, INVALID_PARAMS, bad, bad, ok, bad, ok]
    assert body[0]["result"] == body[-1]["result"] == hex(chain_id)
    assert body[6]["result"] == "0x0"


# ------------------------------------------------------------ notifications


@pytest.mark.parametrize(
    "notification",
    [
        {"jsonrpc": "2.0", "method": "eth_blockNumber", "params": []},
        {"jsonrpc": "2.0", "method": "eth_blockNumber"},
        {"jsonrpc": "2.0", "method": "eth_nope", "params": []},
        {"jsonrpc": "2.0", "method": "eth_getBalance", "params": ["0x12"]},
    ],
    ids=["valid", "no-params", "unknown-method", "bad-params"],
)
def test_a_notification_alone_gets_http_204_and_no_body(rpc_url: str, notification: dict[str, Any]) -> None:
    response = post(rpc_url, json.dumps(notification))
    assert response.status_code == 204
    assert response.content == b""


def test_a_batch_of_notifications_gets_no_response(rpc_url: str) -> None:
    notification = {"jsonrpc": "2.0", "method": "eth_chainId", "params": []}
    response = post(rpc_url, json.dumps([notification, notification | {"method": "eth_nope"}]))
    assert response.status_code == 204
    assert response.content == b""


def test_an_invalid_request_without_id_is_still_answered(rpc_url: str) -> None:
    """Only a valid request without id is a notification; an invalid one gets an error with id null."""
    status, body = post_json(rpc_url, {"method": "eth_chainId"})
    assert status == 200
    error_body(body, INVALID_REQUEST)
    assert body["id"] is None
