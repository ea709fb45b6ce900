"""Bugs that corrupt or kill a node: on a scratch devnet of their own, outside the shared node's
baseline and closing check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from eth_account.signers.local import LocalAccount

from tests.nodes.bad_input.conftest import (
    REJECTED,
    TIMEOUT,
    block_number,
    drain,
    nonce,
    post,
    send_raw,
    typed_tx,
    wait_until,
)
from tests.support.devnet import running_devnet


@pytest.fixture
def baseline() -> None:
    """Overrides the package's autouse `baseline`: these tests leave the shared node alone, so they
    need no baseline of it and do not count towards its closing check."""


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
