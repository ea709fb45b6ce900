"""Robustness of the node's JSON-RPC against bad input, over real HTTP against a running devnet node.

Framing (JSON-RPC 2.0: parse errors, invalid requests, batches, notifications, the body size
limit), parameter validation (every bad parameter is a -32602 naming the parameter), garbage raw
transactions (each refused with a message saying what is wrong, never -32603), a Hypothesis fuzz
of random JSON-RPC-ish payloads, and at the end: the node still produces blocks and none of the
rejected input reached the chain.

Tests for bugs that corrupt or kill a node run on a scratch devnet of their own (last in the file).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import rlp
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devnet.keys import CityKeys
from nodes.chain.execution import TX_BUILDER
from nodes.config import NodeConfig
from nodes.rpc.api import Api
from tests.support.campaigns import CAMPAIGNS, campaign
from tests.support.devnet import running_devnet

TIMEOUT = 30
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
SENDER_NOT_AUTHORIZED = -32007

MAX_REQUEST_BYTES: int = NodeConfig.model_fields["max_request_bytes"].default
MAX_BATCH: int = NodeConfig.model_fields["max_batch_requests"].default
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

ADDRESS = "0x" + "11" * 20
HASH = "0x" + "ab" * 32
TARGET = "0x" + "22" * 20  # the recipient of the test transactions


# ------------------------------------------------------------------ helpers


def post(url: str, body: bytes | str) -> requests.Response:
    return requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=TIMEOUT)


def post_json(url: str, payload: Any) -> tuple[int, Any]:
    """Posts `payload` as JSON; (HTTP status, decoded body or None when the body is empty)."""
    response = post(url, json.dumps(payload))
    return response.status_code, (response.json() if response.content else None)


def call(url: str, method: str, params: Any, request_id: int | str = 1) -> dict[str, Any]:
    """One request; the response object, checked to be a well-formed answer to it."""
    status, body = post_json(url, {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
    assert status == 200, body
    assert isinstance(body, dict), body
    assert body["jsonrpc"] == "2.0"
    assert body["id"] == request_id
    assert ("result" in body) != ("error" in body), body
    return body


def result(url: str, method: str, params: Any) -> Any:
    body = call(url, method, params)
    assert "error" not in body, body
    return body["result"]


def error(url: str, method: str, params: Any) -> dict[str, Any]:
    body = call(url, method, params)
    assert "error" in body, body
    err: dict[str, Any] = body["error"]
    assert isinstance(err["code"], int)
    assert isinstance(err["message"], str)
    assert err["message"]
    return err


def error_body(body: Any, code: int) -> dict[str, Any]:
    """`body` is a JSON-RPC error response with `code`; returns the error object."""
    assert isinstance(body, dict), body
    assert body["jsonrpc"] == "2.0"
    assert "result" not in body, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str)
    return dict(body["error"])


def nonce(url: str, account: str, tag: str = "latest") -> int:
    return int(result(url, "eth_getTransactionCount", [account, tag]), 16)


def block_number(url: str) -> int:
    return int(result(url, "eth_blockNumber", []), 16)


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def node_methods() -> list[str]:
    """The JSON-RPC method names the node's Api serves (read from the class, not hard-coded)."""
    names: set[str] = set()
    for attribute in dir(Api):
        marked = getattr(getattr(Api, attribute), "_rpc_name", None)
        if isinstance(marked, str):
            names.add(marked)
        elif "__" in attribute and not attribute.startswith("_"):  # older naming: eth__chainId
            names.add(attribute.replace("__", "_"))
    return sorted(names)


def typed_tx(account: LocalAccount, chain_id: int, tx_nonce: int, **overrides: Any) -> bytes:
    fields: dict[str, Any] = {
        "type": 2,
        "chainId": chain_id,
        "nonce": tx_nonce,
        "to": TARGET,
        "value": 0,
        "gas": 21_000,
        "maxFeePerGas": 0,
        "maxPriorityFeePerGas": 0,
        "data": b"",
    }
    fields.update(overrides)
    return bytes(account.sign_transaction(fields).raw_transaction)


def with_field(raw: bytes, index: int, value: bytes) -> bytes:
    """A typed transaction with one RLP field replaced (index -3: y parity, -2: r, -1: s)."""
    items = list(rlp.decode(raw[1:]))
    items[index] = value
    return raw[:1] + bytes(rlp.encode(items))


