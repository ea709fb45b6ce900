"""kill the submitter at every dangerous moment: each run ends with exactly one record on chain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ledger.connect import connect
from ledger.events import topic_of
from ledger.outbox import FINAL, Outbox
from ledger.records import Weighing, domain_for
from ledger.submitter import CRASH_ENV
from tests.ledger.test_gateway import new_scale, record_count, weighing

ROOT = Path(__file__).resolve().parents[2]


def run_child(settings: Path, crash_at: str | None) -> int:
    env = dict(os.environ)
    env.pop(CRASH_ENV, None)
    if crash_at is not None:
        env[CRASH_ENV] = crash_at
    process = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tests.ledger.submitter_child", str(settings)],
        cwd=ROOT,
        env=env,
        timeout=120,
        capture_output=True,
        text=True,
    )
    return process.returncode


def recorded_events(chain: dict[str, Any], record_id: bytes) -> int:
    w3 = connect(chain["rpc"])
    logs = w3.eth.get_logs(
        {
            "fromBlock": 0,
            "toBlock": "latest",
            "address": w3.to_checksum_address(chain["contracts"]["weighing"]),
            "topics": ["0x" + topic_of("WeighingRecorded").hex(), "0x" + record_id.hex()],
        }
    )
    return len(logs)


@pytest.mark.parametrize("crash_at", ["after_sign", "after_send", "after_receipt"])
def test_a_crash_leaves_exactly_one_record_on_chain(
    chain: dict[str, Any], tmp_path: Path, crash_at: str
) -> None:
    scale = new_scale(chain)
    domain = domain_for(Weighing, chain["chainId"], chain["contracts"]["weighing"])
    outbox_path = tmp_path / "outbox.sqlite"
    outbox = Outbox(outbox_path)
    records = [weighing(scale, seq) for seq in range(1, 6)]
    for w in records:
        outbox.enqueue(
            "0x" + w.record_id.hex(),
            "weighing",
            {"record": w.to_json(), "signature": "0x" + w.sign(domain, scale.key).hex()},
        )
    before = record_count(chain)
    settings = tmp_path / "settings.json"
    settings.write_text(
        json.dumps(
            {
                "outbox": str(outbox_path),
                "rpc": chain["rpc"],
                "chainId": chain["chainId"],
                "contracts": chain["contracts"],
            }
        )
    )
    assert run_child(settings, crash_at) == 137  # it died where we asked
    time.sleep(1.5)  # let a sent transaction land while no submitter runs
    assert run_child(settings, None) == 0
    assert all(i.state == FINAL for i in outbox.items(limit=10)), outbox.items(limit=10)
    assert record_count(chain) == before + len(records)
    for w in records:
        assert recorded_events(chain, w.record_id) == 1
    outbox.close()


def test_the_outbox_survives_a_killed_writer(tmp_path: Path) -> None:
    """An acknowledged enqueue is on disk: a process killed right after it cannot lose it."""
    path = tmp_path / "outbox.sqlite"
    script = (
        "import sys; from pathlib import Path; from ledger.outbox import Outbox;"
        f"o = Outbox(Path({str(path)!r})); o.enqueue('0x01', 'weighing', {{'record': 1}});"
        "print('ack', flush=True);"
        "import os; os._exit(137)"
    )
    process = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert process.stdout.strip() == "ack" and process.returncode == 137
    item = Outbox(path).item("0x01")
    assert item is not None and item.state == "queued"
