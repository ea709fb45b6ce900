"""The Ethereum JSON-RPC methods (eth_, net_, web3_, txpool_) over `Node`; qbft_ ones: QbftMethods."""

from __future__ import annotations

from typing import Any

from eth_typing import Address

from nodes.chain.calls import CallRequest, call, estimate_gas
from nodes.chain.chain import Block
from nodes.rpc import params as p
from nodes.rpc.base import rpc
from nodes.rpc.errors import LIMIT_EXCEEDED, RESOURCE_NOT_FOUND, RpcError, invalid_params
from nodes.rpc.format import d, format_block, format_log, format_receipt, format_transaction, q
from nodes.rpc.logs import LogFilter, parse_filter
from nodes.rpc.proofs import account_proof
from nodes.rpc.qbft_api import QbftMethods

CLIENT_VERSION = "govchain/v0.1.0/py-evm"


class Api(QbftMethods):
    def _call_request(self, value: Any) -> CallRequest:
        tx = p.obj(value, "transaction")
        return CallRequest(
            sender=p.address(tx["from"], "from") if tx.get("from") else b"\0" * 20,
            to=p.address(tx["to"], "to") if tx.get("to") else None,
            data=p.data(tx.get("input", tx.get("data", "0x")), "input"),
            value=p.quantity(tx["value"], "value") if tx.get("value") else 0,
            gas=p.quantity(tx["gas"], "gas") if tx.get("gas") else None,
        )

    # -------------------------------------------------------------- web3/net

    @rpc("web3_clientVersion")
    def web3_client_version(self, params: Any) -> str:
        p.positional(params, 0, 0)
        return CLIENT_VERSION

    @rpc("net_version")
    def net_version(self, params: Any) -> str:
        p.positional(params, 0, 0)
        return str(self.chain.chain_id)

    @rpc("net_listening")
    def net_listening(self, params: Any) -> bool:
        p.positional(params, 0, 0)
        return True

    @rpc("net_peerCount")
    def net_peer_count(self, params: Any) -> str:
        p.positional(params, 0, 0)
        return q(self.node.peer_count())

    # ------------------------------------------------------------- chain info

    @rpc("eth_chainId")
    def eth_chain_id(self, params: Any) -> str:
        p.positional(params, 0, 0)
        return q(self.chain.chain_id)

    @rpc("eth_blockNumber")
    def eth_block_number(self, params: Any) -> str:
        p.positional(params, 0, 0)
        return q(self.chain.head.number)

    @rpc("eth_syncing")
    def eth_syncing(self, params: Any) -> bool:
        p.positional(params, 0, 0)
        return False

    @rpc("eth_accounts")
    def eth_accounts(self, params: Any) -> list[str]:
        p.positional(params, 0, 0)
        return []

    @rpc("eth_gasPrice")
    def eth_gas_price(self, params: Any) -> str:
        p.positional(params, 0, 0)
        return q(0)

    @rpc("eth_maxPriorityFeePerGas")
    def eth_max_priority_fee_per_gas(self, params: Any) -> str:
        p.positional(params, 0, 0)
        return q(0)

    @rpc("eth_blobBaseFee")
    def eth_blob_base_fee(self, params: Any) -> str:
        p.positional(params, 0, 0)
        return q(1)

    @rpc("eth_feeHistory")
    def eth_fee_history(self, params: Any) -> dict[str, Any]:
        count_raw, newest_raw, percentiles = p.positional(params, 2, 3)
        count = count_raw if isinstance(count_raw, int) and not isinstance(count_raw, bool) else None
        count = p.quantity(count_raw, "blockCount") if count is None else count
        if not 1 <= count <= 1024:
            raise invalid_params("blockCount must be between 1 and 1024")
        newest = self._block(p.block_ref(newest_raw, "newestBlock")).number
        oldest = max(0, newest - count + 1)
        blocks = [self.chain.block(n) for n in range(oldest, newest + 1)]
        result: dict[str, Any] = {
            "oldestBlock": q(oldest),
            "baseFeePerGas": [q(0)] * (len(blocks) + 1),
            "gasUsedRatio": [b.header.gas_used / b.header.gas_limit for b in blocks],
            "baseFeePerBlobGas": [q(1)] * (len(blocks) + 1),
            "blobGasUsedRatio": [0.0] * len(blocks),
        }
        if percentiles is not None:
            if not isinstance(percentiles, list) or not all(isinstance(x, int | float) for x in percentiles):
                raise invalid_params("rewardPercentiles must be a list of numbers")
            result["reward"] = [[q(0)] * len(percentiles) for _ in blocks]
        return result

    # ----------------------------------------------------------------- blocks

    @rpc("eth_getBlockByNumber")
    def eth_get_block_by_number(self, params: Any) -> dict[str, Any] | None:
        ref, full = p.positional(params, 1, 2)
        block = self._maybe_block(p.block_ref(ref))
        return None if block is None else format_block(block, p.boolean(full or False, "fullTransactions"))

    @rpc("eth_getBlockByHash")
    def eth_get_block_by_hash(self, params: Any) -> dict[str, Any] | None:
        block_hash, full = p.positional(params, 1, 2)
        block = self.chain.block_by_hash(p.hash32(block_hash, "blockHash"))
        return None if block is None else format_block(block, p.boolean(full or False, "fullTransactions"))

    @rpc("eth_getBlockTransactionCountByNumber")
    def eth_get_block_transaction_count_by_number(self, params: Any) -> str | None:
        (ref,) = p.positional(params, 1, 1)
        block = self._maybe_block(p.block_ref(ref))
        return None if block is None else q(len(block.transactions))

    @rpc("eth_getBlockReceipts")
    def eth_get_block_receipts(self, params: Any) -> list[dict[str, Any]] | None:
        (ref,) = p.positional(params, 1, 1)
        block = self._maybe_block(p.block_ref(ref))
        if block is None:
            return None
        receipts = self.chain.receipts(block.number)
        return [format_receipt(block, receipts, i) for i in range(len(receipts))]

    # ----------------------------------------------------------- transactions

    @rpc("eth_sendRawTransaction")
    def eth_send_raw_transaction(self, params: Any) -> str:
        (raw,) = p.positional(params, 1, 1)
        return d(self.node.send_raw_transaction(p.data(raw, "transaction")))

    @rpc("eth_getTransactionByHash")
    def eth_get_transaction_by_hash(self, params: Any) -> dict[str, Any] | None:
        (tx_hash_raw,) = p.positional(params, 1, 1)
        tx_hash = p.hash32(tx_hash_raw, "transactionHash")
        location = self.chain.store.tx_location(tx_hash)
        if location is None:
            pooled = self.node.pooled_transaction(tx_hash)
            return None if pooled is None else format_transaction(pooled, None, None)
        block = self.chain.block(location[0])
        return format_transaction(block.transactions[location[1]], block, location[1])

    @rpc("eth_getTransactionByBlockNumberAndIndex")
    def eth_get_transaction_by_block_number_and_index(self, params: Any) -> dict[str, Any] | None:
        ref, index_raw = p.positional(params, 2, 2)
        block = self._maybe_block(p.block_ref(ref))
        index = p.quantity(index_raw, "index")
        if block is None or index >= len(block.transactions):
            return None
        return format_transaction(block.transactions[index], block, index)

    @rpc("eth_getTransactionReceipt")
    def eth_get_transaction_receipt(self, params: Any) -> dict[str, Any] | None:
        (tx_hash_raw,) = p.positional(params, 1, 1)
        location = self.chain.store.tx_location(p.hash32(tx_hash_raw, "transactionHash"))
        if location is None:
            return None
        block = self.chain.block(location[0])
        return format_receipt(block, self.chain.receipts(block.number), location[1])

    @rpc("eth_getTransactionCount")
    def eth_get_transaction_count(self, params: Any) -> str:
        account_raw, ref_raw = p.positional(params, 1, 2)
        account = p.address(account_raw, "address")
        ref = p.block_ref(ref_raw or "latest")
        if ref.tag == "pending":
            return q(self.node.pending_nonce(account))
        with self.chain.lock:
            return q(self.chain.state(self._block(ref).number).get_nonce(Address(account)))

    # ------------------------------------------------------------------ state

    @rpc("eth_getBalance")
    def eth_get_balance(self, params: Any) -> str:
        account_raw, ref_raw = p.positional(params, 1, 2)
        account = p.address(account_raw, "address")
        with self.chain.lock:
            return q(
                self.chain.state(self._block(p.block_ref(ref_raw or "latest")).number).get_balance(
                    Address(account)
                )
            )

    @rpc("eth_getCode")
    def eth_get_code(self, params: Any) -> str:
        account_raw, ref_raw = p.positional(params, 1, 2)
        account = p.address(account_raw, "address")
        with self.chain.lock:
            return d(
                self.chain.state(self._block(p.block_ref(ref_raw or "latest")).number).get_code(
                    Address(account)
                )
            )

    @rpc("eth_getStorageAt")
    def eth_get_storage_at(self, params: Any) -> str:
        account_raw, slot_raw, ref_raw = p.positional(params, 2, 3)
        account = p.address(account_raw, "address")
        slot = p.storage_key(slot_raw, "slot")
        with self.chain.lock:
            state = self.chain.state(self._block(p.block_ref(ref_raw or "latest")).number)
            return d(state.get_storage(Address(account), slot).to_bytes(32, "big"))

    @rpc("eth_call")
    def eth_call(self, params: Any) -> str:
        tx_raw, ref_raw, overrides = p.positional(params, 1, 3)
        if overrides is not None:
            raise invalid_params("state overrides are not supported")
        request = self._call_request(tx_raw)
        with self.chain.lock:
            state = self.chain.state(self._block(p.block_ref(ref_raw or "latest")).number)
            return d(call(state, request, self.node.config.rpc_gas_cap))

    @rpc("eth_estimateGas")
    def eth_estimate_gas(self, params: Any) -> str:
        tx_raw, ref_raw = p.positional(params, 1, 2)
        request = self._call_request(tx_raw)
        with self.chain.lock:
            state = self.chain.state(self._block(p.block_ref(ref_raw or "latest")).number)
            cap = min(self.node.config.rpc_gas_cap, int(self.chain.head.header.gas_limit))
            return q(estimate_gas(state, request, cap))

    @rpc("eth_getProof")
    def eth_get_proof(self, params: Any) -> dict[str, Any]:
        account_raw, slots_raw, ref_raw = p.positional(params, 2, 3)
        account = p.address(account_raw, "address")
        if not isinstance(slots_raw, list) or len(slots_raw) > 1000:
            raise invalid_params("storageKeys must be a list of at most 1000 slots")
        slots = [p.storage_key(s) for s in slots_raw]
        with self.chain.lock:
            block = self._block(p.block_ref(ref_raw or "latest"))
            return account_proof(self.chain.db, block.header.state_root, account, slots)

    # ------------------------------------------------------------------- logs

    @rpc("eth_getLogs")
    def eth_get_logs(self, params: Any) -> list[dict[str, Any]]:
        (filter_raw,) = p.positional(params, 1, 1)
        log_filter = parse_filter(p.obj(filter_raw, "filter"))
        if log_filter.block_hash is not None:
            block = self.chain.block_by_hash(log_filter.block_hash)
            if block is None:
                raise RpcError(RESOURCE_NOT_FOUND, "block not found")
            first = last = block.number
        else:
            first = self._block(log_filter.from_block).number
            last = self._block(log_filter.to_block).number
        if last - first >= self.node.config.logs_block_range:
            raise RpcError(
                LIMIT_EXCEEDED, f"block range too large (at most {self.node.config.logs_block_range})"
            )
        results: list[dict[str, Any]] = []
        for number in range(first, last + 1):
            results.extend(self.logs_of_block(self.chain.block(number), log_filter))
        return results

    def logs_of_block(self, block: Block, log_filter: LogFilter) -> list[dict[str, Any]]:
        if not log_filter.may_match_bloom(block.header.bloom):
            return []
        out = []
        log_index = 0
        for tx_index, receipt in enumerate(self.chain.receipts(block.number)):
            for log in receipt.logs:
                if log_filter.matches(log):
                    out.append(format_log(log, block, tx_index, log_index))
                log_index += 1
        return out

    # ---------------------------------------------------------------- txpool

    @rpc("txpool_status")
    def txpool_status(self, params: Any) -> dict[str, str]:
        p.positional(params, 0, 0)
        with self.chain.lock:
            pending, queued = self.node.pool.stats(self.node.state_nonce)
        return {"pending": q(pending), "queued": q(queued)}
