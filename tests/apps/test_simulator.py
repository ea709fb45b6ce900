"""The scale simulator (`govchain scales simulate`, used by the main job): its loads are plausible
for the service, and a short run against a devnet of its own is accepted in full and ends final,
with clear plates and several waste codes in the billing totals."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from apps.weighing.simulator import FLEET, WASTE, run_simulation, truck_load
from tests.support.devnet import running_devnet

MAX_GROSS_KG = 60_000  # the service's default plausibility limit


@given(seed=st.integers(0, 2**32 - 1))
def test_a_truck_load_is_plausible(seed: int) -> None:
    load = truck_load(random.Random(seed), "aachen")
    ranges = {avv: (low, high) for avv, low, high in WASTE}
    low, high = ranges[load.avv_code]
    assert low <= load.net_kg < high
    assert load.tare_kg > 0 and load.tare_kg + load.net_kg <= MAX_GROSS_KG
    assert load.plate.startswith("AA-GV ") and 101 <= int(load.plate.split()[-1]) < 101 + FLEET


@pytest.mark.slow
def test_a_short_simulation_is_accepted_in_full_and_becomes_final(tmp_path: Path) -> None:
    data_dir = tmp_path / "devnet"
    with running_devnet(data_dir, nodes=1, members=3) as description:
        progress = run_simulation(data_dir, "aachen", scales=4, rate=8, duration=4, seed=1)
        assert progress.sent >= 20
        assert (progress.accepted, progress.refused, progress.errors) == (progress.sent, 0, 0)
        url = description["apps"]["weighing"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            counts = requests.get(f"{url}/health", timeout=10).json()["outbox"]
            if counts.get("final", 0) >= progress.accepted:
                break
            time.sleep(0.5)
        assert counts == {"final": progress.accepted}
        token = (data_dir / "apps" / "weighing-aachen-DEV-STAFF-TOKEN.txt").read_text().strip()
        staff = {"Authorization": f"Bearer {token}"}

        def totals(by: str) -> list[dict[str, object]]:
            reply = requests.get(f"{url}/v1/totals", params={"by": by}, headers=staff, timeout=10)
            assert reply.status_code == 200, reply.text
            lines: list[dict[str, object]] = reply.json()["totals"]
            return lines

        by_avv, by_vehicle = totals("avv"), totals("vehicle")
        assert len(by_avv) >= 3
        assert sum(int(str(line["weighings"])) for line in by_avv) == progress.accepted
        assert all(str(line["vehicle"]).startswith("AA-GV ") for line in by_vehicle)  # clear plates
        customers = totals("customer")
        assert all(str(line["customer"]).startswith("Kundennummer ") for line in customers)
