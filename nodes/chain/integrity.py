"""Start-up check that the store matches itself: a node with tampered data refuses to start.

Every block: its hash, number and parent link, the transaction and receipt roots of its body, and
its commit seals against the validators of its parent. Every state row: keccak(value) == key
(state trie nodes and code are content-addressed), naming the block whose commit wrote it.
"""

from __future__ import annotations

import rlp
from eth.db.trie import make_trie_root_and_nodes
from eth_utils.crypto import keccak

from nodes.chain.execution import decode_header, decode_receipts, decode_transactions
from nodes.errors import TamperedStoreError
from nodes.storage.sqlite import SqliteStore
from protocol.qbft_extra import ExtraDataError, QbftExtra, block_hash, commit_seal_hash, quorum, recover_seal


def verify_store(store: SqliteStore) -> int:
    """Raises TamperedStoreError naming the first bad block; returns the number of blocks checked."""
    parent_hash = b"\0" * 32
    validators: frozenset[bytes] = frozenset()
    count = 0
    for stored in store.iter_blocks():
        n = stored.number
        try:
            header = decode_header(stored.header)
            txs = decode_transactions(stored.txs)
            receipts = decode_receipts(stored.receipts)
            extra = QbftExtra.decode(header.extra_data)
        except (
            rlp.exceptions.DecodingError,
            rlp.exceptions.DeserializationError,
            ExtraDataError,
            ValueError,
        ) as exc:
            raise TamperedStoreError(n, f"undecodable block data ({exc})") from None
        if header.block_number != n:
            raise TamperedStoreError(n, "the header carries another block number")
        if block_hash(header) != stored.hash:
            raise TamperedStoreError(n, "the header does not hash to the stored block hash")
        if header.parent_hash != parent_hash:
            raise TamperedStoreError(n, "the parent hash does not link to the previous block")
        if make_trie_root_and_nodes(txs)[0] != header.transaction_root:
            raise TamperedStoreError(n, "the transactions do not match the header's transaction root")
        if make_trie_root_and_nodes(receipts)[0] != header.receipt_root:
            raise TamperedStoreError(n, "the receipts do not match the header's receipt root")
        if n > 0:
            digest = commit_seal_hash(header)
            signers = {recover_seal(digest, seal) for seal in extra.seals} & validators
            if len(signers) < quorum(len(validators)):
                raise TamperedStoreError(n, "the commit seals are not a quorum of the validators")
        validators = frozenset(extra.validators)
        parent_hash = stored.hash
        count += 1
    head = store.head_number()
    if head is not None and head != count - 1:
        raise TamperedStoreError(count, f"block {count} is missing below the head {head}")
    for key, value, written_in in store.iter_kv():
        if len(key) == 32 and keccak(value) != key:
            raise TamperedStoreError(written_in, f"state entry {key.hex()} does not match its hash")
    return count
