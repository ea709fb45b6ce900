"""Foundry's cast, an independent Ethereum client, against a running govchain node."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import rlp
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3

from contracts.artifacts import load_artifact
from contracts.genesis import CONSORTIUM_ADDRESS
from devnet.keys import CityKeys

CAST = Path(__file__).resolve().parents[2] / "tools" / "node_modules" / ".bin" / "cast"
CAST_TIMEOUT = 30
# Gas is free on govchain, and the dev accounts hold no ether. Without explicit zero fees cast picks
# a 1 wei priority fee, which these accounts cannot pay (see test_unpayable_transaction_is_refused).
ZERO_FEES = ("--gas-price", "0", "--priority-gas-price", "0")
ACCOUNT_SET = "AccountSet(bytes32,address,uint8,bytes32,uint64)"
SET_ACCOUNT = "setAccount(address,uint8,bytes32,uint64)"
CLERK = 3
VOTING_PERIOD = 7 * 24 * 3600  # slot 0 of the Consortium (dev_founding's default)
AACHEN = b"aachen".ljust(32, b"\0")
# Init code that deploys a 10-byte runtime returning the word 42 for any call.
RUNTIME_42 = "602a60005260206000f3"
INIT_42 = "0x600a600c600039600a6000f3" + RUNTIME_42


def cast_run(rpc_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the project's pinned cast binary with our arguments
        [str(CAST), args[0], "--rpc-url", rpc_url, *args[1:]],
        capture_output=True,
        text=True,
        timeout=CAST_TIMEOUT,
        check=False,
    )


def cast(rpc_url: str, *args: str) -> str:
    done = cast_run(rpc_url, *args)
    assert done.returncode == 0, f"cast {' '.join(args)} failed: {done.stderr}"
    return done.stdout.strip()


def rpc(rpc_url: str, method: str, params: list[Any]) -> Any:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    answer = requests.post(rpc_url, json=body, timeout=10).json()
    assert "error" not in answer, answer
    return answer["result"]


def wait_until_pool_forgets(rpc_url: str, tx_hash: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while rpc(rpc_url, "eth_getTransactionByHash", [tx_hash]) is not None:
        if rpc(rpc_url, "eth_getTransactionReceipt", [tx_hash]) is not None or time.monotonic() > deadline:
            return
        time.sleep(0.05)


@dataclass(frozen=True)
class Registration:
    clerk: str  # checksummed
    receipt: dict[str, Any]  # as `cast send --json` printed it


@pytest.fixture(scope="module")
def aachen() -> CityKeys:
    return CityKeys.derive("aachen")


@pytest.fixture(scope="module")
def admin_key(aachen: CityKeys) -> str:
    return "0x" + bytes(aachen.admin.key).hex()


@pytest.fixture(scope="module")
def registration(rpc_url: str, admin_key: str) -> Registration:
    """aachen's ADMIN registers a fresh CLERK with `cast send`."""
    clerk = Account.create().address
    out = cast(
        rpc_url,
        "send",
        "--private-key",
        admin_key,
        *ZERO_FEES,
        "--json",
        CONSORTIUM_ADDRESS,
        SET_ACCOUNT,
        clerk,
        str(CLERK),
        "0x" + "00" * 32,
        "0",
    )
    return Registration(clerk, json.loads(out))


def test_chain_id(rpc_url: str, node_devnet: dict[str, Any]) -> None:
    assert cast(rpc_url, "chain-id") == "4242" == str(node_devnet["chainId"])


def test_block_number_follows_the_node(rpc_url: str, registration: Registration) -> None:
    seen = int(cast(rpc_url, "block-number"))
    assert seen >= int(registration.receipt["blockNumber"], 16)
    assert int(rpc(rpc_url, "eth_blockNumber", []), 16) in (seen, seen + 1, seen + 2)


def test_block_latest_json(rpc_url: str, node_devnet: dict[str, Any]) -> None:
    block = json.loads(cast(rpc_url, "block", "latest", "--json"))
    for field in (
        "hash",
        "parentHash",
        "number",
        "timestamp",
        "stateRoot",
        "transactionsRoot",
        "receiptsRoot",
        "miner",
        "extraData",
        "gasLimit",
        "gasUsed",
        "baseFeePerGas",
        "logsBloom",
        "transactions",
    ):
        assert field in block, field
    by_number = rpc(rpc_url, "eth_getBlockByNumber", [block["number"], False])
    assert by_number["hash"] == block["hash"]
    assert by_number["stateRoot"] == block["stateRoot"]
    assert block["miner"].lower() == node_devnet["nodes"][0]["validator"].lower()
    assert int(block["baseFeePerGas"], 16) == 0


