"""The JSON-RPC method set of a running govchain node, through web3.py and raw JSON-RPC."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import pytest
import requests
import rlp
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from trie.hexary import HexaryTrie
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError
from web3.types import TxData, TxReceipt
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from contracts.artifacts import load_artifact
from contracts.genesis import CONSORTIUM_ADDRESS as CONSORTIUM_RAW
from devnet.keys import CityKeys
from ledger.connect import connect
from ledger.deploy import bind

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


@pytest.fixture(scope="module")
def aachen() -> CityKeys:
    return CityKeys.derive("aachen")


@pytest.fixture(scope="module")
def w3(rpc_url: str, aachen: CityKeys) -> Web3:
    return connect(rpc_url, [aachen.admin])


@pytest.fixture(scope="module")
def consortium(w3: Web3) -> Contract:
    return bind(w3, "Consortium", CONSORTIUM_ADDRESS)


def register_clerk(w3: Web3, consortium: Contract, admin: LocalAccount) -> Sent:
    clerk = fresh_address()
    tx_hash = consortium.functions.setAccount(clerk, CLERK, b"\0" * 32, 0).transact({"from": admin.address})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)
    assert receipt["status"] == 1
    return Sent(receipt, clerk)


@pytest.fixture(scope="module")
def sent(w3: Web3, consortium: Contract, aachen: CityKeys) -> Sent:
    """A mined setAccount transaction of aachen's ADMIN (one AccountSet log)."""
    return register_clerk(w3, consortium, aachen.admin)


@pytest.fixture(scope="module")
def creation(w3: Web3, aachen: CityKeys) -> TxReceipt:
    nonce = w3.eth.get_transaction_count(aachen.admin.address, "pending")
    tx_hash = w3.eth.send_transaction(
        {"from": aachen.admin.address, "data": HexBytes(INIT_42), "nonce": nonce}
    )
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)
    assert receipt["status"] == 1
    return receipt


# ------------------------------------------------------------------ chain info


def test_chain_id_and_versions(w3: Web3, rpc_url: str, node_devnet: dict[str, Any]) -> None:
    assert w3.eth.chain_id == CHAIN_ID == node_devnet["chainId"]
    assert rpc(rpc_url, "eth_chainId", []) == hex(CHAIN_ID)
    assert rpc(rpc_url, "net_version", []) == str(CHAIN_ID)
    assert w3.net.version == str(CHAIN_ID)
    assert w3.client_version.startswith("govchain/")


def test_block_number(w3: Web3, rpc_url: str, sent: Sent) -> None:
    number = w3.eth.block_number
    assert number >= sent.receipt["blockNumber"]
    raw = rpc(rpc_url, "eth_blockNumber", [])
    assert raw.startswith("0x")
    assert int(raw, 16) - number in (0, 1, 2)


def test_fees_are_zero(w3: Web3, rpc_url: str) -> None:
    assert rpc(rpc_url, "eth_gasPrice", []) == "0x0"
    assert rpc(rpc_url, "eth_maxPriorityFeePerGas", []) == "0x0"
    assert w3.eth.gas_price == 0
    assert w3.eth.get_block("latest")["baseFeePerGas"] == 0


def test_fee_history(w3: Web3, sent: Sent) -> None:
    newest = sent.receipt["blockNumber"]
    history = w3.eth.fee_history(3, newest, [10.0, 50.0])
    assert history["oldestBlock"] == newest - 2
    assert history["baseFeePerGas"] == [0, 0, 0, 0]
    assert len(history["gasUsedRatio"]) == 3
    block = w3.eth.get_block(newest)
    assert history["gasUsedRatio"][-1] == pytest.approx(block["gasUsed"] / block["gasLimit"])
    assert history["gasUsedRatio"][-1] > 0
    assert history["reward"] == [[0, 0], [0, 0], [0, 0]]


# ----------------------------------------------------------------------- blocks


