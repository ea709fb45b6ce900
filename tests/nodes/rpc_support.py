"""Shared by the JSON-RPC modules (test_rpc_*.py): constants of the devnet's chain and Consortium,
raw JSON-RPC calls, and registering a clerk (a mined setAccount transaction with one log)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from contracts.genesis import CONSORTIUM_ADDRESS as CONSORTIUM_RAW

CHAIN_ID = 4242
CLERK = 3
VOTING_PERIOD = 7 * 24 * 3600  # slot 0 of the Consortium
AACHEN = b"aachen".ljust(32, b"\0")
ACCOUNT_SET_TOPIC = keccak(text="AccountSet(bytes32,address,uint8,bytes32,uint64)")
MEMBER_COUNT = keccak(text="memberCount()")[:4]
# Init code that deploys a 10-byte runtime returning the word 42 for any call.
RUNTIME_42 = bytes.fromhex("602a60005260206000f3")
INIT_42 = bytes.fromhex("600a600c600039600a6000f3") + RUNTIME_42
ZERO_HASH = "0x" + "00" * 32
CONSORTIUM_ADDRESS = Web3.to_checksum_address(CONSORTIUM_RAW)


def raw_rpc(url: str, method: str, params: list[Any], request_id: int | str = 1) -> dict[str, Any]:
    """The whole JSON-RPC response object (result or error)."""
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
    answer: dict[str, Any] = requests.post(url, json=body, timeout=10).json()
    assert answer["id"] == request_id
    return answer


def rpc(url: str, method: str, params: list[Any]) -> Any:
    answer = raw_rpc(url, method, params)
    assert "error" not in answer, answer
    return answer["result"]


def fresh_address() -> ChecksumAddress:
    return Web3.to_checksum_address(Account.create().address)


def abi_address(address: str) -> bytes:
    return abi_encode(["address"], [address])


@dataclass(frozen=True)
class Sent:
    receipt: TxReceipt
    clerk: str  # the account the transaction registered


def register_clerk(w3: Web3, consortium: Contract, admin: LocalAccount) -> Sent:
    clerk = fresh_address()
    tx_hash = consortium.functions.setAccount(clerk, CLERK, b"\0" * 32, 0).transact({"from": admin.address})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)
    assert receipt["status"] == 1
    return Sent(receipt, clerk)
