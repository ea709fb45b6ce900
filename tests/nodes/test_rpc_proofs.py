"""JSON-RPC eth_getProof of a running govchain node: account and storage proofs that verify
against the state root, a proof of absence, and integer storage positions."""

from __future__ import annotations

from typing import Any, cast

import rlp
from eth_utils.crypto import keccak
from trie.hexary import HexaryTrie
from web3 import Web3

from tests.nodes.rpc_support import CONSORTIUM_ADDRESS, VOTING_PERIOD, ZERO_HASH, fresh_address, rpc


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
