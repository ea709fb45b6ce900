"""Account permissioning is a block rule too: a proposer cannot slip in a refused sender's transaction."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from contracts.genesis import CONSORTIUM_ADDRESS
from nodes.chain.chain import Chain
from nodes.errors import InvalidBlockError
from nodes.genesis import Genesis
from nodes.permissioning import AccountPermissioning
from nodes.storage.sqlite import SqliteStore
from tests.nodes.test_chain import AACHEN, Pair, build, fresh_address, genesis, set_account_tx

__all__ = ["genesis"]  # the module-scoped genesis fixture of test_chain
OUTSIDER: LocalAccount = Account.from_key(keccak(text="no role in any city"))


def _with_rule(chain: Chain) -> Chain:
    chain.transaction_rule = AccountPermissioning(chain, bytes.fromhex(CONSORTIUM_ADDRESS[2:])).rule
    return chain


@pytest.fixture
def ruled(tmp_path: Path, genesis: Genesis) -> Iterator[Pair]:
    """`a` builds without the rule (a careless or hostile proposer); `b` enforces it."""
    a = Chain(SqliteStore(tmp_path / "a" / "chain.sqlite"), genesis)
    b = _with_rule(Chain(SqliteStore(tmp_path / "b" / "chain.sqlite"), genesis))
    yield Pair(a, b)
    a.store.close()
    b.store.close()


def test_a_block_with_a_refused_senders_transaction_is_rejected(ruled: Pair) -> None:
    block = build(ruled.a, [set_account_tx(OUTSIDER, 0, fresh_address(1))])
    assert len(block.transactions) == 1  # the careless proposer included it (it reverts, but it is in)
    with pytest.raises(InvalidBlockError, match="not permitted"):
        ruled.b.import_block(block)
    assert ruled.b.head.number == 0


def test_a_block_of_permitted_senders_imports(ruled: Pair) -> None:
    block = build(ruled.a, [set_account_tx(AACHEN.admin, 0, fresh_address(2))])
    ruled.b.import_block(block)
    assert ruled.b.head.hash == block.hash


def test_the_builder_leaves_refused_senders_out(ruled: Pair) -> None:
    txs = [set_account_tx(OUTSIDER, 0, fresh_address(3)), set_account_tx(AACHEN.admin, 0, fresh_address(4))]
    proposal = ruled.b.propose(txs, timestamp=int(ruled.b.head.header.timestamp) + 1, proposer=b"\0" * 20)
    assert [bytes(t.sender) for t in proposal.executed.transactions] == [
        bytes.fromhex(AACHEN.admin.address[2:])
    ]
    assert any("not permitted" in reason for _, reason in proposal.executed.skipped)
    ruled.b.discard()
