"""Executes blocks with py-evm's Prague VM on the node's own store.

py-evm provides the EVM, state tries, receipts and the fork's block pre/post-processing; the node
keeps its own block store and QBFT header hashing, so py-evm's ChainDB never stores headers here
(its header hash is not the QBFT block hash). The VM only needs the ancestors' hashes for
BLOCKHASH, which the node passes in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import rlp
from eth.abc import (
    AtomicDatabaseAPI,
    BlockHeaderAPI,
    ComputationAPI,
    ReceiptAPI,
    SignedTransactionAPI,
    StateAPI,
)
from eth.consensus.context import ConsensusContext
from eth.constants import BLANK_ROOT_HASH, EMPTY_UNCLE_HASH
from eth.db.chain import ChainDB
from eth.vm.chain_context import ChainContext
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.blocks import PragueBlockHeader
from eth_typing import Address, BlockNumber, Hash32
from eth_utils.exceptions import ValidationError

from nodes.genesis import QBFT_MIX_HASH

EMPTY_REQUESTS_HASH = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
TX_BUILDER = PragueVM.get_transaction_builder()
RECEIPT_BUILDER = PragueVM.get_receipt_builder()


class GovVM(PragueVM):
    """Prague with QBFT-sized extraData and ancestor hashes supplied by the node."""

    extra_data_max_bytes = 64 * 1024
    ancestors: tuple[Hash32, ...] = ()

    @property
    def previous_hashes(self) -> tuple[Hash32, ...]:
        return self.ancestors


@dataclass(frozen=True)
class Executed:
    header: BlockHeaderAPI  # roots, bloom and gas filled in; extraData as given
    transactions: tuple[SignedTransactionAPI, ...]
    receipts: tuple[ReceiptAPI, ...]
    computations: tuple[ComputationAPI, ...]
    skipped: tuple[tuple[SignedTransactionAPI, str], ...]  # only when building


def header_template(
    parent: BlockHeaderAPI,
    parent_hash: bytes,
    *,
    coinbase: bytes,
    timestamp: int,
    extra_data: bytes,
    gas_limit: int,
) -> BlockHeaderAPI:
    return PragueBlockHeader(
        parent_hash=Hash32(parent_hash),
        uncles_hash=EMPTY_UNCLE_HASH,
        coinbase=Address(coinbase),
        state_root=parent.state_root,
        transaction_root=BLANK_ROOT_HASH,
        receipt_root=BLANK_ROOT_HASH,
        bloom=0,
        difficulty=1,
        block_number=BlockNumber(parent.block_number + 1),
        gas_limit=gas_limit,
        gas_used=0,
        timestamp=timestamp,
        extra_data=extra_data,
        mix_hash=Hash32(QBFT_MIX_HASH),
        nonce=b"\0" * 8,
        base_fee_per_gas=0,  # free gas: the base fee never moves
        withdrawals_root=BLANK_ROOT_HASH,
        blob_gas_used=0,
        excess_blob_gas=0,
        parent_beacon_block_root=Hash32(b"\0" * 32),
        requests_hash=Hash32(EMPTY_REQUESTS_HASH),
    )


def _vm(db: AtomicDatabaseAPI, header: BlockHeaderAPI, chain_id: int, ancestors: Sequence[bytes]) -> GovVM:
    vm = GovVM(
        header=header,
        chaindb=ChainDB(db),
        chain_context=ChainContext(chain_id),
        consensus_context=ConsensusContext(db),
    )
    vm.ancestors = tuple(Hash32(h) for h in ancestors)
    return vm


def execute_block(
    db: AtomicDatabaseAPI,
    template: BlockHeaderAPI,
    transactions: Sequence[SignedTransactionAPI],
    chain_id: int,
    ancestors: Sequence[bytes],
    *,
    building: bool,
    allowed: Callable[[SignedTransactionAPI], bool] | None = None,
) -> Executed:
    """Runs `transactions` on top of the template's parent state.

    building=True: skips transactions that are invalid or do not fit (a proposer's block);
    building=False: any invalid transaction raises ValidationError (an imported block).
    `allowed` is the account-permissioning rule, evaluated on the parent state: a consensus rule.
    State writes go to `db`'s buffer and reach disk only when the caller commits the block.
    """
    vm = _vm(db, template, chain_id, ancestors)
    block = vm.get_block()
    vm.block_preprocessing(block)
    header = vm.get_header()
    included: list[SignedTransactionAPI] = []
    receipts: list[ReceiptAPI] = []
    computations: list[ComputationAPI] = []
    skipped: list[tuple[SignedTransactionAPI, str]] = []
    for tx in transactions:
        if header.gas_used + tx.gas > header.gas_limit:
            if not building:
                raise ValidationError(f"transaction {tx.hash.hex()} exceeds the block gas limit")
            skipped.append((tx, DOES_NOT_FIT))
            continue
        try:
            if allowed is not None and not allowed(tx):
                raise ValidationError(
                    f"sender 0x{bytes(tx.sender).hex()} is not permitted (transactionAllowed)"
                )
            precheck(vm.state, tx)
        except ValidationError as exc:
            if not building:
                raise
            skipped.append((tx, str(exc)))
            continue
        try:
            receipt, computation = vm.apply_transaction(header, tx)
        except ValidationError as exc:
            # py-evm refuses some transactions only after it has bumped the sender's nonce, which
            # cannot be undone here: give up this build rather than commit a half-applied refusal.
            if not building:
                raise
            raise BuildAbortedError(tx, str(exc)) from None
        header = vm.add_receipt_to_header(header, receipt)
        included.append(tx)
        receipts.append(receipt)
        computations.append(computation)
    filled = vm.set_block_transactions_and_withdrawals(
        vm.get_block(), header, included, receipts, withdrawals=()
    )
    processed = vm.block_postprocessing(filled)
    final = vm.finalize_block(processed).block
    return Executed(final.header, tuple(included), tuple(receipts), tuple(computations), tuple(skipped))


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
DOES_NOT_FIT = "does not fit in this block"


def check_transaction_rules(tx: SignedTransactionAPI) -> None:
    """Consensus rules py-evm leaves to the client: EIP-2 low s, EIP-1559 fee order, intrinsic gas."""
    if not 0 < tx.s <= SECP256K1_N // 2:
        raise ValidationError("signature s value is not in the lower half of the curve order (EIP-2)")
    fee_cap = getattr(tx, "max_fee_per_gas", None)
    tip = getattr(tx, "max_priority_fee_per_gas", None)
    if tx.type_id in (2, 3, 4) and fee_cap is not None and tip is not None and tip > fee_cap:
        raise ValidationError("the priority fee (maxPriorityFeePerGas) is above maxFeePerGas (EIP-1559)")
    if tx.gas < tx.intrinsic_gas:
        raise ValidationError(f"gas {tx.gas} is below the intrinsic gas {tx.intrinsic_gas}")


class BuildAbortedError(Exception):
    """A transaction passed the pre-checks but py-evm refused it mid-way; rebuild without it."""

    def __init__(self, tx: SignedTransactionAPI, reason: str) -> None:
        super().__init__(reason)
        self.tx = tx
        self.reason = reason


def precheck(state: StateAPI, tx: SignedTransactionAPI) -> None:
    """Everything py-evm would refuse a transaction for, checked before it touches the state."""
    check_transaction_rules(tx)
    sender = Address(tx.sender)
    expected = state.get_nonce(sender)
    if tx.nonce != expected:
        raise ValidationError(f"Invalid transaction nonce: expected {expected}, got {tx.nonce}")
    price = getattr(tx, "max_fee_per_gas", None) if tx.type_id else tx.gas_price
    cost = tx.gas * (price or 0) + tx.value
    if state.get_balance(sender) < cost:
        raise ValidationError(f"insufficient funds: balance {state.get_balance(sender)}, cost {cost}")


def state_at(
    db: AtomicDatabaseAPI, header: BlockHeaderAPI, chain_id: int, ancestors: Sequence[bytes]
) -> StateAPI:
    """A throw-away state on top of `header` (for calls, balances, storage and proofs)."""
    return GovVM.build_state(db, header, ChainContext(chain_id), tuple(Hash32(h) for h in ancestors))


def encode_transactions(transactions: Sequence[SignedTransactionAPI]) -> bytes:
    return bytes(rlp.encode([tx.encode() for tx in transactions]))


def decode_transactions(data: bytes) -> tuple[SignedTransactionAPI, ...]:
    return tuple(TX_BUILDER.decode(raw) for raw in rlp.decode(data))


def encode_receipts(receipts: Sequence[ReceiptAPI]) -> bytes:
    return bytes(rlp.encode([r.encode() for r in receipts]))


def decode_receipts(data: bytes) -> tuple[ReceiptAPI, ...]:
    return tuple(RECEIPT_BUILDER.decode(raw) for raw in rlp.decode(data))


def decode_header(data: bytes) -> BlockHeaderAPI:
    header: BlockHeaderAPI = rlp.decode(data, sedes=PragueBlockHeader)
    return header
