"""A city's node: chain, transaction pool and permissioning behind one domain API.

JSON-RPC (nodes/rpc) and consensus (nodes/consensus) talk to the node only through this class.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from eth.abc import SignedTransactionAPI
from eth_typing import Address
from eth_utils.exceptions import ValidationError

from nodes.chain.chain import Block, Chain, Proposal
from nodes.chain.execution import DOES_NOT_FIT, TX_BUILDER, BuildAbortedError, check_transaction_rules
from nodes.chain.integrity import verify_store
from nodes.config import NodeConfig
from nodes.errors import TransactionRejectedError
from nodes.genesis import Genesis
from nodes.permissioning import AccountPermissioning
from nodes.storage.sqlite import SqliteStore
from nodes.txpool import PoolLimits, TxPool
from nodes.validator_sync import ContractValidators
from protocol.qbft_extra import Vote

MAX_TX_BYTES = 128 * 1024
MAX_BUILD_ATTEMPTS = 3
log = logging.getLogger("govchain.node")

BlockListener = Callable[[Block], None]


class Node:
    def __init__(self, config: NodeConfig, genesis: Genesis) -> None:
        self.config = config
        self.genesis = genesis
        self.store = SqliteStore(Path(config.data_dir) / "chain.sqlite")
        if config.verify_store_on_start and self.store.head_number() is not None:
            checked = verify_store(self.store)
            log.info("store verified: %d blocks", checked)
        self.chain = Chain(self.store, genesis)
        self.pool = TxPool(PoolLimits(max_transactions=config.max_pool_transactions))
        contract = bytes.fromhex(config.permissioning_contract.removeprefix("0x"))
        self.permissioning = (
            AccountPermissioning(self.chain, contract) if config.account_permissioning else None
        )
        if self.permissioning is not None:
            self.chain.transaction_rule = self.permissioning.rule  # a block rule too, not only the pool's
        self._listeners: list[BlockListener] = []
        self.new_transaction = threading.Event()
        # Devnet only (evm_increaseTime / evm_mine): shifts block timestamps, forces a block.
        self.clock_offset = 0.0
        self.force_block = threading.Event()
        self.on_new_transaction: Callable[[bytes], None] = lambda _: None
        self.peer_count: Callable[[], int] = lambda: 0
        self.local_votes: dict[bytes, bool] = {}  # qbft_proposeValidatorVote: address -> add?
        # The Consortium's validator decisions, turned into header votes (None: manual votes only).
        self.contract_validators = (
            ContractValidators(self.chain, contract) if config.follow_contract_validators else None
        )
        self.validator_address: bytes | None = None  # set when this node runs a validator key
        self.peer_names: Callable[[], list[str]] = lambda: []
        self.round_changes: Callable[[], int] = lambda: 0
        self.proposal_seen: dict[int, float] = {}  # height -> when this validator first saw a proposal

    def close(self) -> None:
        self.store.close()

    # --------------------------------------------------------------- reads

    def state_nonce(self, sender: bytes) -> int:
        with self.chain.lock:
            return int(self.chain.state().get_nonce(Address(sender)))

    def pending_nonce(self, sender: bytes) -> int:
        with self.chain.lock:
            return self.pool.pending_nonce(sender, self.state_nonce(sender))

    # ----------------------------------------------------------- transactions

    def send_raw_transaction(self, raw: bytes, gossip: bool = True) -> bytes:
        """Validates a signed transaction and pools it; returns its hash. New transactions
        received here (not from a peer) are passed to `on_new_transaction` for gossip."""
        if len(raw) > MAX_TX_BYTES:
            raise TransactionRejectedError("oversized", f"transaction larger than {MAX_TX_BYTES} bytes")
        try:
            tx = TX_BUILDER.decode(raw)
            tx.validate()
            tx.check_signature_validity()
            check_transaction_rules(tx)
            sender = bytes(tx.sender)
        except (ValidationError, ValueError, TypeError, IndexError) as exc:
            raise TransactionRejectedError("invalid", f"invalid transaction: {exc}") from None
        except Exception as exc:  # rlp and eth-keys raise many types for garbage input
            raise TransactionRejectedError("invalid", f"invalid transaction: {type(exc).__name__}") from None
        if getattr(tx, "chain_id", None) != self.chain.chain_id:
            raise TransactionRejectedError(
                "wrong_chain", f"transaction is not signed for chain id {self.chain.chain_id} (EIP-155)"
            )
        if tx.gas > self.chain.head.header.gas_limit:
            raise TransactionRejectedError("gas_limit", "transaction gas exceeds the block gas limit")
        if self.permissioning is not None and not self.permissioning.allowed(tx):
            raise TransactionRejectedError(
                "not_permitted",
                f"sender 0x{sender.hex()} is not permitted to send this transaction "
                "(Consortium.transactionAllowed returned false)",
            )
        with self.chain.lock:
            state = self.chain.state()
            price = tx.max_fee_per_gas if tx.type_id else tx.gas_price
            cost = tx.gas * price + tx.value
            balance = state.get_balance(Address(sender))
            if balance < cost:
                raise TransactionRejectedError(
                    "insufficient_funds",
                    f"insufficient funds for gas * price + value: balance {balance}, cost {cost} "
                    "(gas is free on this network: send with a gas price of 0)",
                )
            added = self.pool.add(tx, int(state.get_nonce(Address(sender))))
        if added:
            self.new_transaction.set()
            if gossip:
                self.on_new_transaction(raw)
        return bytes(tx.hash)

    def node_allowed(self, fingerprint: bytes) -> bool:
        """Whether the Consortium allows a peer with this certificate fingerprint."""
        if self.permissioning is None:
            return True
        return self.permissioning.node_allowed(fingerprint)

    def pooled_transaction(self, tx_hash: bytes) -> SignedTransactionAPI | None:
        with self.chain.lock:
            return self.pool.get(tx_hash)

    # ------------------------------------------------------------------ blocks

    def add_block_listener(self, listener: BlockListener) -> None:
        self._listeners.append(listener)

    def remove_block_listener(self, listener: BlockListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def propose(self, timestamp: int, proposer: bytes, round_: int = 0) -> Proposal:
        with self.chain.lock:
            candidates = self.pool.executable(self.state_nonce, limit=10_000)
            for _ in range(MAX_BUILD_ATTEMPTS):
                try:
                    proposal = self.chain.propose(
                        candidates,
                        timestamp=timestamp,
                        proposer=proposer,
                        round_=round_,
                        vote=self._next_vote(proposer),
                    )
                    break
                except BuildAbortedError as exc:
                    self.chain.discard()
                    log.warning("dropping transaction 0x%s: %s", bytes(exc.tx.hash).hex(), exc.reason)
                    self.pool.remove([exc.tx])
                    candidates = [tx for tx in candidates if tx.hash != exc.tx.hash]
            else:
                proposal = self.chain.propose([], timestamp=timestamp, proposer=proposer, round_=round_)
            dropped = [(tx, reason) for tx, reason in proposal.executed.skipped if reason != DOES_NOT_FIT]
            for tx, reason in dropped:
                log.warning("dropping transaction 0x%s from the pool: %s", bytes(tx.hash).hex(), reason)
            self.pool.remove(tx for tx, _ in dropped)
            return proposal

    def _next_vote(self, proposer: bytes) -> Vote | None:
        """The operator's own pending votes first (qbft_proposeValidatorVote), then the votes the
        Consortium contract asks for; of those, one this validator has not cast yet if any."""
        validators = self.chain.head.extra.validators
        for address, add in list(self.local_votes.items()):
            if add == (address in validators):
                del self.local_votes[address]  # done
                continue
            return Vote(address, add)
        wanted = self.contract_votes()
        cast = self.chain.tally.votes
        fresh = [v for v in wanted if cast.get(v.address, {}).get(proposer) != v.add]
        chosen = fresh or wanted
        return chosen[0] if chosen else None

    def contract_votes(self, *, all_: bool = False) -> list[Vote]:
        """The header votes the Consortium contract's validator list asks for (see validator_sync),
        less those the operator overrides here (unless `all_`)."""
        if self.contract_validators is None:
            return []
        votes = self.contract_validators.votes()
        return votes if all_ else [v for v in votes if v.address not in self.local_votes]

    def has_executable_transactions(self) -> bool:
        with self.chain.lock:
            return bool(self.pool.executable(self.state_nonce, limit=1))

    def commit_proposal(
        self, proposal: Proposal, seals: list[bytes], round_: int | None = None
    ) -> Block | None:
        """Commits a decided proposal; None if a peer's copy of this block was imported first."""
        with self.chain.lock:
            if self.chain.head.number >= proposal.block.number:
                return None
            block = self.chain.commit_proposal(proposal, seals, round_)
            self._after_block(block)
        self._notify(block)
        return block

    def import_block(self, block: Block) -> None:
        with self.chain.lock:
            self.chain.import_block(block)
            self._after_block(block)
        self._notify(block)

    def wait_for_block(self, number: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.chain.head.number < number:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _after_block(self, block: Block) -> None:
        self.pool.remove(block.transactions)
        self.pool.prune(self.state_nonce)
        for height in [h for h in list(self.proposal_seen) if h < block.number]:
            self.proposal_seen.pop(height, None)  # the metrics read the block's own entry afterwards

    def _notify(self, block: Block) -> None:
        for listener in list(self._listeners):
            try:
                listener(block)
            except Exception:
                log.exception("block listener failed")
