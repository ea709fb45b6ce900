"""The quick chaos run (issue 10): five validators and aachen's weighing and registry services under
a steady load of signed weighings and attestations; validators (never more than f at once) and the
services are killed with SIGKILL and restarted at random. Longer: GOVCHAIN_CHAOS_SECONDS=600 (and
GOVCHAIN_CHAOS_SEED)."""

from __future__ import annotations

import os

import pytest

from devnet.chaos import run_chaos
from tests.support.devnet import running_devnet

SECONDS = float(os.environ.get("GOVCHAIN_CHAOS_SECONDS", "45"))
SEED = int(os.environ.get("GOVCHAIN_CHAOS_SEED", "7"))


@pytest.mark.slow
def test_every_acknowledged_record_is_final_once_after_kills_of_validators_and_services(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data_dir = tmp_path_factory.mktemp("chaos") / "devnet"
    with running_devnet(data_dir, nodes=5, members=5, block_period=0.5, request_timeout=2):
        report = run_chaos(data_dir, SECONDS, seed=SEED, rate=6, progress=print)
    print("\n".join(report.lines()))
    assert report.problems == []
    assert report.node_kills >= 2, report.lines()
    assert min(report.service_kills.values()) >= 1, report.lines()
    weighings, attestations = report.flows
    assert weighings.acknowledged >= SECONDS, report.lines()  # the load kept flowing through the chaos
    assert attestations.acknowledged >= SECONDS / 8, report.lines()
    assert weighings.final == weighings.acknowledged
    assert attestations.final == attestations.acknowledged
    assert report.passed