def high_s_twin(raw: bytes) -> bytes:
    """The malleable twin of a typed transaction: s → n - s, y parity flipped (same sender, EIP-2 invalid)."""
    items = list(rlp.decode(raw[1:]))
    s = int.from_bytes(items[-1], "big")
    items[-1] = (SECP256K1_N - s).to_bytes(32, "big")
    items[-3] = b"" if items[-3] == b"\x01" else b"\x01"
    return raw[:1] + bytes(rlp.encode(items))


def send_raw(url: str, raw: bytes) -> dict[str, Any]:
    return call(url, "eth_sendRawTransaction", ["0x" + raw.hex()])


def drain(url: str, account: str) -> None:
    """Waits until `account` has nothing pooled (a wrongly accepted transaction was dropped)."""
    wait_until(lambda: nonce(url, account, "pending") == nonce(url, account), timeout=10)


# ----------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def admin() -> LocalAccount:
    return CityKeys.derive("aachen").admin


@pytest.fixture(scope="module")
def chain_id(node_devnet: dict[str, Any]) -> int:
    return int(node_devnet["chainId"])


@dataclass(frozen=True)
class Baseline:
    head: int
    admin_nonce: int
    admin_pending_nonce: int
    pool: dict[str, str]


@pytest.fixture(scope="module", autouse=True)
def baseline(rpc_url: str, admin: LocalAccount) -> Baseline:
    """The chain before this module's bad input (autouse: taken before the first test)."""
    return Baseline(
        head=block_number(rpc_url),
        admin_nonce=nonce(rpc_url, admin.address),
        admin_pending_nonce=nonce(rpc_url, admin.address, "pending"),
        pool=result(rpc_url, "txpool_status", []),
    )


# ------------------------------------------------------------------ framing


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


# ------------------------------------------------------------------- params

