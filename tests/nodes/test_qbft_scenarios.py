"""QBFT scenarios with several in-process validators on a simulated wire and clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from eth_keys.datatypes import PrivateKey

from nodes.chain.chain import Block
from nodes.qbft.messages import Commit, Prepare, Proposal, RoundChange, Signed
from nodes.qbft.votes import proposer_for
from protocol.qbft_extra import QbftExtra
from tests.nodes.qbft_sim import SimNetwork, build_network

TIMEOUT = 2.0


@pytest.fixture
def net4(tmp_path: Path) -> Iterator[SimNetwork]:
    network = build_network(tmp_path, 4, request_timeout=TIMEOUT)
    yield network
    network.close()


def proposer_index(network: SimNetwork, height: int, round_: int) -> int:
    validators = network.validators[0].node.chain.head.extra.validators
    address = proposer_for(validators, height, round_)
    return next(v.index for v in network.validators if bytes.fromhex(v.account.address[2:]) == address)


def test_honest_validators_agree_on_every_block_in_round_zero(net4: SimNetwork) -> None:
    net4.run_until(5)
    assert len(net4.heads()) == 1
    chain = net4.validators[0].node.chain
    for number in range(1, 6):
        block = chain.block(number)
        assert block.extra.round == 0
        assert len(block.extra.seals) >= 3
        assert bytes(block.header.coinbase) == proposer_for(block.extra.validators, number, 0)
    assert all(v.driver.round_changes == 0 for v in net4.validators)


def test_a_silent_proposer_costs_one_round_timeout(net4: SimNetwork) -> None:
    silent = proposer_index(net4, 1, 0)
    net4.validators[silent].online = False
    elapsed = net4.run_until(1)
    block = net4.validators[(silent + 1) % 4].node.chain.block(1)
    assert block.extra.round == 1
    assert bytes(block.header.coinbase) == proposer_for(block.extra.validators, 1, 1)
    assert elapsed <= 1 + TIMEOUT + 2 * TIMEOUT  # heartbeat + round-0 timeout + round-1 budget
    assert len(net4.heads()) == 1


def test_two_of_four_down_halts_without_a_fork_and_resumes(net4: SimNetwork) -> None:
    net4.run_until(2)
    before = net4.heads()
    net4.validators[1].online = False
    net4.validators[2].online = False
    net4.run(30)
    assert net4.heads() == before  # no progress, and the two live validators still agree
    net4.validators[2].online = True
    net4.run_until(2)  # the revived one is at the same head
    net4.run_until(4, limit=200)
    assert len(net4.heads()) == 1


def _tampered_proposals(target_height: int, proposer: int, key: PrivateKey) -> object:
    """A wire filter: the proposer's round-0 proposal for `target_height` carries a wrong state root."""

    def rewrite(sender: int, _receiver: int, message: Signed) -> Signed | None:
        if sender != proposer or not isinstance(message, Proposal) or message.height != target_height:
            return message
        block = Block.decode(message.block)
        bad = Block(block.header.copy(state_root=b"\x13" * 32), block.transactions)
        return replace(message, block=bad.encode(), signature=b"").signed(key)

    return rewrite


def test_a_proposal_with_a_wrong_state_root_is_rejected_and_replaced(net4: SimNetwork) -> None:
    byzantine = proposer_index(net4, 1, 0)
    key = PrivateKey(net4.validators[byzantine].account.key)
    net4.filters.append(_tampered_proposals(1, byzantine, key))  # type: ignore[arg-type]
    net4.run_until(1)
    honest = [v for v in net4.validators if v.index != byzantine]
    block = honest[0].node.chain.block(1)
    assert block.extra.round >= 1, "the tampered round-0 block must not be decided"
    assert block.header.state_root != b"\x13" * 32
    assert len({v.node.chain.head.hash for v in honest}) == 1


def test_a_prepared_block_is_re_proposed_after_a_round_change(net4: SimNetwork) -> None:
    """Round 0 prepares a block but every COMMIT is lost: round 1 must decide the same block."""

    def drop_round0_commits(_s: int, _r: int, message: Signed) -> Signed | None:
        return None if isinstance(message, Commit) and message.height == 1 and message.round == 0 else message

    net4.filters.append(drop_round0_commits)
    net4.run_until(1)
    round0 = next(m for _, m in net4.sent if isinstance(m, Proposal) and m.height == 1 and m.round == 0)
    decided = net4.validators[0].node.chain.block(1)
    assert decided.extra.round >= 1
    assert decided.hash == Block.decode(round0.block).hash  # same block, later round
    assert len(net4.heads()) == 1


def test_messages_from_outside_the_validator_set_are_ignored(net4: SimNetwork) -> None:
    outsider = PrivateKey(b"\x66" * 32)
    victim = net4.validators[0]
    for round_ in range(1, 4):
        victim.driver.deliver(RoundChange(1, round_).signed(outsider).encode())
        victim.driver.deliver(Prepare(1, 0, digest=b"\x01" * 32).signed(outsider).encode())
    victim.driver.deliver(b"\x00garbage")
    net4.settle()
    machine = victim.driver.machine
    assert machine is not None and machine.round == 0
    net4.run_until(1)
    assert net4.validators[0].node.chain.block(1).extra.round == 0


def test_forged_commit_seals_are_not_counted(net4: SimNetwork) -> None:
    """Validators 0 and 3 receive commits of 1 and 2 whose seals another key made: with only two
    valid seals they cannot decide; 1 and 2 (three valid seals each) decide and announce."""
    forger = PrivateKey(b"\x77" * 32)

    def forge(sender: int, _r: int, message: Signed) -> Signed | None:
        if isinstance(message, Commit) and sender in (1, 2) and message.height == 1:
            key = PrivateKey(net4.validators[sender].account.key)
            bad_seal = forger.sign_msg_hash(b"\x00" * 32).to_bytes()
            return replace(message, seal=bad_seal, signature=b"").signed(key)
        return message

    net4.filters.append(forge)
    net4.run_until(1)
    deciders = {i for i, heights in net4.decided.items() if 1 in heights}
    assert deciders and deciders <= {1, 2}  # 0 and 3 only ever saw two valid seals
    assert len(net4.heads()) == 1
    block = net4.validators[0].node.chain.block(1)
    assert len(QbftExtra.decode(block.header.extra_data).seals) >= 3


def test_round_changes_from_f_plus_one_validators_pull_a_lagging_one_along(net4: SimNetwork) -> None:
    lagging = net4.validators[3]
    lagging.driver.step(net4.now, wait=0)  # only this validator runs: it stays at height 1
    machine = lagging.driver.machine
    assert machine is not None and machine.height == 1 and machine.round == 0
    lagging.driver.deliver(RoundChange(1, 2).signed(PrivateKey(net4.validators[0].account.key)).encode())
    lagging.driver.step(net4.now, wait=0)
    assert machine.round == 0  # one validator (f) is not enough
    lagging.driver.deliver(RoundChange(1, 2).signed(PrivateKey(net4.validators[1].account.key)).encode())
    lagging.driver.step(net4.now, wait=0)
    assert machine.round == 2  # f + 1 are