def test_send_registers_a_clerk(rpc_url: str, registration: Registration, aachen: CityKeys) -> None:
    receipt = registration.receipt
    assert receipt["status"] == "0x1"
    assert receipt["from"].lower() == aachen.admin.address.lower()
    assert receipt["to"].lower() == CONSORTIUM_ADDRESS.lower()
    [log] = receipt["logs"]
    assert log["topics"] == [
        "0x" + keccak(text=ACCOUNT_SET).hex(),
        "0x" + AACHEN.hex(),
        "0x" + abi_encode(["address"], [registration.clerk]).hex(),
    ]
    assert log["transactionHash"] == receipt["transactionHash"]


def test_receipt_json(rpc_url: str, registration: Registration) -> None:
    tx_hash = registration.receipt["transactionHash"]
    receipt = json.loads(cast(rpc_url, "receipt", tx_hash, "--json"))
    assert receipt["status"] == "0x1"
    assert receipt["effectiveGasPrice"] == "0x0"
    assert receipt["transactionHash"] == tx_hash
    assert receipt["blockHash"] == registration.receipt["blockHash"]
    assert int(receipt["gasUsed"], 16) > 21_000
    assert receipt["contractAddress"] is None
    ours = rpc(rpc_url, "eth_getTransactionReceipt", [tx_hash])
    for field in ("blockNumber", "gasUsed", "cumulativeGasUsed", "logsBloom", "logs", "transactionIndex"):
        assert receipt[field] == ours[field], field


def test_call_shows_the_new_clerk(rpc_url: str, registration: Registration) -> None:
    out = cast(
        rpc_url, "call", CONSORTIUM_ADDRESS, "roleOf(address)(bytes32,uint8,uint64)", registration.clerk
    )
    assert out.splitlines() == ["0x" + AACHEN.hex(), str(CLERK), "0"]
    unknown = cast(
        rpc_url, "call", CONSORTIUM_ADDRESS, "roleOf(address)(bytes32,uint8,uint64)", Account.create().address
    )
    assert unknown.splitlines() == ["0x" + "00" * 32, "0", "0"]


def test_logs_by_address_and_event(rpc_url: str, registration: Registration) -> None:
    block = str(int(registration.receipt["blockNumber"], 16))
    logs = json.loads(
        cast(
            rpc_url,
            "logs",
            "--from-block",
            block,
            "--to-block",
            block,
            "--address",
            CONSORTIUM_ADDRESS,
            ACCOUNT_SET,
            "--json",
        )
    )
    assert [log["transactionHash"] for log in logs] == [registration.receipt["transactionHash"]]
    # From genesis on, filtered by the indexed account: exactly our registration.
    account_topic = "0x" + abi_encode(["address"], [registration.clerk]).hex()
    logs = json.loads(
        cast(
            rpc_url,
            "logs",
            "--from-block",
            "0",
            "--address",
            CONSORTIUM_ADDRESS,
            "0x" + keccak(text=ACCOUNT_SET).hex(),
            "0x" + AACHEN.hex(),
            account_topic,
            "--json",
        )
    )
    assert len(logs) == 1
    assert logs[0]["topics"][2] == account_topic
    assert logs[0]["blockHash"] == registration.receipt["blockHash"]
    # Only the event asked for, from the address asked for (the founding accounts were written in
    # genesis, so every AccountSet log on chain comes from a setAccount transaction).
    everything = json.loads(
        cast(rpc_url, "logs", "--from-block", "0", "--address", CONSORTIUM_ADDRESS, ACCOUNT_SET, "--json")
    )
    assert registration.receipt["transactionHash"] in {log["transactionHash"] for log in everything}
    assert {(log["address"], log["topics"][0]) for log in everything} == {
        (CONSORTIUM_ADDRESS.lower(), "0x" + keccak(text=ACCOUNT_SET).hex())
    }


def test_proof_matches_eth_get_proof(rpc_url: str) -> None:
    number = rpc(rpc_url, "eth_blockNumber", [])
    proof = json.loads(cast(rpc_url, "proof", CONSORTIUM_ADDRESS, "0", "--block", str(int(number, 16))))
    ours = rpc(rpc_url, "eth_getProof", [CONSORTIUM_ADDRESS, ["0x" + "00" * 32], number])
    assert proof["accountProof"]
    assert proof["accountProof"] == ours["accountProof"]
    assert proof["storageHash"] == ours["storageHash"]
    assert proof["codeHash"] == "0x" + keccak(load_artifact("Consortium").deployed_bytecode).hex()
    [slot] = proof["storageProof"]
    assert int(slot["value"], 16) == VOTING_PERIOD
    assert slot["proof"]


def test_storage(rpc_url: str) -> None:
    value = cast(rpc_url, "storage", CONSORTIUM_ADDRESS, "0")
    assert value == "0x" + VOTING_PERIOD.to_bytes(32, "big").hex()
    assert value == rpc(rpc_url, "eth_getStorageAt", [CONSORTIUM_ADDRESS, "0x0", "latest"])


