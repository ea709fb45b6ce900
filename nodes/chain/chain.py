"""The node's chain: genesis, building and importing QBFT blocks, and read access for JSON-RPC.

Every mutation happens under one lock; readers take it too, so a reader never sees a block that
is half committed. Blocks are final when committed (QBFT), so there is exactly one chain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import rlp
from eth.abc import BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI, StateAPI
from eth.constants import BLANK_ROOT_HASH, EMPTY_UNCLE_HASH
from eth.db.atomic import AtomicDB
from eth.vm.chain_context import ChainContext
from eth.vm.forks.prague.blocks import PragueBlockHeader
from eth_keys.datatypes import PrivateKey
from eth_typing import Address, BlockNumber, Hash32
from eth_utils.exceptions import ValidationError

from nodes.chain.execution import (
    EMPTY_REQUESTS_HASH,
    Executed,
    GovVM,
    decode_header,
    decode_receipts,
    decode_transactions,
    encode_receipts,
    encode_transactions,
    execute_block,
    header_template,
    state_at,
)
from nodes.errors import ConfigError, InvalidBlockError
from nodes.genesis import QBFT_MIX_HASH, Genesis
from nodes.qbft.votes import VoteTally
from nodes.storage.sqlite import SqliteStore, StoredBlock
from protocol.qbft_extra import QbftExtra, Vote, block_hash, commit_seal_hash, quorum, recover_seal, sign_seal

ANCESTOR_DEPTH = 256


@dataclass(frozen=True)
class Block:
    header: BlockHeaderAPI
    transactions: tuple[SignedTransactionAPI, ...]

    @cached_property
    def hash(self) -> bytes:
        return block_hash(self.header)

    @property
    def number(self) -> int:
        return int(self.header.block_number)

    @cached_property
    def extra(self) -> QbftExtra:
        return QbftExtra.decode(self.header.extra_data)

    def encode(self) -> bytes:
        return bytes(rlp.encode([rlp.encode(self.header), encode_transactions(self.transactions)]))

    @classmethod
    def decode(cls, data: bytes) -> Block:
        header_rlp, txs_rlp = rlp.decode(data)
        return cls(decode_header(header_rlp), decode_transactions(txs_rlp))


@dataclass(frozen=True)
class Proposal:
    """A built, executed block without commit seals; its state sits in the store's write buffer."""

    block: Block
    executed: Executed