BAD_PARAMS: list[tuple[str, Any, str]] = [
    # (method, params, a fragment of the message naming what is wrong)
    ("eth_getBalance", ["0x" + "11" * 19], "address must be 20 bytes"),
    ("eth_getBalance", ["0x" + "11" * 21, "latest"], "address must be 20 bytes"),
    ("eth_getBalance", ["0x" + "zz" * 20], "address"),
    ("eth_getBalance", [1234], "address"),
    ("eth_getBalance", [ADDRESS, "0xzz"], "block must be a hex quantity"),
    ("eth_getBalance", [ADDRESS, "0x"], "block must be a hex quantity"),
    ("eth_getBalance", [ADDRESS, "newest"], "block must be a block number"),
    ("eth_getBalance", [ADDRESS, 5], "block must be a block number"),
    ("eth_getBalance", [ADDRESS, {"blockHash": "0x12"}], "block.blockHash"),
    ("eth_getBalance", [ADDRESS, {"blockNumber": 5}], "block.blockNumber"),
    ("eth_getBalance", [], "expected 1 to 2 parameters, got 0"),
    ("eth_getBalance", [ADDRESS, "latest", "extra"], "expected 1 to 2 parameters, got 3"),
    ("eth_getBalance", {"address": ADDRESS, "block": "latest"}, "named parameters"),
    ("eth_getBalance", "latest", "params must be an array"),
    ("eth_getBalance", 5, "params must be an array"),
    ("eth_getBlockByNumber", ["0xzz"], "block must be a hex quantity"),
    ("eth_getBlockByNumber", ["newest"], "block must be a block number"),
    ("eth_getBlockByNumber", ["0x" + "f" * 65], "block must be a hex quantity"),
    ("eth_getBlockByNumber", [12], "block must be a block number"),
    ("eth_getBlockByNumber", ["latest", "true"], "fullTransactions"),
    ("eth_getBlockByNumber", [], "expected 1 to 2 parameters, got 0"),
    ("eth_getBlockByHash", ["0x1234", False], "blockHash must be 32 bytes"),
    ("eth_getBlockTransactionCountByNumber", [None], "block must be a block number"),
    ("eth_getBlockReceipts", ["soon"], "block"),
    ("eth_getTransactionCount", [ADDRESS, "next"], "block must be a block number"),
    ("eth_getTransactionCount", ["0x1234", "latest"], "address"),
    ("eth_getTransactionByHash", ["0x" + "00" * 31], "transactionHash must be 32 bytes"),
    ("eth_getTransactionReceipt", [True], "transactionHash"),
    ("eth_getTransactionByBlockNumberAndIndex", ["latest", "1"], "index must be a hex quantity"),
    ("eth_getStorageAt", [ADDRESS, "one"], "slot"),
    ("eth_getCode", [ADDRESS + "1"], "address"),
    ("eth_getLogs", [{"topics": [None] * 5}], "topics must be a list of at most 4"),
    ("eth_getLogs", [{"topics": "0x12"}], "topics must be a list"),
    ("eth_getLogs", [{"fromBlock": "0x0", "toblock": "latest"}], "unknown filter field toblock"),
    ("eth_getLogs", [{"blockHash": HASH, "fromBlock": "0x0"}], "blockHash excludes fromBlock"),
    ("eth_getLogs", [{"address": "0x1234"}], "address must be 20 bytes"),
    ("eth_getLogs", [{"address": [ADDRESS, 5]}], "address"),
    ("eth_getLogs", [{"topics": ["0x1234"]}], "topics[0]"),
    ("eth_getLogs", [{"topics": [None, ["0x12"]]}], "topics[1]"),
    ("eth_getLogs", [{"fromBlock": "yesterday"}], "fromBlock"),
    ("eth_getLogs", [{"toBlock": "0xzz"}], "toBlock"),
    ("eth_getLogs", ["latest"], "filter must be an object"),
    ("eth_getLogs", [[]], "filter must be an object"),
    ("eth_getLogs", [], "expected 1 parameters, got 0"),
    ("eth_call", ["0x1234"], "transaction must be an object"),
    ("eth_call", [[ADDRESS]], "transaction must be an object"),
    ("eth_call", [{"to": "0x12"}], "to must be 20 bytes"),
    ("eth_call", [{"to": ADDRESS, "value": "ten"}], "value must be a hex quantity"),
    ("eth_call", [{"to": ADDRESS, "data": "0x1"}], "input"),
    ("eth_call", [{"to": ADDRESS, "gas": 5}], "gas must be a hex quantity"),
    ("eth_call", [{"to": ADDRESS}, "newest"], "block must be a block number"),
    ("eth_call", [{"to": ADDRESS}, "latest", {}], "state overrides"),
    ("eth_estimateGas", [5], "transaction must be an object"),
    ("eth_estimateGas", [{"from": "0xabc"}], "from"),
    ("eth_feeHistory", ["0x0", "latest"], "blockCount must be between"),
    ("eth_feeHistory", ["ten", "latest"], "blockCount must be a hex quantity"),
    ("eth_feeHistory", ["0x1", "newest"], "newestBlock"),
    ("eth_feeHistory", ["0x1", "latest", "50"], "rewardPercentiles"),
    ("eth_getProof", [ADDRESS, "0x00"], "storageKeys must be a list"),
    ("eth_getProof", [ADDRESS, ["zz"]], "storageKey"),
    ("eth_sendRawTransaction", ["0x123"], "transaction must be"),
    ("eth_sendRawTransaction", [42], "transaction must be"),
    ("eth_sendRawTransaction", ["f86c"], "transaction must be"),
    ("eth_sendRawTransaction", [], "expected 1 parameters, got 0"),
    ("qbft_getValidatorsByBlockNumber", ["newest"], "block must be a block number"),
    ("qbft_getValidatorsByBlockHash", ["0x"], "blockHash must be 32 bytes"),
    ("qbft_proposeValidatorVote", ["0x12", True], "validatorAddress must be 20 bytes"),
    ("qbft_proposeValidatorVote", [ADDRESS, "yes"], "add must be true or false"),
    ("txpool_status", ["x"], "expected 0 parameters, got 1"),
    ("eth_blockNumber", [1], "expected 0 parameters, got 1"),
    ("eth_chainId", [None], "expected 0 parameters, got 1"),
    ("evm_increaseTime", [-1], "seconds must be between"),
    ("evm_increaseTime", ["0xzz"], "seconds must be a hex quantity"),
    ("evm_increaseTime", [], "expected 1 parameters, got 0"),
]


