"""Blocks, transactions, receipts and logs in the JSON shapes geth and Besu return."""

from __future__ import annotations

from typing import Any

import rlp
from eth._utils.address import generate_contract_address
from eth.abc import LogAPI, ReceiptAPI
from eth_typing import Address

from nodes.chain.chain import Block


def q(value: int) -> str:
    return hex(value)


def d(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def addr(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def format_header(block: Block) -> dict[str, Any]:
    h: Any = block.header  # the Prague fields (requests_hash, ...) are not on BlockHeaderAPI
    return {
        "number": q(h.block_number),
        "hash": d(block.hash),
        "parentHash": d(h.parent_hash),
        "nonce": d(h.nonce),
        "sha3Uncles": d(h.uncles_hash),
        "logsBloom": d(h.bloom.to_bytes(256, "big")),
        "transactionsRoot": d(h.transaction_root),
        "stateRoot": d(h.state_root),
        "receiptsRoot": d(h.receipt_root),
        "miner": addr(h.coinbase),
        "difficulty": q(h.difficulty),
        "totalDifficulty": q(h.block_number + 1),
        "extraData": d(h.extra_data),
        "size": q(len(block.encode())),
        "gasLimit": q(h.gas_limit),
        "gasUsed": q(h.gas_used),
        "timestamp": q(h.timestamp),
        "mixHash": d(h.mix_hash),
        "baseFeePerGas": q(h.base_fee_per_gas),
        "withdrawalsRoot": d(h.withdrawals_root),
        "blobGasUsed": q(h.blob_gas_used),
        "excessBlobGas": q(h.excess_blob_gas),
        "parentBeaconBlockRoot": d(h.parent_beacon_block_root),
        "requestsHash": d(h.requests_hash),
    }


def format_block(block: Block, full: bool) -> dict[str, Any]:
    result = format_header(block)
    result["transactions"] = [
        format_transaction(tx, block, i) if full else d(tx.hash) for i, tx in enumerate(block.transactions)
    ]
    result["uncles"] = []
    result["withdrawals"] = []
    return result


def format_transaction(tx: Any, block: Block | None, index: int | None) -> dict[str, Any]:
    """`tx` is a py-evm signed transaction; its type-specific fields are not on SignedTransactionAPI."""
    result: dict[str, Any] = {
        "hash": d(tx.hash),
        "nonce": q(tx.nonce),
        "blockHash": d(block.hash) if block else None,
        "blockNumber": q(block.number) if block else None,
        "transactionIndex": q(index) if index is not None else None,
        "from": addr(tx.sender),
        "to": addr(tx.to) if tx.to else None,
        "value": q(tx.value),
        "gas": q(tx.gas),
        "input": d(tx.data),
        "type": q(tx.type_id or 0),
        "v": q(tx.y_parity if tx.type_id else tx.v),
        "r": q(tx.r),
        "s": q(tx.s),
    }
    if tx.type_id:
        result["chainId"] = q(tx.chain_id)
        result["yParity"] = q(tx.y_parity)
        result["accessList"] = [
            {"address": addr(a), "storageKeys": [d(k.to_bytes(32, "big")) for k in keys]}
            for a, keys in tx.access_list
        ]
    elif tx.chain_id is not None:
        result["chainId"] = q(tx.chain_id)
    if hasattr(tx, "max_fee_per_gas") and tx.type_id in (2, 3, 4):
        result["maxFeePerGas"] = q(tx.max_fee_per_gas)
        result["maxPriorityFeePerGas"] = q(tx.max_priority_fee_per_gas)
        result["gasPrice"] = q(
            min(tx.max_fee_per_gas, block.header.base_fee_per_gas + tx.max_priority_fee_per_gas)
            if block
            else tx.max_fee_per_gas
        )
    else:
        result["gasPrice"] = q(tx.gas_price)
    return result


def format_log(log: LogAPI, block: Block, tx_index: int, log_index: int) -> dict[str, Any]:
    return {
        "address": addr(log.address),
        "topics": [d(t.to_bytes(32, "big")) for t in log.topics],
        "data": d(log.data),
        "blockNumber": q(block.number),
        "blockHash": d(block.hash),
        "blockTimestamp": q(block.header.timestamp),
        "transactionHash": d(block.transactions[tx_index].hash),
        "transactionIndex": q(tx_index),
        "logIndex": q(log_index),
        "removed": False,
    }


def format_receipt(block: Block, receipts: tuple[ReceiptAPI, ...], index: int) -> dict[str, Any]:
    tx: Any = block.transactions[index]
    receipt = receipts[index]
    previous = receipts[index - 1].gas_used if index else 0
    first_log = sum(len(r.logs) for r in receipts[:index])
    status = 1 if receipt.state_root == b"\x01" else 0
    price = (
        min(tx.max_fee_per_gas, block.header.base_fee_per_gas + tx.max_priority_fee_per_gas)
        if tx.type_id in (2, 3, 4)
        else tx.gas_price
    )
    return {
        "transactionHash": d(tx.hash),
        "transactionIndex": q(index),
        "blockHash": d(block.hash),
        "blockNumber": q(block.number),
        "from": addr(tx.sender),
        "to": addr(tx.to) if tx.to else None,
        "cumulativeGasUsed": q(receipt.gas_used),
        "gasUsed": q(receipt.gas_used - previous),
        "effectiveGasPrice": q(price),
        "contractAddress": addr(generate_contract_address(Address(tx.sender), tx.nonce))
        if not tx.to
        else None,
        "logs": [format_log(log, block, index, first_log + i) for i, log in enumerate(receipt.logs)],
        "logsBloom": d(receipt.bloom.to_bytes(256, "big")),
        "type": q(tx.type_id or 0),
        "status": q(status),
    }


def encoded_size(value: object) -> int:
    return len(rlp.encode(value))
