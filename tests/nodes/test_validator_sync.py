"""The QBFT validator set follows the Consortium contract's validator decisions through header votes
(nodes/validator_sync.py): the pure decision, then a real Node building and sealing blocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey
from eth_typing import HexStr
from eth_utils.crypto import keccak

from contracts.founding import city_id
from contracts.genesis import CONSORTIUM_ADDRESS
from devnet.keys import dev_founding
from nodes.chain.chain import Block, seal_for
from nodes.config import NodeConfig
from nodes.consensus.driver import QbftDriver
from nodes.genesis import Genesis, make_genesis
from nodes.node import Node
from nodes.qbft.votes import contract_votes
from protocol.qbft_extra import Vote
from tests.nodes.test_chain import AACHEN, CHAIN_ID, CITIES, CONSORTIUM, VALIDATOR_KEY, genesis

__all__ = ["genesis"]  # the module-scoped genesis fixture of test_chain: aachen validates alone
A, B, C, D = (bytes([i]) * 20 for i in (1, 2, 3, 4))
NEW: LocalAccount = Account.from_key(keccak(text="a new validator"))
NEW_KEY = PrivateKey(bytes(NEW.key))
ME = VALIDATOR_KEY.public_key.to_canonical_address()


# ------------------------------------------------------------------------ the decision


def test_a_contract_decision_after_the_last_header_change_is_voted() -> None:
    assert contract_votes((A, B, C), (A, B), {C: 7}, {}) == [Vote(C, True)]
    assert contract_votes((A,), (A, B), {B: 9}, {B: 4}) == [Vote(B, False)]


def test_a_difference_the_founding_left_is_no_reason_to_vote() -> None:
    """Genesis may list validators in the contract that run no node: no events, no votes."""
    assert contract_votes((A, B, C), (A,), {}, {}) == []


def test_a_later_manual_header_change_is_not_undone() -> None:
    """The contract added B in block 5; an operator voted B out by hand in block 8."""
    assert contract_votes((A, B), (A,), {B: 5}, {B: 8}) == []


def test_only_addresses_where_contract_and_header_differ_are_voted_oldest_first() -> None:
    votes = contract_votes((A, C, D), (A, B), {A: 9, B: 3, C: 6, D: 2}, {})
    assert votes == [Vote(D, True), Vote(B, False), Vote(C, True)]


# ------------------------------------------------------------------------- a real node


@pytest.fixture
def node(tmp_path: Path, genesis: Genesis) -> Iterator[Node]:
    config = NodeConfig(name="aachen", data_dir=tmp_path, genesis=tmp_path / "genesis.json", devnet=True)
    n = Node(config, genesis)
    yield n
    n.close()


def _seal(node: Node, proposer: bytes, keys: list[PrivateKey]) -> Block:
    ts = int(node.chain.head.header.timestamp) + 1
    proposal = node.propose(ts, proposer)
    block = node.commit_proposal(proposal, [seal_for(proposal.block, k) for k in keys])
    assert block is not None
    return block


def _send(node: Node, admin: LocalAccount, function: str, args: list[object]) -> None:
    signed = admin.sign_transaction(
        {
            "to": HexStr(CONSORTIUM_ADDRESS),
            "data": CONSORTIUM.encode_abi(function, args=args),
            "value": 0,
            "gas": 1_000_000,
            "gasPrice": 0,
            "nonce": node.pending_nonce(bytes.fromhex(admin.address[2:])),
            "chainId": CHAIN_ID,
        }
    )
    node.send_raw_transaction(bytes(signed.raw_transaction))


def _enact_add_validator(node: Node, address: str) -> int:
    """aachen proposes and gelsenkirchen votes: 2 of 3 members; returns the block of the decision."""
    _send(node, AACHEN.admin, "propose", [4, city_id("aachen"), address, b"\0" * 32])
    _seal(node, ME, [VALIDATOR_KEY])
    _send(node, CITIES[1].admin, "vote", [0, True])  # the chain's first proposal
    return _seal(node, ME, [VALIDATOR_KEY]).number


def test_a_node_votes_what_the_contract_decided_and_nothing_else(node: Node) -> None:
    # Founding: the contract lists three validators, the genesis header only aachen's.
    assert node.contract_votes() == []
    block = _seal(node, ME, [VALIDATOR_KEY])
    assert block.extra.vote is None and len(block.extra.validators) == 1
    decided = _enact_add_validator(node, NEW.address)
    new = bytes.fromhex(NEW.address[2:])
    assert node.contract_votes() == [Vote(new, True)]
    # The next block aachen proposes carries the vote; one of one is a majority: in effect at once.
    block = _seal(node, ME, [VALIDATOR_KEY])
    assert block.number == decided + 1
    assert block.extra.vote == Vote(new, True)
    assert set(block.extra.validators) == {ME, new}
    assert node.contract_votes() == []
    block = _seal(node, ME, [VALIDATOR_KEY, NEW_KEY])  # now two seals are needed
    assert block.extra.vote is None


def test_manual_votes_come_first_and_are_not_undone(node: Node) -> None:
    _enact_add_validator(node, NEW.address)
    new = bytes.fromhex(NEW.address[2:])
    _seal(node, ME, [VALIDATOR_KEY])  # the contract's vote: NEW is in
    node.local_votes[new] = False  # the operator votes it out again (qbft_proposeValidatorVote)
    assert _seal(node, ME, [VALIDATOR_KEY, NEW_KEY]).extra.vote == Vote(new, False)
    block = _seal(node, new, [VALIDATOR_KEY, NEW_KEY])  # 2 of 2 drop votes: out
    assert block.extra.validators == (ME,)
    _seal(node, ME, [VALIDATOR_KEY])
    assert new not in node.local_votes  # done, so forgotten
    assert node.contract_votes() == []  # the operator's later decision stands
    assert _seal(node, ME, [VALIDATOR_KEY]).extra.vote is None


def test_a_restarted_node_finds_the_contracts_pending_decision_again(
    tmp_path: Path, genesis: Genesis
) -> None:
    config = NodeConfig(name="aachen", data_dir=tmp_path, genesis=tmp_path / "genesis.json", devnet=True)
    first = Node(config, genesis)
    _enact_add_validator(first, NEW.address)
    first.close()
    again = Node(config, genesis)
    try:
        assert again.contract_votes() == [Vote(bytes.fromhex(NEW.address[2:]), True)]
        off = Node(config.model_copy(update={"follow_contract_validators": False}), genesis)
        assert off.contract_votes() == []  # the switch: manual votes only
        off.close()
    finally:
        again.close()


def test_a_pending_contract_decision_makes_the_block_due_like_a_transaction(node: Node) -> None:
    driver = QbftDriver(node, VALIDATOR_KEY)
    parent_time = float(node.chain.head.header.timestamp)
    assert driver.block_due_at(parent_time) == parent_time + driver.heartbeat
    _enact_add_validator(node, NEW.address)
    parent_time = float(node.chain.head.header.timestamp)
    assert driver.block_due_at(parent_time) == parent_time + driver.block_period


def test_a_validator_casts_each_pending_decision_before_repeating_one(tmp_path: Path) -> None:
    """Three validators: one vote is not a majority, so the next block this validator proposes
    carries the other decision rather than the same vote again."""
    founding = dev_founding(CITIES, calibration_valid_until=2_000_000_000)
    three = make_genesis(CHAIN_ID, founding, [c.validator.address for c in CITIES], 1_700_000_000)
    config = NodeConfig(name="aachen", data_dir=tmp_path, genesis=tmp_path / "g.json", devnet=True)
    node = Node(config, three)
    keys = [PrivateKey(bytes(c.validator.key)) for c in CITIES[:2]]
    try:
        others = [Account.from_key(keccak(text=f"validator {i}")).address for i in range(2)]
        for pid, address in enumerate(others):
            _send(node, AACHEN.admin, "propose", [4, city_id("aachen"), address, b"\0" * 32])
            _seal(node, ME, keys)
            _send(node, CITIES[1].admin, "vote", [pid, True])
            _seal(node, ME, keys)
        first, second = (Vote(bytes.fromhex(a[2:]), True) for a in others)
        assert node.contract_votes() == [first, second]  # oldest decision first
        assert node.chain.tally.votes[first.address] == {ME: True}  # cast while the second was enacted
        assert _seal(node, ME, keys).extra.vote == second  # not `first` again: one vote of three is cast
        assert _seal(node, ME, keys).extra.vote == first  # all cast: repeat the oldest
    finally:
        node.close()
