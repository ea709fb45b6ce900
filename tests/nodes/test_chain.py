"""nodes.chain.chain.Chain in-process: genesis, building and sealing blocks, importing a peer's blocks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from eth.abc import SignedTransactionAPI
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey
from eth_typing import Address, BlockNumber, Hash32, HexStr
from eth_utils.crypto import keccak
from web3 import Web3

from contracts.artifacts import load_artifact
from contracts.founding import Role
from contracts.genesis import CONSORTIUM_ADDRESS
from devnet.keys import CityKeys, dev_founding
from nodes.chain.chain import Block, Chain, seal_for, with_seals
from nodes.chain.execution import TX_BUILDER
from nodes.errors import ConfigError, InvalidBlockError
from nodes.genesis import Genesis, make_genesis
from nodes.storage.sqlite import SqliteStore

CHAIN_ID = 4242
CITIES = tuple(CityKeys.derive(c) for c in ("aachen", "gelsenkirchen", "paderborn"))
AACHEN = CITIES[0]
VALIDATOR_KEY = PrivateKey(bytes(AACHEN.validator.key))
OUTSIDER_KEY = PrivateKey(keccak(text="not a validator"))
ZERO32 = b"\0" * 32
CONSORTIUM = Web3().eth.contract(abi=load_artifact("Consortium").abi)
GENESIS_TIME = int(time.time()) - 3600


@pytest.fixture(scope="module")
def genesis() -> Genesis:
    founding = dev_founding(CITIES, calibration_valid_until=GENESIS_TIME + 365 * 86400)
    return make_genesis(CHAIN_ID, founding, [AACHEN.validator.address], GENESIS_TIME)


@dataclass
class Pair:
    """The validator's chain `a` and a peer `b` that imports a's blocks."""

    a: Chain
    b: Chain


@pytest.fixture
def pair(tmp_path: Path, genesis: Genesis) -> Iterator[Pair]:
    a = Chain(SqliteStore(tmp_path / "a" / "chain.sqlite"), genesis)
    b = Chain(SqliteStore(tmp_path / "b" / "chain.sqlite"), genesis)
    yield Pair(a, b)
    a.store.close()
    b.store.close()


def set_account_tx(admin: LocalAccount, nonce: int, account: str) -> SignedTransactionAPI:
    """aachen's ADMIN registers `account` as a CLERK: a real state change in the Consortium."""
    data = CONSORTIUM.encode_abi("setAccount", args=[account, Role.CLERK, ZERO32, 0])
    signed = admin.sign_transaction(
        {
            "to": HexStr(CONSORTIUM_ADDRESS),
            "data": data,
            "value": 0,
            "gas": 300_000,
            "gasPrice": 0,
            "nonce": nonce,
            "chainId": CHAIN_ID,
        }
    )
    tx: SignedTransactionAPI = TX_BUILDER.decode(bytes(signed.raw_transaction))
    return tx


def fresh_address(i: int) -> str:
    address: str = Account.from_key(keccak(text=f"clerk {i}")).address
    return address


def build(chain: Chain, transactions: list[SignedTransactionAPI], *, dt: int = 1) -> Block:
    """Proposes and commits the next block on `chain`, sealed by the validator."""
    proposal = chain.propose(
        transactions,
        timestamp=int(chain.head.header.timestamp) + dt,
        proposer=VALIDATOR_KEY.public_key.to_canonical_address(),
    )
    return chain.commit_proposal(proposal, [seal_for(proposal.block, VALIDATOR_KEY)])


def three_tx_block(chain: Chain) -> Block:
    txs = [set_account_tx(AACHEN.admin, n, fresh_address(n)) for n in range(3)]
    block = build(chain, txs)
    assert len(block.transactions) == 3
    return block


def resealed(block: Block, key: PrivateKey = VALIDATOR_KEY, **changes: object) -> Block:
    """`block` with header fields changed and a fresh, valid seal over the changed header."""
    unsealed = with_seals(Block(block.header.copy(**changes), block.transactions), [])
    return with_seals(unsealed, [seal_for(unsealed, key)])


def state_rows(chain: Chain) -> set[tuple[bytes, bytes, int]]:
    return set(chain.store.iter_kv())


# ---------------------------------------------------------------- genesis