def test_code(rpc_url: str) -> None:
    code = cast(rpc_url, "code", CONSORTIUM_ADDRESS)
    assert code == "0x" + load_artifact("Consortium").deployed_bytecode.hex()
    assert cast(rpc_url, "code", Account.create().address) == "0x"


def test_nonce_and_balance(rpc_url: str, registration: Registration, aachen: CityKeys) -> None:
    tx = json.loads(cast(rpc_url, "tx", registration.receipt["transactionHash"], "--json"))
    nonce = int(cast(rpc_url, "nonce", aachen.admin.address))
    assert nonce > int(tx["nonce"], 16)
    assert nonce == int(rpc(rpc_url, "eth_getTransactionCount", [aachen.admin.address, "latest"]), 16)
    # Nobody holds ether on govchain: gas is free and value transfers are refused.
    assert cast(rpc_url, "balance", aachen.admin.address) == "0"
    assert cast(rpc_url, "balance", CONSORTIUM_ADDRESS) == "0"


def test_rpc_pending_transaction_count(rpc_url: str, admin_key: str, aachen: CityKeys) -> None:
    address = aachen.admin.address
    nonce = int(cast(rpc_url, "nonce", address))
    assert json.loads(cast(rpc_url, "rpc", "eth_getTransactionCount", address, "pending")) == hex(nonce)
    raw = cast(
        rpc_url,
        "mktx",
        "--private-key",
        admin_key,
        *ZERO_FEES,
        "--nonce",
        str(nonce),
        "--gas-limit",
        "100000",
        CONSORTIUM_ADDRESS,
        "memberCount()",
    )
    tx_hash = cast(rpc_url, "publish", "--async", raw)
    # Pooled or already mined, the sent transaction counts for "pending" at once.
    assert json.loads(cast(rpc_url, "rpc", "eth_getTransactionCount", address, "pending")) == hex(nonce + 1)
    receipt = json.loads(cast(rpc_url, "receipt", tx_hash, "--json"))
    assert receipt["status"] == "0x1"
    assert int(cast(rpc_url, "nonce", address)) == nonce + 1


def test_send_create_legacy(rpc_url: str, admin_key: str, aachen: CityKeys) -> None:
    """A legacy (type 0) creation whose gas price cast takes from eth_gasPrice (0)."""
    nonce = int(cast(rpc_url, "nonce", aachen.admin.address))
    receipt = json.loads(
        cast(rpc_url, "send", "--private-key", admin_key, "--legacy", "--json", "--create", INIT_42)
    )
    assert receipt["status"] == "0x1"
    assert receipt["type"] == "0x0"
    expected = Web3.to_checksum_address(
        keccak(rlp.encode([bytes.fromhex(aachen.admin.address[2:]), nonce]))[12:]
    )
    assert to_checksum_address(receipt["contractAddress"]) == expected
    assert cast(rpc_url, "code", expected) == "0x" + RUNTIME_42
    assert int(cast(rpc_url, "call", expected, "anything()(uint256)")) == 42
    tx = json.loads(cast(rpc_url, "tx", receipt["transactionHash"], "--json"))
    assert tx["to"] is None
    assert tx["gasPrice"] == "0x0"
    assert int(tx["v"], 16) in (4242 * 2 + 35, 4242 * 2 + 36)  # EIP-155


def test_unpermitted_sender_is_refused(rpc_url: str) -> None:
    outsider = Account.create()
    done = cast_run(
        rpc_url,
        "send",
        "--private-key",
        "0x" + bytes(outsider.key).hex(),
        *ZERO_FEES,
        "--gas-limit",
        "100000",
        CONSORTIUM_ADDRESS,
        "memberCount()",
    )
    assert done.returncode != 0
    assert "-32007" in done.stderr
    assert f"sender {outsider.address.lower()} is not permitted" in done.stderr
    assert rpc(rpc_url, "eth_getTransactionCount", [outsider.address, "pending"]) == "0x0"


def test_unpayable_transaction_is_refused(rpc_url: str) -> None:
    """With default fees cast offers a 1 wei priority fee; a sender without ether cannot pay it, so
    the node must refuse the transaction when it arrives (geth: "insufficient funds for gas * price
    + value", Besu: "Upfront cost exceeds account balance") instead of accepting and losing it."""
    gateway = CityKeys.derive("gelsenkirchen").gateway  # a permitted sender no other test uses
    done = cast_run(
        rpc_url,
        "send",
        "--async",
        "--private-key",
        "0x" + bytes(gateway.key).hex(),
        "--gas-limit",
        "100000",
        CONSORTIUM_ADDRESS,
        "memberCount()",
    )
    if done.returncode == 0:  # accepted: let the node drop it before other tests use the pool
        wait_until_pool_forgets(rpc_url, done.stdout.strip())
    assert done.returncode != 0, f"accepted as {done.stdout.strip()}"
    assert "insufficient funds" in done.stderr.lower() or "exceeds account balance" in done.stderr.lower()
