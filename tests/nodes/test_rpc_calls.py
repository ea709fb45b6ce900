"""JSON-RPC calls and state of a running govchain node: eth_call and gas estimates, reverts with
custom error data (raw and as web3.py decodes them), code, balance and storage."""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError

from contracts.artifacts import load_artifact
from devnet.keys import CityKeys
from tests.nodes.rpc_support import (
    AACHEN,
    CLERK,
    CONSORTIUM_ADDRESS,
    VOTING_PERIOD,
    ZERO_HASH,
    Sent,
    abi_address,
    fresh_address,
    raw_rpc,
    rpc,
)


def test_call_and_estimate_gas(w3: Web3, consortium: Contract, sent: Sent, aachen: CityKeys) -> None:
    assert consortium.functions.roleOf(sent.clerk).call() == [AACHEN, CLERK, 0]
    assert consortium.functions.memberCount().call() == 3
    assert consortium.functions.votingPeriod().call() == VOTING_PERIOD
    newcomer = fresh_address()
    call = consortium.functions.setAccount(newcomer, CLERK, b"\0" * 32, 0)
    estimate = call.estimate_gas({"from": aachen.admin.address})
    assert 21_000 < estimate < 500_000
    # The estimate is enough: a transaction with exactly that gas limit succeeds.
    tx_hash = call.transact({"from": aachen.admin.address, "gas": estimate})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)
    assert receipt["status"] == 1
    assert receipt["gasUsed"] <= estimate
    assert consortium.functions.roleOf(newcomer).call() == [AACHEN, CLERK, 0]


def test_revert_is_error_3_with_custom_error_data(
    rpc_url: str, consortium: Contract, aachen: CityKeys
) -> None:
    gateway = aachen.gateway.address  # not an ADMIN
    data = consortium.encode_abi("setAccount", [fresh_address(), CLERK, b"\0" * 32, 0])
    expected = "0x" + (keccak(text="NotAnAdmin(address)")[:4] + abi_address(gateway)).hex()
    for method, params in (
        ("eth_call", [{"from": gateway, "to": CONSORTIUM_ADDRESS, "data": data}, "latest"]),
        ("eth_estimateGas", [{"from": gateway, "to": CONSORTIUM_ADDRESS, "data": data}]),
    ):
        answer = raw_rpc(rpc_url, method, params)
        assert "result" not in answer
        error = answer["error"]
        assert set(error) == {"code", "message", "data"}
        assert error["code"] == 3
        assert error["message"].startswith("execution reverted: NotAnAdmin(")
        assert gateway.lower() in error["message"].lower()
        assert error["data"] == expected


def test_web3_decodes_the_custom_error(consortium: Contract, aachen: CityKeys) -> None:
    with pytest.raises(ContractCustomError) as caught:
        consortium.functions.setAccount(fresh_address(), CLERK, b"\0" * 32, 0).call(
            {"from": aachen.gateway.address}
        )
    expected = keccak(text="NotAnAdmin(address)")[:4] + abi_address(aachen.gateway.address)
    assert HexBytes(str(caught.value.data)) == HexBytes(expected)


def test_code_balance_storage(w3: Web3, rpc_url: str, aachen: CityKeys) -> None:
    assert w3.eth.get_code(CONSORTIUM_ADDRESS) == HexBytes(load_artifact("Consortium").deployed_bytecode)
    assert w3.eth.get_code(aachen.admin.address) == HexBytes(b"")
    assert w3.eth.get_balance(aachen.admin.address) == 0
    assert rpc(rpc_url, "eth_getBalance", [CONSORTIUM_ADDRESS, "latest"]) == "0x0"
    slot0 = w3.eth.get_storage_at(CONSORTIUM_ADDRESS, 0)
    assert int.from_bytes(slot0, "big") == VOTING_PERIOD
    assert rpc(rpc_url, "eth_getStorageAt", [CONSORTIUM_ADDRESS, ZERO_HASH, "latest"]) == "0x" + slot0.hex()
    assert rpc(rpc_url, "eth_getStorageAt", [CONSORTIUM_ADDRESS, "0x7777", "earliest"]) == ZERO_HASH