def test_genesis_hash_is_stable_across_reopen(tmp_path: Path, genesis: Genesis) -> None:
    path = tmp_path / "chain.sqlite"
    first = Chain(SqliteStore(path), genesis)
    genesis_hash = first.head.hash
    assert first.head.number == 0
    assert first.head.header.parent_hash == ZERO32
    assert first.head.extra.validators == (bytes.fromhex(AACHEN.validator.address[2:]),)
    first.store.close()

    reopened = Chain(SqliteStore(path), genesis)
    assert reopened.head.number == 0
    assert reopened.head.hash == genesis_hash
    reopened.store.close()

    elsewhere = Chain(SqliteStore(tmp_path / "other.sqlite"), genesis)
    assert elsewhere.head.hash == genesis_hash
    assert (
        elsewhere.state().get_code(Address(bytes.fromhex(CONSORTIUM_ADDRESS[2:])))
        == genesis.alloc[Web3.to_checksum_address(CONSORTIUM_ADDRESS)].code
    )
    elsewhere.store.close()


@pytest.mark.parametrize(
    ("chain_id", "timestamp", "message"),
    [
        pytest.param(CHAIN_ID, GENESIS_TIME + 1, "holds another chain", id="another-genesis"),
        pytest.param(CHAIN_ID + 1, GENESIS_TIME, f"belongs to chain id {CHAIN_ID}", id="another-chain-id"),
    ],
)
def test_a_store_of_another_chain_is_refused(
    tmp_path: Path, genesis: Genesis, chain_id: int, timestamp: int, message: str
) -> None:
    path = tmp_path / "chain.sqlite"
    Chain(SqliteStore(path), genesis).store.close()
    other = make_genesis(
        chain_id,
        dev_founding(CITIES, GENESIS_TIME + 365 * 86400),
        [AACHEN.validator.address],
        timestamp,
    )
    store = SqliteStore(path)
    with pytest.raises(ConfigError, match=message):
        Chain(store, other)
    assert store.head_number() == 0
    assert Chain(store, genesis).head.number == 0
    store.close()


# ------------------------------------------------------- building blocks


def test_propose_and_commit_a_sealed_block(tmp_path: Path, pair: Pair, genesis: Genesis) -> None:
    chain = pair.a
    genesis_block = chain.head
    block = three_tx_block(chain)
    assert chain.head == block
    assert block.number == 1
    assert block.header.parent_hash == genesis_block.hash
    assert block.header.state_root != genesis_block.header.state_root
    assert [r.state_root for r in chain.receipts(1)] == [b"\x01"] * 3  # status 1: setAccount succeeded
    assert chain.store.tx_location(block.transactions[2].hash) == (1, 2)
    assert chain.validators_after(1) == genesis_block.extra.validators
    chain.store.close()

    reopened = Chain(SqliteStore(tmp_path / "a" / "chain.sqlite"), genesis)
    assert reopened.head.number == 1
    assert reopened.head.hash == block.hash
    assert reopened.ancestors(1) == [block.hash, genesis_block.hash]
    pair.a = reopened


def test_commit_proposal_needs_a_validator_seal(pair: Pair) -> None:
    chain = pair.a
    genesis_hash = chain.head.hash
    proposal = chain.propose(
        [set_account_tx(AACHEN.admin, 0, fresh_address(0))],
        timestamp=GENESIS_TIME + 1,
        proposer=VALIDATOR_KEY.public_key.to_canonical_address(),
    )
    for seals in ([], [seal_for(proposal.block, OUTSIDER_KEY)]):
        with pytest.raises(InvalidBlockError, match="0 valid commit seals, 1 needed"):
            chain.commit_proposal(proposal, seals)
        assert chain.head.hash == genesis_hash
        assert chain.store.head_number() == 0
    block = chain.commit_proposal(proposal, [seal_for(proposal.block, VALIDATOR_KEY)])
    assert chain.head.hash == block.hash
    assert chain.store.head_number() == 1


def test_proposals_skip_transactions_that_do_not_apply(pair: Pair) -> None:
    good = set_account_tx(AACHEN.admin, 0, fresh_address(0))
    gap = set_account_tx(AACHEN.admin, 5, fresh_address(5))
    block = build(pair.a, [good, gap])
    assert block.transactions == (good,)


# ------------------------------------------------------- importing blocks


def test_import_of_a_good_block_is_accepted(pair: Pair) -> None:
    first = three_tx_block(pair.a)
    second = build(pair.a, [set_account_tx(AACHEN.admin, 3, fresh_address(3))])
    pair.b.import_block(Block.decode(first.encode()))
    pair.b.import_block(Block.decode(second.encode()))
    assert pair.b.head.hash == second.hash
    assert pair.b.head.header.state_root == second.header.state_root
    assert [r.encode() for r in pair.b.receipts(1)] == [r.encode() for r in pair.a.receipts(1)]
    assert pair.b.store.block(2) == pair.a.store.block(2)
    assert state_rows(pair.b) == state_rows(pair.a)


