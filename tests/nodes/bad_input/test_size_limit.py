"""The body size limit (with and without Content-Length) and numbers too long to parse."""

from __future__ import annotations

import requests

from tests.nodes.bad_input.conftest import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    MAX_REQUEST_BYTES,
    PARSE_ERROR,
    TIMEOUT,
    error_body,
    post,
)


def _padded_request(size: int) -> bytes:
    """A valid eth_chainId request padded with whitespace to exactly `size` bytes."""
    core = b'{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}'
    return core + b" " * (size - len(core))


def test_a_body_over_the_limit_is_http_413_with_a_json_rpc_error(rpc_url: str) -> None:
    response = post(rpc_url, _padded_request(MAX_REQUEST_BYTES + 1))
    assert response.status_code == 413
    err = error_body(response.json(), INVALID_REQUEST)
    assert "too large" in err["message"]


def test_a_chunked_body_over_the_limit_is_http_413(rpc_url: str) -> None:
    """Without a Content-Length header the server must count the bytes it streams in."""
    body = _padded_request(MAX_REQUEST_BYTES + 1)
    chunks = (body[i : i + (1 << 20)] for i in range(0, len(body), 1 << 20))
    response = requests.post(
        rpc_url, data=chunks, headers={"Content-Type": "application/json"}, timeout=TIMEOUT
    )
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 413
    error_body(response.json(), INVALID_REQUEST)


def test_a_body_at_the_limit_is_served(rpc_url: str, chain_id: int) -> None:
    response = post(rpc_url, _padded_request(MAX_REQUEST_BYTES))
    assert response.status_code == 200
    assert response.json()["result"] == hex(chain_id)


def test_an_integer_too_long_to_parse_is_a_parse_error_not_http_500(rpc_url: str) -> None:
    response = post(
        rpc_url, '{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": [' + "7" * 5000 + "]}"
    )
    assert response.status_code == 200
    assert response.json()["error"]["code"] in (PARSE_ERROR, INVALID_PARAMS)