@pytest.mark.parametrize(
    ("method", "params", "fragment"), BAD_PARAMS, ids=[f"{m}-{i}" for i, (m, _, _) in enumerate(BAD_PARAMS)]
)
def test_bad_params_are_invalid_params_naming_the_parameter(
    rpc_url: str, method: str, params: Any, fragment: str
) -> None:
    err = error(rpc_url, method, params)
    assert err["code"] == INVALID_PARAMS, err
    assert err["message"].startswith("invalid params: "), err
    assert fragment in err["message"], err


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("eth_getBalance", [ADDRESS]),
        ("eth_getBalance", [ADDRESS, "earliest"]),
        ("eth_getBalance", [ADDRESS, {"blockNumber": "0x0"}]),
        ("eth_getBlockByNumber", ["latest", True]),
        ("eth_getBlockByNumber", ["0x0"]),
        ("eth_getLogs", [{"fromBlock": "earliest", "toBlock": "0x0", "topics": [None, None, None, None]}]),
        ("eth_call", [{"to": ADDRESS, "data": "0x"}, "latest"]),
        ("eth_feeHistory", ["0x1", "latest", [50]]),
        ("eth_getProof", [ADDRESS, ["0x00"]]),
        ("eth_getStorageAt", [ADDRESS, "0x0", "latest"]),
        ("eth_blockNumber", None),
    ],
)
def test_the_same_methods_with_valid_params_succeed(rpc_url: str, method: str, params: Any) -> None:
    """The control group of the table above: the parameters, not the methods, are refused there."""
    result(rpc_url, method, params)


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


# ----------------------------------------------------------------- size limit


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


# ------------------------------------------------------- raw transactions


@dataclass(frozen=True)
class BadTx:
    build: Callable[[LocalAccount, int, int], bytes]  # (admin, chain id, admin's nonce) → raw bytes
    codes: tuple[int, ...]
    fragment: str  # a part of the message saying what is wrong


def _legacy_without_chain_id(admin: LocalAccount, _: int, tx_nonce: int) -> bytes:
    fields = {"nonce": tx_nonce, "to": TARGET, "value": 0, "gas": 21_000, "gasPrice": 0, "data": b""}
    raw = bytes(Account.sign_transaction(fields, admin.key).raw_transaction)
    assert TX_BUILDER.decode(raw).chain_id is None  # premise: signed before EIP-155
    return raw


REJECTED = (INVALID_PARAMS, SERVER_ERROR)
BAD_TRANSACTIONS: dict[str, BadTx] = {
    "empty": BadTx(lambda a, c, n: b"", (INVALID_PARAMS,), "empty"),
    "random-typed": BadTx(
        lambda a, c, n: b"\x02" + random.Random(1).randbytes(150), (INVALID_PARAMS,), "invalid transaction"
    ),
    "random-list": BadTx(
        lambda a, c, n: b"\xf8\x96" + random.Random(2).randbytes(150),
        (INVALID_PARAMS,),
        "invalid transaction",
    ),
    "random-short": BadTx(
        lambda a, c, n: random.Random(3).randbytes(7), (INVALID_PARAMS,), "invalid transaction"
    ),
    "truncated": BadTx(lambda a, c, n: typed_tx(a, c, n)[:-9], (INVALID_PARAMS,), "invalid transaction"),
    "one-byte-too-many": BadTx(
        lambda a, c, n: typed_tx(a, c, n) + b"\x00", (INVALID_PARAMS,), "invalid transaction"
    ),
    "unknown-type": BadTx(
        lambda a, c, n: b"\x07" + typed_tx(a, c, n)[1:], (INVALID_PARAMS,), "invalid transaction"
    ),
    "other-chain-id": BadTx(lambda a, c, n: typed_tx(a, c + 1, n), REJECTED, "chain id"),
    "legacy-without-eip155": BadTx(_legacy_without_chain_id, REJECTED, "EIP-155"),
    "tampered-y-parity": BadTx(
        lambda a, c, n: with_field(typed_tx(a, c, n), -3, b"\x05"), REJECTED, "ignature"
    ),
    "tampered-r-zero": BadTx(lambda a, c, n: with_field(typed_tx(a, c, n), -2, b""), REJECTED, "ignature"),
    "tampered-r-above-n": BadTx(
        lambda a, c, n: with_field(typed_tx(a, c, n), -2, (SECP256K1_N + 5).to_bytes(32, "big")),
        REJECTED,
        "ignature",
    ),
    "tampered-s-zero": BadTx(lambda a, c, n: with_field(typed_tx(a, c, n), -1, b""), REJECTED, "ignature"),
    "oversized": BadTx(
        lambda a, c, n: typed_tx(a, c, n, data=b"\x01" * (130 * 1024), gas=10_000_000),
        REJECTED,
        "larger than",
    ),
    "gas-above-block-limit": BadTx(lambda a, c, n: typed_tx(a, c, n, gas=10**12), REJECTED, "gas limit"),
    "nonce-too-low": BadTx(lambda a, c, n: typed_tx(a, c, n - 1), REJECTED, "nonce too low"),
    "fee-above-balance": BadTx(
        lambda a, c, n: typed_tx(a, c, n, maxFeePerGas=10**9), REJECTED, "insufficient funds"
    ),
    "nonce-too-far-ahead": BadTx(lambda a, c, n: typed_tx(a, c, n + 5_000), REJECTED, "nonce too far ahead"),
}

