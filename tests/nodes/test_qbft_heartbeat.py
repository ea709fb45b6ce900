"""Round-0 timing around heartbeat blocks: the round timer starts when the block is due (or when its
proposal arrives), not when the height started, so an empty-block heartbeat longer than the request
timeout causes no round change, and a stuck proposal still times out promptly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nodes.qbft.messages import Commit, Prepare, Signed
from tests.nodes.qbft_sim import SimNetwork, build_network

TIMEOUT = 2.0
HEARTBEAT = 10.0


@pytest.fixture
def net(tmp_path: Path) -> Iterator[SimNetwork]:
    network = build_network(tmp_path, 4, request_timeout=TIMEOUT, heartbeat=HEARTBEAT)
    yield network
    network.close()


def test_heartbeat_blocks_longer_than_the_timeout_need_no_round_change(net: SimNetwork) -> None:
    net.run_until(3, limit=60)
    chain = net.validators[0].node.chain
    assert [chain.block(n).extra.round for n in range(1, 4)] == [0, 0, 0]
    for v in net.validators:
        machine = v.driver.machine
        assert v.driver.round_changes + (machine.round_changes_made if machine else 0) == 0


def test_a_proposal_that_never_commits_still_times_out_a_timeout_after_it_arrived(net: SimNetwork) -> None:
    net.run_until(1, limit=60)

    def no_votes(_sender: int, _receiver: int, message: Signed) -> Signed | None:
        return None if isinstance(message, Prepare | Commit) else message

    net.filters.append(no_votes)
    net.run(HEARTBEAT + TIMEOUT + 1)  # the heartbeat proposal arrives, its votes are lost
    assert net.validators[0].node.chain.head.number == 1
    machine = net.validators[0].driver.machine
    assert machine is not None and machine.round >= 1
