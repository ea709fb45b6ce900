"""JSON-RPC 2.0 framing of single requests: parse errors, invalid requests, ids, unknown methods."""

from __future__ import annotations

from typing import Any

import pytest

from tests.nodes.bad_input.conftest import (
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    call,
    error,
    error_body,
    node_methods,
    post,
    post_json,
)


def test_a_well_formed_request_is_answered(rpc_url: str, chain_id: int) -> None:
    body = call(rpc_url, "eth_chainId", [], request_id="control")
    assert body == {"jsonrpc": "2.0", "id": "control", "result": hex(chain_id)}


@pytest.mark.parametrize(
    "body",
    [
        b'{"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"',
        b"{",
        b"nope",
        b"",
        b'{"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber",}',
        b'{"jsonrpc": "2.0", "id": 1} {"jsonrpc": "2.0", "id": 2}',
        b"[1, 2,",
        b"\xff\xfe\xfa",
        b'"\xc3\x28"',
    ],
    ids=[
        "unterminated",
        "brace",
        "word",
        "empty",
        "trailing-comma",
        "two-documents",
        "open-batch",
        "bytes",
        "bad-utf8",
    ],
)
def test_malformed_json_is_a_parse_error_with_null_id(rpc_url: str, body: bytes) -> None:
    response = post(rpc_url, body)
    assert response.status_code == 200
    payload = response.json()
    error_body(payload, PARSE_ERROR)
    assert payload["id"] is None


@pytest.mark.parametrize("value", [5, 1.5, "eth_blockNumber", None, True, {}], ids=repr)
def test_a_json_value_that_is_not_a_request_object_is_an_invalid_request(rpc_url: str, value: Any) -> None:
    status, body = post_json(rpc_url, value)
    assert status == 200
    error_body(body, INVALID_REQUEST)
    assert body["id"] is None


@pytest.mark.parametrize(
    "request_object",
    [
        {"id": 7, "method": "eth_blockNumber", "params": []},
        {"jsonrpc": "1.0", "id": 7, "method": "eth_blockNumber", "params": []},
        {"jsonrpc": 2.0, "id": 7, "method": "eth_blockNumber", "params": []},
        {"jsonrpc": None, "id": 7, "method": "eth_blockNumber", "params": []},
        {"jsonrpc": "2.0", "id": 7, "params": []},
        {"jsonrpc": "2.0", "id": 7, "method": 5, "params": []},
        {"jsonrpc": "2.0", "id": 7, "method": ["eth_blockNumber"], "params": []},
        {"jsonrpc": "2.0", "id": 7, "method": None, "params": []},
    ],
    ids=[
        "no-jsonrpc",
        "version-1.0",
        "version-number",
        "version-null",
        "no-method",
        "method-int",
        "method-list",
        "method-null",
    ],
)
def test_bad_version_or_method_is_an_invalid_request_echoing_the_id(
    rpc_url: str, request_object: dict[str, Any]
) -> None:
    status, body = post_json(rpc_url, request_object)
    assert status == 200
    err = error_body(body, INVALID_REQUEST)
    assert body["id"] == 7
    assert "jsonrpc" in err["message"]


@pytest.mark.parametrize("request_id", [{"a": 1}, True, False, [1], 1.5], ids=repr)
def test_an_id_of_the_wrong_type_is_an_invalid_request(rpc_url: str, request_id: Any) -> None:
    status, body = post_json(rpc_url, {"jsonrpc": "2.0", "id": request_id, "method": "eth_blockNumber"})
    assert status == 200
    err = error_body(body, INVALID_REQUEST)
    assert body["id"] is None
    assert "id" in err["message"]


@pytest.mark.parametrize("request_id", [0, -1, 2**70, "", "abc", None], ids=repr)
def test_ids_of_the_allowed_types_are_echoed(rpc_url: str, request_id: Any) -> None:
    status, body = post_json(rpc_url, {"jsonrpc": "2.0", "id": request_id, "method": "eth_blockNumber"})
    assert status == 200  # "id": null is a request (answered), not a notification
    assert body["id"] == request_id
    assert int(body["result"], 16) >= 0


@pytest.mark.parametrize(
    "method", ["eth_nope", "", "ETH_BLOCKNUMBER", "eth_subscribe", "debug_traceTransaction", "x" * 300]
)
def test_an_unknown_method_is_method_not_found_naming_it(rpc_url: str, method: str) -> None:
    err = error(rpc_url, method, [])
    assert err["code"] == METHOD_NOT_FOUND
    assert f"method {method} " in err["message"]


def test_the_node_method_list_is_read_from_the_api(rpc_url: str) -> None:
    methods = node_methods()
    assert {"eth_blockNumber", "eth_getBalance", "eth_sendRawTransaction", "eth_getLogs"} <= set(methods)
    for method in methods:  # every listed method exists: any answer but "method not found"
        body = call(rpc_url, method, ["not", "valid", "params", "at", "all"])
        assert body.get("error", {}).get("code") != METHOD_NOT_FOUND, (method, body)