def _batch(url: str, calls: list[tuple[str, list[Any]]]) -> list[Any]:
    body: list[dict[str, Any]] = [
        {"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)
    ]
    answers = requests.post(url, json=body, timeout=10).json()
    assert isinstance(answers, list)
    by_id = {a["id"]: a for a in answers}
    return [by_id[i]["result"] for i in range(len(calls))]


def test_block_tags_agree(rpc_url: str) -> None:
    """Blocks are final when sealed: latest, safe, finalized and pending are the same block."""
    tags = ["latest", "safe", "finalized", "pending"]
    for _ in range(10):  # a block sealed between two of the batched calls: ask again
        blocks = _batch(rpc_url, [("eth_getBlockByNumber", [tag, False]) for tag in tags])
        if len({b["hash"] for b in blocks}) == 1:
            break
    assert len({b["hash"] for b in blocks}) == 1, [b["number"] for b in blocks]
    assert blocks[0]["number"] == rpc(rpc_url, "eth_getBlockByHash", [blocks[0]["hash"], False])["number"]


def test_earliest_is_genesis(w3: Web3) -> None:
    genesis = w3.eth.get_block("earliest")
    assert genesis["number"] == 0
    assert genesis["parentHash"] == HexBytes(ZERO_HASH)
    assert w3.eth.get_block(1)["parentHash"] == genesis["hash"]


def test_block_by_number_and_hash(w3: Web3, rpc_url: str, sent: Sent) -> None:
    number = sent.receipt["blockNumber"]
    block = w3.eth.get_block(number)
    assert block["hash"] == sent.receipt["blockHash"]
    assert sent.receipt["transactionHash"] in block["transactions"]
    assert block["parentHash"] == w3.eth.get_block(number - 1)["hash"]
    assert w3.eth.get_block(block["hash"]) == block
    full = w3.eth.get_block(number, full_transactions=True)
    txs = cast(list[TxData], full["transactions"])
    [tx] = [t for t in txs if t["hash"] == sent.receipt["transactionHash"]]
    assert tx["blockHash"] == block["hash"]
    assert tx["to"] == CONSORTIUM_ADDRESS
    raw = rpc(rpc_url, "eth_getBlockByNumber", [hex(number), False])
    for field in (
        "hash",
        "parentHash",
        "stateRoot",
        "transactionsRoot",
        "receiptsRoot",
        "logsBloom",
        "miner",
        "extraData",
        "gasLimit",
        "gasUsed",
        "timestamp",
        "baseFeePerGas",
        "size",
        "mixHash",
    ):
        assert isinstance(raw[field], str) and raw[field].startswith("0x"), field
    assert raw["uncles"] == []
    assert int(raw["gasUsed"], 16) == sent.receipt["gasUsed"]
    assert rpc(rpc_url, "eth_getBlockTransactionCountByNumber", [hex(number)]) == hex(
        len(block["transactions"])
    )


def test_unknown_blocks_are_null(rpc_url: str) -> None:
    head = int(rpc(rpc_url, "eth_blockNumber", []), 16)
    assert rpc(rpc_url, "eth_getBlockByNumber", [hex(head + 1000), False]) is None
    assert rpc(rpc_url, "eth_getBlockByHash", ["0x" + "ab" * 32, False]) is None


# ----------------------------------------------------------------- transactions


def test_transaction_by_hash(
    w3: Web3, rpc_url: str, sent: Sent, consortium: Contract, aachen: CityKeys
) -> None:
    tx = w3.eth.get_transaction(sent.receipt["transactionHash"])
    assert tx["blockHash"] == sent.receipt["blockHash"]
    assert tx["blockNumber"] == sent.receipt["blockNumber"]
    assert tx["transactionIndex"] == sent.receipt["transactionIndex"]
    assert tx["from"] == aachen.admin.address
    assert tx["to"] == CONSORTIUM_ADDRESS
    assert tx["value"] == 0
    expected_input = consortium.encode_abi("setAccount", [sent.clerk, CLERK, b"\0" * 32, 0])
    assert tx["input"] == HexBytes(expected_input)
    assert tx["chainId"] == CHAIN_ID
    assert rpc(rpc_url, "eth_getTransactionByHash", ["0x" + "cd" * 32]) is None
    by_index = rpc(
        rpc_url,
        "eth_getTransactionByBlockNumberAndIndex",
        [hex(sent.receipt["blockNumber"]), hex(sent.receipt["transactionIndex"])],
    )
    assert by_index["hash"] == "0x" + bytes(sent.receipt["transactionHash"]).hex()


def test_receipt(w3: Web3, rpc_url: str, sent: Sent, aachen: CityKeys) -> None:
    receipt = sent.receipt
    assert receipt["status"] == 1
    assert receipt["effectiveGasPrice"] == 0
    assert receipt["from"] == aachen.admin.address
    assert receipt["to"] == CONSORTIUM_ADDRESS
    assert receipt["contractAddress"] is None
    assert 21_000 < receipt["gasUsed"] <= receipt["cumulativeGasUsed"]
    [log] = receipt["logs"]
    assert log["address"] == CONSORTIUM_ADDRESS
    assert log["topics"] == [HexBytes(ACCOUNT_SET_TOPIC), HexBytes(AACHEN), HexBytes(abi_address(sent.clerk))]
    assert log["transactionIndex"] == receipt["transactionIndex"]
    assert log["transactionHash"] == receipt["transactionHash"]
    assert log["blockHash"] == receipt["blockHash"]
    # logIndex counts within the block: the logs of the transactions before ours come first.
    block_receipts = rpc(rpc_url, "eth_getBlockReceipts", [hex(receipt["blockNumber"])])
    earlier = sum(len(r["logs"]) for r in block_receipts[: receipt["transactionIndex"]])
    assert log["logIndex"] == earlier
    assert int(block_receipts[receipt["transactionIndex"]]["gasUsed"], 16) == receipt["gasUsed"]
    assert rpc(rpc_url, "eth_getTransactionReceipt", ["0x" + "cd" * 32]) is None


def test_receipt_of_a_creation(w3: Web3, creation: TxReceipt, aachen: CityKeys) -> None:
    tx = w3.eth.get_transaction(creation["transactionHash"])
    assert tx["to"] is None
    expected = Web3.to_checksum_address(
        keccak(rlp.encode([bytes.fromhex(aachen.admin.address[2:]), tx["nonce"]]))[12:]
    )
    assert creation["contractAddress"] == expected
    assert creation["to"] is None
    assert w3.eth.get_code(expected) == HexBytes(RUNTIME_42)
    assert int.from_bytes(w3.eth.call({"to": expected, "data": HexBytes("0x12345678")}), "big") == 42


def test_pending_count_skips_a_nonce_gap(w3: Web3, rpc_url: str) -> None:
    """A transaction with a future nonce waits in the pool, visible but not counted for "pending";
    once the gap is filled both are mined in order."""
    sender = CityKeys.derive("paderborn").admin  # no other test sends from it

    def signed(nonce: int) -> str:
        tx: dict[str, Any] = {
            "to": CONSORTIUM_ADDRESS,
            "data": "0x" + MEMBER_COUNT.hex(),
            "gas": 100_000,
            "nonce": nonce,
            "maxFeePerGas": 0,
            "maxPriorityFeePerGas": 0,
            "chainId": CHAIN_ID,
            "type": 2,
        }
        return "0x" + bytes(sender.sign_transaction(tx).raw_transaction).hex()

    nonce = w3.eth.get_transaction_count(sender.address, "latest")
    later = rpc(rpc_url, "eth_sendRawTransaction", [signed(nonce + 1)])
    pooled = rpc(rpc_url, "eth_getTransactionByHash", [later])
    assert pooled["hash"] == later
    assert pooled["blockHash"] is None and pooled["blockNumber"] is None
    assert pooled["nonce"] == hex(nonce + 1)
    assert int(rpc(rpc_url, "txpool_status", [])["queued"], 16) >= 1
    time.sleep(0.3)  # several block periods: a queued transaction is not mined
    assert rpc(rpc_url, "eth_getTransactionReceipt", [later]) is None
    assert rpc(rpc_url, "eth_getTransactionCount", [sender.address, "pending"]) == hex(nonce)

    first = rpc(rpc_url, "eth_sendRawTransaction", [signed(nonce)])
    receipts = [w3.eth.wait_for_transaction_receipt(h, timeout=30, poll_latency=0.05) for h in (first, later)]
    assert [r["status"] for r in receipts] == [1, 1]
    assert receipts[0]["blockNumber"] <= receipts[1]["blockNumber"]
    assert w3.eth.get_transaction_count(sender.address, "latest") == nonce + 2
    assert rpc(rpc_url, "eth_getTransactionCount", [sender.address, "pending"]) == hex(nonce + 2)


# ----------------------------------------------------------------- calls, state


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


def _from_proof(root: bytes, key: bytes, proof: list[str]) -> bytes:
    nodes = [rlp.decode(bytes.fromhex(node[2:])) for node in proof]
    value: bytes = HexaryTrie.get_from_proof(root, key, nodes)  # type: ignore[no-untyped-call]
    return value


def test_get_proof_verifies_against_the_state_root(w3: Web3, rpc_url: str) -> None:
    block = w3.eth.get_block("latest")
    slot = ZERO_HASH
    proof = rpc(rpc_url, "eth_getProof", [CONSORTIUM_ADDRESS, [slot], hex(block["number"])])
    account = _from_proof(
        bytes(block["stateRoot"]), keccak(bytes.fromhex(CONSORTIUM_ADDRESS[2:])), proof["accountProof"]
    )
    nonce, balance, storage_root, code_hash = rlp.decode(account)
    assert int.from_bytes(nonce, "big") == int(proof["nonce"], 16)
    assert int.from_bytes(balance, "big") == int(proof["balance"], 16) == 0
    assert "0x" + storage_root.hex() == proof["storageHash"]
    assert (
        "0x" + code_hash.hex()
        == proof["codeHash"]
        == "0x" + keccak(w3.eth.get_code(CONSORTIUM_ADDRESS)).hex()
    )
    [entry] = proof["storageProof"]
    assert int(entry["value"], 16) == VOTING_PERIOD
    stored = _from_proof(storage_root, keccak(bytes(32)), entry["proof"])
    assert int.from_bytes(rlp.decode(stored), "big") == VOTING_PERIOD
    # An account that does not exist: the proof shows its absence.
    nobody = fresh_address()
    absent = rpc(rpc_url, "eth_getProof", [nobody, [], hex(block["number"])])
    assert (
        _from_proof(bytes(block["stateRoot"]), keccak(bytes.fromhex(nobody[2:])), absent["accountProof"])
        == b""
    )
    assert absent["nonce"] == "0x0" and absent["storageProof"] == []


def test_get_proof_with_integer_position(w3: Web3) -> None:
    proof = cast(Any, w3.eth).get_proof(CONSORTIUM_ADDRESS, [0], "latest")  # web3's stub is off
    assert int.from_bytes(proof["storageProof"][0]["value"], "big") == VOTING_PERIOD


# ------------------------------------------------------------------------- logs


def test_get_logs(w3: Web3, sent: Sent) -> None:
    number = sent.receipt["blockNumber"]
    tx_hash = sent.receipt["transactionHash"]
    clerk_topic = HexBytes(abi_address(sent.clerk))
    by_hash = w3.eth.get_logs({"blockHash": sent.receipt["blockHash"], "address": CONSORTIUM_ADDRESS})
    assert [log["transactionHash"] for log in by_hash] == [tx_hash]
    by_range = w3.eth.get_logs({"fromBlock": number, "toBlock": number})
    assert [log["transactionHash"] for log in by_range] == [tx_hash]
    by_topics = w3.eth.get_logs(
        {"fromBlock": 0, "toBlock": "latest", "topics": [HexBytes(ACCOUNT_SET_TOPIC), None, clerk_topic]}
    )
    assert [(log["transactionHash"], log["logIndex"]) for log in by_topics] == [
        (tx_hash, sent.receipt["logs"][0]["logIndex"])
    ]
    either = w3.eth.get_logs({"fromBlock": 0, "topics": [None, None, [clerk_topic, HexBytes(bytes(32))]]})
    assert [log["transactionHash"] for log in either] == [tx_hash]
    # Filters that must not match.
    other_address = w3.eth.get_logs({"blockHash": sent.receipt["blockHash"], "address": fresh_address()})
    assert other_address == []
    other_topic = w3.eth.get_logs({"fromBlock": number, "toBlock": number, "topics": [HexBytes(bytes(32))]})
    assert other_topic == []
    before = w3.eth.get_logs({"fromBlock": 0, "toBlock": number - 1, "topics": [None, None, clerk_topic]})
    assert before == []


# ------------------------------------------------------------------ qbft, batch


def test_validators(rpc_url: str, node_devnet: dict[str, Any], sent: Sent) -> None:
    validator = node_devnet["nodes"][0]["validator"].lower()
    assert rpc(rpc_url, "qbft_getValidatorsByBlockNumber", ["latest"]) == [validator]
    assert rpc(rpc_url, "qbft_getValidatorsByBlockNumber", [hex(sent.receipt["blockNumber"])]) == [validator]
    block_hash = "0x" + bytes(sent.receipt["blockHash"]).hex()
    assert rpc(rpc_url, "qbft_getValidatorsByBlockHash", [block_hash]) == [validator]
    assert rpc(rpc_url, "eth_getBlockByHash", [block_hash, False])["miner"] == validator


def test_batch(rpc_url: str) -> None:
    body: list[dict[str, Any]] = [
        {"jsonrpc": "2.0", "id": 7, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": "b", "method": "net_version", "params": []},
        {"jsonrpc": "2.0", "id": 9, "method": "eth_getBlockByNumber", "params": ["earliest", False]},
    ]
    answers = requests.post(rpc_url, json=body, timeout=10).json()
    assert isinstance(answers, list) and len(answers) == 3
    by_id = {a["id"]: a for a in answers}
    assert set(by_id) == {7, "b", 9}
    assert by_id[7]["result"] == hex(CHAIN_ID)
    assert by_id["b"]["result"] == str(CHAIN_ID)
    assert by_id[9]["result"]["number"] == "0x0"
    assert all(a["jsonrpc"] == "2.0" for a in answers)


# ------------------------------------------------------------------ WebSocket


class Ws:
    """A WebSocket JSON-RPC client that keeps subscription notifications apart from responses."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.notifications: list[dict[str, Any]] = []
        self.ids = iter(range(1, 10**6))

    def request(self, method: str, params: list[Any]) -> Any:
        request_id = next(self.ids)
        self.connection.send(
            json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.connection.recv(timeout=10))
            if message.get("id") == request_id:
                assert "error" not in message, message
                return message["result"]
            assert message["method"] == "eth_subscription", message
            self.notifications.append(message["params"])

    def next_notification(self, timeout: float = 15) -> dict[str, Any]:
        if self.notifications:
            return self.notifications.pop(0)
        message = json.loads(self.connection.recv(timeout=timeout))
        assert message["method"] == "eth_subscription", message
        params: dict[str, Any] = message["params"]
        return params


@pytest.fixture
def ws(ws_url: str) -> Iterator[Ws]:
    with ws_connect(ws_url, open_timeout=10) as connection:
        yield Ws(connection)


def test_ws_answers_requests(ws: Ws) -> None:
    assert ws.request("eth_chainId", []) == hex(CHAIN_ID)


def test_new_heads(ws: Ws, w3: Web3, rpc_url: str, consortium: Contract, aachen: CityKeys) -> None:
    sub = ws.request("eth_subscribe", ["newHeads"])
    assert isinstance(sub, str) and sub.startswith("0x")
    for _ in range(2):  # each transaction makes a block (a heartbeat block also comes every 5 s)
        register_clerk(w3, consortium, aachen.admin)
    heads = [ws.next_notification() for _ in range(2)]
    assert {n["subscription"] for n in heads} == {sub}
    first, second = heads[0]["result"], heads[1]["result"]
    assert int(second["number"], 16) == int(first["number"], 16) + 1
    assert second["parentHash"] == first["hash"]
    # A header as eth_getBlockByNumber shows it, without the transactions.
    block = rpc(rpc_url, "eth_getBlockByNumber", [first["number"], False])
    assert first == {k: v for k, v in block.items() if k not in ("transactions", "uncles", "withdrawals")}
    assert ws.request("eth_unsubscribe", [sub]) is True
    assert ws.request("eth_unsubscribe", [sub]) is False


def test_logs_subscription(ws: Ws, w3: Web3, consortium: Contract, aachen: CityKeys) -> None:
    ours = ws.request("eth_subscribe", ["logs", {"address": CONSORTIUM_ADDRESS}])
    elsewhere = ws.request("eth_subscribe", ["logs", {"address": fresh_address()}])
    assert ours != elsewhere
    sent = register_clerk(w3, consortium, aachen.admin)
    notification = ws.next_notification()
    assert notification["subscription"] == ours
    log = notification["result"]
    assert log["transactionHash"] == "0x" + bytes(sent.receipt["transactionHash"]).hex()
    assert log["address"] == CONSORTIUM_ADDRESS.lower()
    assert log["topics"][2] == "0x" + abi_address(sent.clerk).hex()
    assert log["blockNumber"] == hex(sent.receipt["blockNumber"])
    assert log["removed"] is False
    assert ws.request("eth_unsubscribe", [ours]) is True
    assert ws.request("eth_unsubscribe", [elsewhere]) is True
    assert ws.notifications == []  # nothing arrived for the filter that matches no log
