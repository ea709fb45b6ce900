"""Parameter validation: every bad parameter is a -32602 naming the parameter, never -32603."""

from __future__ import annotations

from typing import Any

import pytest

from tests.nodes.bad_input.conftest import ADDRESS, HASH, INTERNAL_ERROR, INVALID_PARAMS, error, result

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