# Accepted today although no block can ever include it: the proposer skips it and drops it from the
# pool, and the client that got a transaction hash back waits forever.
NEVER_INCLUDABLE: dict[str, BadTx] = {
    "high-s-twin-eip2": BadTx(lambda a, c, n: high_s_twin(typed_tx(a, c, n)), REJECTED, "ignature"),
}


def _check_refused(url: str, raw: bytes, case: BadTx, admin: LocalAccount) -> None:
    before = (nonce(url, admin.address), nonce(url, admin.address, "pending"))
    body = send_raw(url, raw)
    try:
        assert "error" in body, f"accepted: {body}"
        err = body["error"]
        assert err["code"] != INTERNAL_ERROR, err
        assert err["code"] in case.codes, err
        assert case.fragment in err["message"], err
    finally:
        if "result" in body:
            drain(url, admin.address)
    assert result(url, "eth_getTransactionByHash", ["0x" + keccak(raw).hex()]) is None
    assert (nonce(url, admin.address), nonce(url, admin.address, "pending")) == before


@pytest.mark.parametrize("name", BAD_TRANSACTIONS)
def test_a_bad_raw_transaction_is_refused_with_a_clear_error(
    rpc_url: str, admin: LocalAccount, chain_id: int, name: str
) -> None:
    admin_nonce = nonce(rpc_url, admin.address)
    assert admin_nonce >= 1  # premise of nonce-too-low: the devnet deployed its contracts from admin
    case = BAD_TRANSACTIONS[name]
    _check_refused(rpc_url, case.build(admin, chain_id, admin_nonce), case, admin)


@pytest.mark.parametrize("name", NEVER_INCLUDABLE)
def test_a_never_includable_transaction_is_refused(
    rpc_url: str, admin: LocalAccount, chain_id: int, name: str
) -> None:
    case = NEVER_INCLUDABLE[name]
    _check_refused(rpc_url, case.build(admin, chain_id, nonce(rpc_url, admin.address)), case, admin)


def test_the_untampered_transactions_are_well_formed(admin: LocalAccount) -> None:
    """The premise of the tamper cases: before tampering, the transaction decodes and is admin's."""
    raw = typed_tx(admin, 4242, 3)
    tx = TX_BUILDER.decode(raw)
    tx.validate()
    tx.check_signature_validity()
    assert tx.sender == bytes.fromhex(admin.address[2:])
    assert TX_BUILDER.decode(high_s_twin(raw)).sender == tx.sender  # the twin recovers the same sender


def test_a_tampered_signature_recovering_another_sender_is_not_permitted(
    rpc_url: str, admin: LocalAccount, chain_id: int
) -> None:
    raw = typed_tx(admin, chain_id, nonce(rpc_url, admin.address))
    items = list(rlp.decode(raw[1:]))
    items[-1] = (int.from_bytes(items[-1], "big") ^ 1).to_bytes(32, "big")
    tampered = raw[:1] + bytes(rlp.encode(items))
    err = error(rpc_url, "eth_sendRawTransaction", ["0x" + tampered.hex()])
    assert err["code"] == SENDER_NOT_AUTHORIZED, err
    assert "not permitted" in err["message"]
    assert admin.address[2:].lower() not in err["message"].lower()
    assert result(rpc_url, "eth_getTransactionByHash", ["0x" + keccak(tampered).hex()]) is None


