"""Proof bundles (DESIGN.md §7): everything needed to check one record offline.

{
  "format": "govchain-proof-bundle/1",
  "kind": "weighing" | "attestation",
  "chainId": 4242, "contract": "0x…",
  "record": {…EIP-712 fields…}, "signature": "0x…",
  "transaction": {"index": 3},   (its position in the block: the receipt trie key)
  "block": {"number": 17, "hash": "0x…", "header": "0x<RLP header>"},
  "receipt": {"encoded": "0x<receipt as in the receipt trie>", "proof": ["0x<trie node>", …], "logIndex": 0},
  "consensus": "qbft" | "none",
  "validatorChanges": [{"number": 9, "header": "0x<RLP header>"}, …]
}

Built from plain JSON-RPC (ours, anvil, Besu). `consensus` is "none" on engines without commit
seals (anvil): such a bundle proves inclusion and state only, and says so.
"""

from __future__ import annotations

from typing import Any

import rlp
from trie.hexary import HexaryTrie

from ledger.errors import LedgerError
from ledger.events import decode_rpc_log
from ledger.records import Attestation, TypedRecord, Weighing
from ledger.rpc import RpcClient
from protocol.qbft_extra import EXTRA_DATA_INDEX, ExtraDataError, QbftExtra

FORMAT = "govchain-proof-bundle/1"
# Header fields in RLP order (up to Prague); a block carries a prefix of this list.
HEADER_FIELDS = (
    "parentHash",
    "sha3Uncles",
    "miner",
    "stateRoot",
    "transactionsRoot",
    "receiptsRoot",
    "logsBloom",
    "difficulty",
    "number",
    "gasLimit",
    "gasUsed",
    "timestamp",
    "extraData",
    "mixHash",
    "nonce",
    "baseFeePerGas",
    "withdrawalsRoot",
    "blobGasUsed",
    "excessBlobGas",
    "parentBeaconBlockRoot",
    "requestsHash",
)
QUANTITIES = {
    "difficulty",
    "number",
    "gasLimit",
    "gasUsed",
    "timestamp",
    "baseFeePerGas",
    "blobGasUsed",
    "excessBlobGas",
}


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def header_rlp(block: dict[str, Any]) -> bytes:
    fields: list[object] = []
    for name in HEADER_FIELDS:
        if name not in block or block[name] is None:
            break
        fields.append(int(block[name], 16) if name in QUANTITIES else _bytes(block[name]))
    return bytes(rlp.encode(fields))


def encode_receipt(receipt: dict[str, Any]) -> bytes:
    """A JSON-RPC receipt as it is stored in the block's receipt trie."""
    logs = [
        [_bytes(log["address"]), [_bytes(t) for t in log["topics"]], _bytes(log["data"])]
        for log in receipt["logs"]
    ]
    body = bytes(
        rlp.encode(
            [
                int(receipt["status"], 16),
                int(receipt["cumulativeGasUsed"], 16),
                _bytes(receipt["logsBloom"]),
                logs,
            ]
        )
    )
    kind = int(receipt.get("type", "0x0"), 16)
    return body if kind == 0 else bytes([kind]) + body


def receipt_proof(receipts: list[dict[str, Any]], index: int, receipts_root: bytes) -> list[bytes]:
    db: dict[bytes, bytes] = {}
    trie = HexaryTrie(db)
    for i, receipt in enumerate(receipts):
        trie[rlp.encode(i)] = encode_receipt(receipt)
    if trie.root_hash != receipts_root:
        raise LedgerError("the node's receipts do not rebuild the block's receipts root")
    return [bytes(rlp.encode(node)) for node in trie.get_proof(rlp.encode(index))]  # type: ignore[no-untyped-call]


def _consensus(header: bytes) -> str:
    try:
        extra = QbftExtra.decode(rlp.decode(header)[EXTRA_DATA_INDEX])
    except (ExtraDataError, rlp.exceptions.DecodingError, IndexError):
        return "none"
    return "qbft" if extra.seals else "none"


def _validator_changes(rpc: RpcClient, before: int) -> list[dict[str, Any]]:
    numbers = rpc.call("qbft_getValidatorChangeBlocks", ["0x1", hex(max(before - 1, 0))])
    changes = []
    for number in numbers:
        block = rpc.call("eth_getBlockByNumber", [number, False])
        changes.append({"number": int(number, 16), "header": "0x" + header_rlp(block).hex()})
    return changes


def build_bundle(
    rpc: RpcClient,
    kind: str,
    contract: str,
    chain_id: int,
    record: TypedRecord,
    signature: bytes,
    tx_hash: str,
) -> dict[str, Any]:
    receipt = rpc.call("eth_getTransactionReceipt", [tx_hash])
    if receipt is None:
        raise LedgerError(f"transaction {tx_hash} has no receipt yet")
    block = rpc.call("eth_getBlockByNumber", [receipt["blockNumber"], False])
    header = header_rlp(block)
    receipts = rpc.call("eth_getBlockReceipts", [receipt["blockNumber"]])
    index = int(receipt["transactionIndex"], 16)
    proof = receipt_proof(receipts, index, _bytes(block["receiptsRoot"]))
    log_index = _log_index(receipt, kind, record)
    consensus = _consensus(header)
    return {
        "format": FORMAT,
        "kind": kind,
        "chainId": chain_id,
        "contract": contract,
        "record": record.to_json(),
        "signature": "0x" + signature.hex(),
        "transaction": {"index": index},
        "block": {"number": int(block["number"], 16), "hash": block["hash"], "header": "0x" + header.hex()},
        "receipt": {
            "encoded": "0x" + encode_receipt(receipts[index]).hex(),
            "proof": ["0x" + node.hex() for node in proof],
            "logIndex": log_index,
        },
        "consensus": consensus,
        "validatorChanges": _validator_changes(rpc, int(block["number"], 16)) if consensus == "qbft" else [],
    }


def _log_index(receipt: dict[str, Any], kind: str, record: TypedRecord) -> int:
    for i, log in enumerate(receipt["logs"]):
        event = decode_rpc_log(log)
        if event is None:
            continue
        name, args = event
        if (
            isinstance(record, Weighing)
            and name == "WeighingRecorded"
            and args["recordId"] == record.record_id
        ):
            return i
        if (
            isinstance(record, Attestation)
            and name == "Attested"
            and args["documentHash"] == record.document_hash
        ):
            return i
    raise LedgerError("the transaction did not record this record")
