"""The quick chaos run (issue 10): five validators and aachen's weighing service under a steady
load of signed weighings; validators (never more than f at once) and the service are killed with
SIGKILL and restarted at random. Longer: GOVCHAIN_CHAOS_SECONDS=600 (and GOVCHAIN_CHAOS_SEED)."""

from __future__ import annotations

import os

import pytest

from devnet.chaos import run_chaos
from tests.support.devnet import running_devnet

SECONDS = float(os.environ.get("GOVCHAIN_CHAOS_SECONDS", "40"))
SEED = int(os.environ.get("GOVCHAIN_CHAOS_SEED", "7"))


@pytest.mark.slow
def test_every_acknowledged_weighing_is_final_once_after_kills_of_validators_and_service(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data_dir = tmp_path_factory.mktemp("chaos") / "devnet"
    with running_devnet(data_dir, nodes=5, members=5, block_period=0.5, request_timeout=2):
        report = run_chaos(data_dir, SECONDS, seed=SEED, rate=6, progress=print)
    print("\n".join(report.lines()))
    assert report.problems == []
    assert report.node_kills >= 2 and report.service_kills >= 1, report.lines()
    assert report.acknowledged >= SECONDS, report.lines()  # the load kept flowing through the chaos
    assert report.final == report.acknowledged
