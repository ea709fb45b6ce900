"""eth_getProof (EIP-1186): Merkle proofs of an account and its storage slots."""

from __future__ import annotations

from typing import Any

import rlp
from eth.abc import DatabaseAPI
from eth.constants import BLANK_ROOT_HASH, EMPTY_SHA3
from eth.rlp.accounts import Account
from eth_utils.crypto import keccak
from trie.hexary import HexaryTrie

from nodes.rpc.format import d, q


def _proof(trie: HexaryTrie, key: bytes) -> list[str]:
    nodes = trie.get_proof(key)  # type: ignore[no-untyped-call]
    return [d(rlp.encode(node)) for node in nodes]


def account_proof(db: DatabaseAPI, state_root: bytes, address: bytes, slots: list[int]) -> dict[str, Any]:
    state_trie = HexaryTrie(db, state_root)
    key = keccak(address)
    encoded = state_trie.get(key)
    account = rlp.decode(encoded, sedes=Account) if encoded else Account(0, 0, BLANK_ROOT_HASH, EMPTY_SHA3)
    storage_trie = HexaryTrie(db, account.storage_root)
    storage = []
    for slot in slots:
        slot_key = keccak(slot.to_bytes(32, "big"))
        raw = storage_trie.get(slot_key)
        value = rlp.decode(raw) if raw else b""
        storage.append(
            {
                "key": d(slot.to_bytes(32, "big")),
                "value": q(int.from_bytes(value, "big")),
                "proof": _proof(storage_trie, slot_key),
            }
        )
    return {
        "address": d(address),
        "accountProof": _proof(state_trie, key),
        "balance": q(account.balance),
        "codeHash": d(account.code_hash),
        "nonce": q(account.nonce),
        "storageHash": d(account.storage_root),
        "storageProof": storage,
    }
