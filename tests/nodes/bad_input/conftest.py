"""Robustness of the node's JSON-RPC against bad input, over real HTTP against the running devnet node
of tests/nodes/conftest.py: the helpers and fixtures the modules of this package share.

The package-scoped autouse `baseline` is taken before the first test of the package; the closing
check (test_closing_check.py, moved behind the package's last test by `pytest_collection_modifyitems`
below) compares the chain with it: the node still produces blocks and none of the rejected input of
any module reached the chain. Whenever the closing check did not run after the last test of the
package (only some modules or tests selected), the teardown of `baseline` runs it instead.

Tests for bugs that corrupt or kill a node run on a scratch devnet of their own
(test_scratch_devnet.py) and stay outside the baseline and the closing check.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import rlp
from eth_account.signers.local import LocalAccount

from devnet.keys import CityKeys
from nodes.config import NodeConfig
from nodes.rpc.api import Api
from tests.support.campaigns import CAMPAIGNS

TIMEOUT = 30
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
SENDER_NOT_AUTHORIZED = -32007
REJECTED = (INVALID_PARAMS, SERVER_ERROR)  # the codes a refused transaction may get

MAX_REQUEST_BYTES: int = NodeConfig.model_fields["max_request_bytes"].default
MAX_BATCH: int = NodeConfig.model_fields["max_batch_requests"].default
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

ADDRESS = "0x" + "11" * 20
HASH = "0x" + "ab" * 32
TARGET = "0x" + "22" * 20  # the recipient of the test transactions

FUZZ_CAMPAIGN = "node JSON-RPC, Hypothesis fuzzer"
CLOSING_CHECK = "test_the_node_still_serves_and_no_rejected_input_reached_the_chain"
PACKAGE = Path(__file__).resolve().parent


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


@pytest.fixture(scope="package")
def admin() -> LocalAccount:
    return CityKeys.derive("aachen").admin


@pytest.fixture(scope="package")
def chain_id(node_devnet: dict[str, Any]) -> int:
    return int(node_devnet["chainId"])


@dataclass
class Baseline:
    head: int
    admin_nonce: int
    admin_pending_nonce: int
    pool: dict[str, str]
    checked: bool = False  # whether the closing check ran after the latest test of the package


def closing_check(url: str, admin: LocalAccount, baseline: Baseline) -> list[str]:
    """The node still produces blocks; the changes of the chain since `baseline` (each a rejected
    request that reached the chain), also recorded as the state changes of the fuzz campaign."""
    head = block_number(url)
    assert head >= baseline.head
    assert wait_until(lambda: block_number(url) > head, timeout=30), "no new block within 30 s"
    changes: list[str] = []
    admin_nonce = nonce(url, admin.address)
    if admin_nonce != baseline.admin_nonce:
        changes.append(f"admin nonce {baseline.admin_nonce} → {admin_nonce}")
    admin_pending_nonce = nonce(url, admin.address, "pending")
    if admin_pending_nonce != baseline.admin_pending_nonce:
        changes.append(f"admin pending nonce {baseline.admin_pending_nonce} → {admin_pending_nonce}")
    pool = result(url, "txpool_status", [])
    if pool != baseline.pool:
        changes.append(f"txpool {baseline.pool} → {pool}")
    for number in range(baseline.head + 1, block_number(url) + 1):
        count = result(url, "eth_getBlockTransactionCountByNumber", [hex(number)])
        if count != "0x0":
            changes.append(f"block {number} holds {count} transactions")
    if FUZZ_CAMPAIGN in CAMPAIGNS:
        CAMPAIGNS[FUZZ_CAMPAIGN].state_changes = len(changes)
    return changes


@pytest.fixture(scope="package", autouse=True)
def baseline(rpc_url: str, admin: LocalAccount) -> Iterator[Baseline]:
    """The chain before this package's bad input (autouse: taken before the first test). Its teardown
    runs the closing check unless test_closing_check.py ran it after the package's last test."""
    taken = Baseline(
        head=block_number(rpc_url),
        admin_nonce=nonce(rpc_url, admin.address),
        admin_pending_nonce=nonce(rpc_url, admin.address, "pending"),
        pool=result(rpc_url, "txpool_status", []),
    )
    yield taken
    if taken.checked:
        return
    changes = closing_check(rpc_url, admin, taken)
    assert not changes, (
        f"closing check of tests/nodes/bad_input (run at the teardown of `baseline`, as {CLOSING_CHECK} "
        f"did not run after the last test): rejected input reached the chain: {changes}"
    )


@pytest.fixture(autouse=True)
def _awaits_the_closing_check(baseline: Baseline | None) -> None:
    """Every test of the package, once run, awaits a closing check (the closing test itself sets
    `checked`); None where a module opts out of the baseline (test_scratch_devnet.py)."""
    if baseline is not None:
        baseline.checked = False


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Moves the closing check behind the last other test of this package (after any reordering)."""

    def in_package(item: pytest.Item) -> bool:
        return Path(item.path).resolve().is_relative_to(PACKAGE)

    closing = [item for item in items if in_package(item) and item.name == CLOSING_CHECK]
    rest = [item for item in items if item not in closing]
    last = max((i for i, item in enumerate(rest) if in_package(item)), default=None)
    if closing and last is not None:
        items[:] = [*rest[: last + 1], *closing, *rest[last + 1 :]]