CLIENT_MISTAKES_IN_CALLS: list[tuple[str, Any]] = [
    ("eth_call", [{"to": ADDRESS, "gas": "0x1"}]),
    ("eth_call", [{"to": ADDRESS, "value": "0x1"}]),
    ("eth_estimateGas", [{"to": ADDRESS, "gas": "0x5207"}]),
    ("eth_estimateGas", [{"to": ADDRESS, "value": "0x1"}]),
]


@pytest.mark.parametrize(("method", "params"), CLIENT_MISTAKES_IN_CALLS)
def test_client_mistakes_in_calls_are_not_internal_errors(rpc_url: str, method: str, params: Any) -> None:
    err = error(rpc_url, method, params)
    assert err["code"] != INTERNAL_ERROR, err


def test_an_oversized_storage_key_is_invalid_params(rpc_url: str) -> None:
    err = error(rpc_url, "eth_getProof", [ADDRESS, ["0x" + "ff" * 33], "latest"])
    assert err["code"] == INVALID_PARAMS, err
    assert "storageKey" in err["message"]


# --------------------------------------------------------------- fuzzing


def _json_values() -> st.SearchStrategy[Any]:
    hexish = st.one_of(
        st.sampled_from(
            ["latest", "pending", "earliest", "safe", "finalized", "0x", "0x0", "0x1", "0xzz", "newest"]
        ),
        st.binary(max_size=40).map(lambda b: "0x" + b.hex()),
        st.integers(min_value=0, max_value=2**80).map(hex),
    )
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        hexish,
    )
    keys = st.one_of(
        st.sampled_from(
            ["from", "to", "gas", "value", "data", "input", "fromBlock", "toBlock", "address", "topics"]
        ),
        st.sampled_from(["blockHash", "blockNumber"]),
        st.text(max_size=8),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=5)),
        max_leaves=20,
    )


# Methods whose valid calls change the shared node for good: evm_increaseTime moves its clock, a
# validator vote for a random address would make the 1-validator devnet wait for a validator that
# does not exist. Random calls of them would upset the rest of the session.
STATEFUL_METHODS = {"evm_increaseTime", "qbft_proposeValidatorVote", "qbft_discardValidatorVote"}
FUZZ_METHODS = [m for m in node_methods() if m not in STATEFUL_METHODS]
JSON_VALUES = _json_values()
REQUESTS = st.fixed_dictionaries(
    {
        "jsonrpc": st.sampled_from(["2.0", "2.0", "2.0", "1.0"]),
        "method": st.one_of(st.sampled_from(FUZZ_METHODS), st.text(max_size=30)),
    },
    optional={
        "id": st.one_of(st.integers(), st.text(max_size=10), st.none(), st.booleans()),
        "params": st.one_of(st.lists(JSON_VALUES, max_size=4), JSON_VALUES),
    },
)
FUZZ_CAMPAIGN = "node JSON-RPC, Hypothesis fuzzer"
PAYLOADS = st.one_of(REQUESTS, REQUESTS, st.lists(REQUESTS, min_size=1, max_size=4), JSON_VALUES)


def _answered(request: Any) -> bool:
    """Whether the node must answer this request object (everything but a valid notification)."""
    valid = (
        isinstance(request, dict)
        and request.get("jsonrpc") == "2.0"
        and isinstance(request.get("method"), str)
    )
    return not (valid and "id" not in request)


def _check_response(response: Any, request: Any) -> None:
    assert isinstance(response, dict), response
    assert response.get("jsonrpc") == "2.0", response
    assert "id" in response, response
    assert ("result" in response) != ("error" in response), response
    if "error" in response:
        err = response["error"]
        assert isinstance(err, dict), response
        assert isinstance(err.get("code"), int), response
        assert isinstance(err.get("message"), str), response
        assert err["code"] != INTERNAL_ERROR, (request, response)
        if err["code"] not in (INVALID_REQUEST, PARSE_ERROR):
            assert response["id"] == request["id"], (request, response)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=PAYLOADS)