class Chain:
    def __init__(self, store: SqliteStore, genesis: Genesis) -> None:
        self.store = store
        self.genesis = genesis
        self.chain_id = genesis.chain_id
        self.db = AtomicDB(store.kv)
        self.lock = threading.RLock()
        self.tally = VoteTally()
        # Account permissioning as a block rule (state, tx) -> allowed; set by the node.
        self.transaction_rule: Callable[[StateAPI, SignedTransactionAPI], bool] | None = None
        genesis_block = self._genesis_block()
        if store.head_number() is None:
            self._commit(genesis_block, (), {"chain_id": str(self.chain_id).encode()})
        else:
            store.kv.discard_pending()
        stored_genesis = store.block(0)
        assert stored_genesis is not None
        stored_chain_id = store.meta("chain_id")
        if stored_chain_id is not None and int(stored_chain_id) != self.chain_id:
            raise ConfigError(
                f"the database at {store.path} belongs to chain id {int(stored_chain_id)}, "
                f"the genesis file says {self.chain_id}"
            )
        if stored_genesis.hash != genesis_block.hash:
            raise ConfigError(
                f"the database at {store.path} holds another chain (genesis {stored_genesis.hash.hex()}), "
                "not the one of this genesis file"
            )
        head_number = store.head_number()
        assert head_number is not None
        self._head = self.block(head_number)
        # The vote tally is derived from the headers: replay them (cheap: headers only).
        validators = genesis_block.extra.validators
        for number in range(1, head_number + 1):
            block = self.block(number)
            validators = self.tally.apply(validators, bytes(block.header.coinbase), block.extra.vote)

    # ------------------------------------------------------------ genesis

    def _genesis_block(self) -> Block:
        state = GovVM.build_state(self.db, self._genesis_header(BLANK_ROOT_HASH), ChainContext(self.chain_id))
        for address, account in self.genesis.alloc.items():
            canonical = Address(bytes.fromhex(address.removeprefix("0x")))
            state.set_balance(canonical, account.balance)
            state.set_nonce(canonical, account.nonce)
            state.set_code(canonical, account.code)
            for slot, value in account.storage.items():
                state.set_storage(canonical, slot, value)
        state.persist()
        return Block(self._genesis_header(state.state_root), ())

    def _genesis_header(self, state_root: bytes) -> BlockHeaderAPI:
        return PragueBlockHeader(
            parent_hash=Hash32(b"\0" * 32),
            uncles_hash=EMPTY_UNCLE_HASH,
            coinbase=Address(b"\0" * 20),
            state_root=Hash32(state_root),
            transaction_root=BLANK_ROOT_HASH,
            receipt_root=BLANK_ROOT_HASH,
            bloom=0,
            difficulty=1,
            block_number=BlockNumber(0),
            gas_limit=self.genesis.gas_limit,
            gas_used=0,
            timestamp=self.genesis.timestamp,
            extra_data=self.genesis.extra_data,
            mix_hash=Hash32(QBFT_MIX_HASH),
            nonce=b"\0" * 8,
            base_fee_per_gas=0,
            withdrawals_root=BLANK_ROOT_HASH,
            blob_gas_used=0,
            excess_blob_gas=0,
            parent_beacon_block_root=Hash32(b"\0" * 32),
            requests_hash=Hash32(EMPTY_REQUESTS_HASH),
        )

    # -------------------------------------------------------------- reads

    @property
    def head(self) -> Block:
        return self._head

    def block(self, number: int) -> Block:
        stored = self.store.block(number)
        if stored is None:
            raise KeyError(number)
        return Block(decode_header(stored.header), decode_transactions(stored.txs))

    def block_by_hash(self, block_hash_: bytes) -> Block | None:
        number = self.store.number_of_hash(block_hash_)
        return None if number is None else self.block(number)

    def receipts(self, number: int) -> tuple[ReceiptAPI, ...]:
        stored = self.store.block(number)
        if stored is None:
            raise KeyError(number)
        return decode_receipts(stored.receipts)

    def validators_after(self, number: int) -> tuple[bytes, ...]:
        """The validators that seal block number+1 (from block `number`'s extraData)."""
        stored = self.store.block(number)
        if stored is None:
            raise KeyError(number)
        return QbftExtra.decode(decode_header(stored.header).extra_data).validators

    def ancestors(self, parent_number: int) -> list[bytes]:
        """Hashes of the block `parent_number` and its ancestors, newest first (for BLOCKHASH)."""
        first = max(0, parent_number - ANCESTOR_DEPTH + 1)
        return list(reversed(self.store.hashes(first, parent_number)))

    def state(self, number: int | None = None) -> StateAPI:
        block = self._head if number is None else self.block(number)
        return state_at(self.db, block.header, self.chain_id, self.ancestors(block.number - 1))

    # ------------------------------------------------------------- writes

    def propose(
        self,
        transactions: Sequence[SignedTransactionAPI],
        *,
        timestamp: int,
        proposer: bytes,
        round_: int = 0,
        vote: Vote | None = None,
        gas_limit: int | None = None,
    ) -> Proposal:
        """Builds and executes the next block; transactions that do not apply are skipped."""
        with self.lock:
            parent = self._head
            validators = self.tally.copy().apply(parent.extra.validators, proposer, vote)
            extra = QbftExtra(validators=validators, round=round_, vote=vote)
            template = header_template(
                parent.header,
                parent.hash,
                coinbase=proposer,
                # Non-decreasing: with sub-second block periods (devnets) timestamps may repeat.
                timestamp=max(timestamp, int(parent.header.timestamp)),
                extra_data=extra.encode(),
                gas_limit=gas_limit or int(parent.header.gas_limit),
            )
            executed = execute_block(
                self.db,
                template,
                transactions,
                self.chain_id,
                self.ancestors(parent.number),
                building=True,
                allowed=self._rule_on(parent),
            )
            return Proposal(Block(executed.header, executed.transactions), executed)

    def commit_proposal(self, proposal: Proposal, seals: Sequence[bytes], round_: int | None = None) -> Block:
        """Commits an executed proposal once it carries a quorum of commit seals; `round_` is the
        round the seals were made in, if the block was re-proposed in a later round."""
        with self.lock:
            block = proposal.block
            if round_ is not None and round_ != block.extra.round:
                extra = replace(block.extra, round=round_)
                block = Block(block.header.copy(extra_data=extra.encode()), block.transactions)
            block = with_seals(block, seals)
            if block.header.parent_hash != self._head.hash:
                raise InvalidBlockError(block.number, "parent hash is not our head")
            self._check_seals(block)
            self._commit(block, proposal.executed.receipts)
            return block

    def import_block(self, block: Block) -> None:
        """Verifies a sealed block from a peer (seals, parent, re-execution) and commits it."""
        with self.lock:
            self._check_position(block)
            self._check_seals(block)
            proposal = self.execute_candidate(block)
            self._commit(block, proposal.executed.receipts)

    def execute_candidate(self, block: Block) -> Proposal:
        """Checks a block against our head (all but its seals) by re-executing it; the state
        stays in the write buffer until the block is committed or discarded."""
        with self.lock:
            self._check_position(block)
            parent = self._head
            number = block.number
            if block.header.timestamp < parent.header.timestamp:
                raise InvalidBlockError(number, "timestamp is before the parent's")
            validators = parent.extra.validators
            coinbase = bytes(block.header.coinbase)
            # Not necessarily this round's proposer: a prepared block is re-proposed unchanged in a later
            # round (as in Besu); the consensus layer checks who proposed it.
            if coinbase not in validators:
                raise InvalidBlockError(number, "the coinbase is not a validator")
            if block.extra.validators != self.tally.copy().apply(validators, coinbase, block.extra.vote):
                raise InvalidBlockError(number, "the validators in extraData do not follow from the votes")
            template = header_template(
                parent.header,
                parent.hash,
                coinbase=coinbase,
                timestamp=block.header.timestamp,
                extra_data=block.header.extra_data,
                gas_limit=block.header.gas_limit,
            )
            try:
                executed = execute_block(
                    self.db,
                    template,
                    block.transactions,
                    self.chain_id,
                    self.ancestors(parent.number),
                    building=False,
                    allowed=self._rule_on(parent),
                )
            except ValidationError as exc:
                self.store.kv.discard_pending()
                raise InvalidBlockError(number, f"a transaction does not apply: {exc}") from None
            if rlp.encode(executed.header) != rlp.encode(block.header):
                self.store.kv.discard_pending()
                raise InvalidBlockError(number, _header_difference(executed.header, block.header))
            return Proposal(block, executed)

    def discard(self) -> None:
        """Drops an executed proposal that will not be committed."""
        with self.lock:
            self.store.kv.discard_pending()

    def _rule_on(self, parent: Block) -> Callable[[SignedTransactionAPI], bool] | None:
        rule = self.transaction_rule
        if rule is None:
            return None
        state = self.state(parent.number)
        return lambda tx: rule(state, tx)

    def _check_position(self, block: Block) -> None:
        if block.number != self._head.number + 1:
            raise InvalidBlockError(block.number, f"expected block {self._head.number + 1}")
        if block.header.parent_hash != self._head.hash:
            raise InvalidBlockError(block.number, "parent hash is not our head")

    def _check_seals(self, block: Block) -> None:
        validators = set(self.validators_after(block.number - 1))
        digest = commit_seal_hash(block.header)
        signers = {recover_seal(digest, seal) for seal in block.extra.seals}
        signers.discard(None)
        valid = signers & validators
        if len(valid) < quorum(len(validators)):
            raise InvalidBlockError(
                block.number, f"{len(valid)} valid commit seals, {quorum(len(validators))} needed"
            )

    def _commit(
        self, block: Block, receipts: Sequence[ReceiptAPI], meta: dict[str, bytes] | None = None
    ) -> None:
        self.store.commit_block(
            StoredBlock(
                number=block.number,
                hash=block.hash,
                header=rlp.encode(block.header),
                txs=encode_transactions(block.transactions),
                receipts=encode_receipts(receipts),
            ),
            [tx.hash for tx in block.transactions],
            meta,
        )
        if block.number > 0:
            self.tally.apply(self._head.extra.validators, bytes(block.header.coinbase), block.extra.vote)
        self._head = block


def with_seals(block: Block, seals: Sequence[bytes]) -> Block:
    extra = replace(block.extra, seals=tuple(seals))
    return Block(block.header.copy(extra_data=extra.encode()), block.transactions)


def seal_for(block: Block, key: PrivateKey) -> bytes:
    return sign_seal(commit_seal_hash(block.header), key)


def _header_difference(ours: BlockHeaderAPI, theirs: BlockHeaderAPI) -> str:
    for name in ("state_root", "transaction_root", "receipt_root", "gas_used", "bloom", "requests_hash"):
        if getattr(ours, name) != getattr(theirs, name):
            return f"{name} does not match re-execution"
    return "header does not match re-execution"