def test_blocks_must_be_imported_in_order(pair: Pair) -> None:
    first = three_tx_block(pair.a)
    second = build(pair.a, [])
    with pytest.raises(InvalidBlockError, match="expected block 1") as info:
        pair.b.import_block(second)
    assert info.value.number == 2
    pair.b.import_block(first)
    pair.b.import_block(second)
    with pytest.raises(InvalidBlockError, match="expected block 3"):
        pair.b.import_block(first)
    assert pair.b.head.hash == second.hash


def _no_seals(good: Block) -> Block:
    return with_seals(good, [])


def _outsider_seal(good: Block) -> Block:
    return with_seals(good, [seal_for(good, OUTSIDER_KEY)])


def _seal_of_another_round(good: Block) -> Block:
    # The same block hash (round is not part of it), but the seal was made for round 0.
    extra = replace(good.extra, round=1)
    return Block(good.header.copy(extra_data=extra.encode()), good.transactions)


def _wrong_parent(good: Block) -> Block:
    return resealed(good, parent_hash=Hash32(keccak(b"another parent")))


def _wrong_number(good: Block) -> Block:
    return resealed(good, block_number=BlockNumber(2))


def _before_parent(good: Block) -> Block:
    return resealed(good, timestamp=GENESIS_TIME - 1)


def _tampered_state_root(good: Block) -> Block:
    return resealed(good, state_root=Hash32(keccak(b"another state")))


def _tampered_gas_used(good: Block) -> Block:
    return resealed(good, gas_used=good.header.gas_used + 1)


def _transaction_removed(good: Block) -> Block:
    return Block(good.header, good.transactions[:-1])


def _transactions_reordered(good: Block) -> Block:
    return Block(good.header, tuple(reversed(good.transactions)))


def _transaction_that_does_not_apply(good: Block) -> Block:
    return Block(good.header, (*good.transactions, set_account_tx(AACHEN.admin, 9, fresh_address(9))))


def _validators_changed(good: Block) -> Block:
    outsider = OUTSIDER_KEY.public_key.to_canonical_address()
    extra = replace(good.extra, validators=(outsider,), seals=())
    return resealed(good, extra_data=extra.encode())


BAD_BLOCKS = [
    pytest.param(_no_seals, "0 valid commit seals, 1 needed", id="no-seals"),
    pytest.param(_outsider_seal, "0 valid commit seals, 1 needed", id="outsider-seal"),
    pytest.param(_seal_of_another_round, "0 valid commit seals, 1 needed", id="seal-of-another-round"),
    pytest.param(_wrong_parent, "parent hash is not our head", id="wrong-parent"),
    pytest.param(_wrong_number, "expected block 1", id="wrong-number"),
    pytest.param(_before_parent, "timestamp is before the parent's", id="before-parent"),
    pytest.param(_tampered_state_root, "state_root does not match re-execution", id="state-root"),
    pytest.param(_tampered_gas_used, "gas_used does not match re-execution", id="gas-used"),
    pytest.param(_transaction_removed, "does not match re-execution", id="transaction-removed"),
    pytest.param(
        _transactions_reordered, "a transaction does not apply: Invalid transaction nonce", id="reordered"
    ),
    pytest.param(_transaction_that_does_not_apply, "a transaction does not apply", id="tx-does-not-apply"),
    pytest.param(_validators_changed, "validators", id="validators-replaced-without-a-vote"),
]


@pytest.mark.parametrize(("tamper", "reason"), BAD_BLOCKS)
def test_bad_block_is_rejected_and_changes_nothing(
    pair: Pair, tamper: Callable[[Block], Block], reason: str
) -> None:
    good = three_tx_block(pair.a)
    bad = tamper(good)
    assert bad.encode() != good.encode()
    head = pair.b.head
    rows = state_rows(pair.b)

    with pytest.raises(InvalidBlockError, match=reason) as info:
        pair.b.import_block(bad)

    assert info.value.reason
    assert pair.b.head == head
    assert pair.b.store.head_number() == 0
    assert pair.b.store.block(1) is None
    assert state_rows(pair.b) == rows
    # The peer is not stuck: the good block still imports, and nothing of the bad one leaked in.
    pair.b.import_block(good)
    assert pair.b.head.hash == good.hash
    assert pair.b.store.block(1) == pair.a.store.block(1)
    assert state_rows(pair.b) == state_rows(pair.a)