def test_fuzz_random_payloads_get_well_formed_answers(rpc_url: str, payload: Any) -> None:
    response = post(rpc_url, json.dumps(payload))
    internal = b'"code":%d' % INTERNAL_ERROR in response.content.replace(b" ", b"")
    campaign(FUZZ_CAMPAIGN).saw(500 if internal else response.status_code, json.dumps(payload)[:200])
    assert response.status_code < 500, response.text
    expected = payload if isinstance(payload, list) and payload else [payload]
    answered = [r for r in expected if _answered(r)]
    if not answered:
        assert response.status_code == 204
        assert response.content == b""
        return
    assert response.status_code == 200
    body = response.json()
    if isinstance(payload, list) and payload:
        assert isinstance(body, list), body
        assert len(body) == len(answered), (payload, body)
        for item, request in zip(body, answered, strict=True):
            _check_response(item, request)
    else:
        _check_response(body, payload)


# ------------------------------------------- after all of that: the node is fine


def test_the_node_still_serves_and_no_rejected_input_reached_the_chain(
    rpc_url: str, admin: LocalAccount, baseline: Baseline
) -> None:
    head = block_number(rpc_url)
    assert head >= baseline.head
    assert wait_until(lambda: block_number(rpc_url) > head, timeout=30), "no new block within 30 s"
    changes = [
        nonce(rpc_url, admin.address) != baseline.admin_nonce,
        nonce(rpc_url, admin.address, "pending") != baseline.admin_pending_nonce,
        result(rpc_url, "txpool_status", []) != baseline.pool,
        *(
            result(rpc_url, "eth_getBlockTransactionCountByNumber", [hex(number)]) != "0x0"
            for number in range(baseline.head + 1, block_number(rpc_url) + 1)
        ),
    ]
    if FUZZ_CAMPAIGN in CAMPAIGNS:
        CAMPAIGNS[FUZZ_CAMPAIGN].state_changes = sum(changes)
    assert not any(changes), changes


# --------------------------------- bugs that corrupt or kill a node: on a scratch devnet


@pytest.fixture(scope="module")
def scratch_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_devnet(tmp_path_factory.mktemp("bad-input-scratch"), nodes=1) as description:
        yield description


def test_a_transaction_below_intrinsic_gas_is_refused_and_leaves_the_state_alone(
    scratch_devnet: dict[str, Any], admin: LocalAccount
) -> None:
    url = str(scratch_devnet["nodes"][0]["rpc"])
    before = nonce(url, admin.address)
    raw = typed_tx(admin, int(scratch_devnet["chainId"]), before, gas=20_000)
    body = send_raw(url, raw)
    if "result" in body:
        drain(url, admin.address)
        start = block_number(url)
        assert wait_until(lambda: block_number(url) > start, timeout=30)
    assert nonce(url, admin.address) == before, "the state nonce moved without an included transaction"
    assert "error" in body, body
    assert body["error"]["code"] in REJECTED
    assert "intrinsic" in body["error"]["message"]


def test_a_priority_fee_above_the_max_fee_is_refused(
    scratch_devnet: dict[str, Any], admin: LocalAccount
) -> None:
    url = str(scratch_devnet["nodes"][0]["rpc"])
    before = nonce(url, admin.address)
    raw = typed_tx(admin, int(scratch_devnet["chainId"]), before, maxPriorityFeePerGas=1, maxFeePerGas=0)
    body = send_raw(url, raw)
    if "result" in body:
        drain(url, admin.address)
    assert "error" in body, f"accepted: {body}"
    assert body["error"]["code"] in REJECTED
    assert "priority" in body["error"]["message"]


def test_deeply_nested_json_does_not_kill_the_node(scratch_devnet: dict[str, Any]) -> None:
    url = str(scratch_devnet["nodes"][0]["rpc"])
    depth = 100_000
    try:
        response = post(url, "[" * depth + "]" * depth)
        status = response.status_code
    except requests.ConnectionError:
        status = None
    assert status == 200
    assert int(requests.get(url + "/health", timeout=TIMEOUT).json()["head"]) >= 0
