"""kill -9 of the weighing service while scales post: after a restart every acknowledged weighing
becomes final and is on chain exactly once; resending everything completes the rest, again once."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from apps.weighing.simulator import ensure_scales
from devnet.network import pid_alive, start_weighing_service
from devnet.samples import sample_weighing
from ledger.connect import connect
from ledger.deploy import bind
from ledger.events import topic_of
from ledger.records import Weighing, domain_for
from ledger.rpc import RpcClient
from tests.support.devnet import running_devnet

RECORDS = 60
KILL_AFTER = 20  # acknowledged records
TIMEOUT = 30


def wait_final(url: str, record_ids: list[str]) -> None:
    deadline = time.monotonic() + TIMEOUT
    waiting = list(record_ids)
    while waiting and time.monotonic() < deadline:
        reply = requests.get(f"{url}/v1/weighings/{waiting[0]}", timeout=TIMEOUT)
        assert reply.status_code == 200, reply.text
        state = reply.json()["status"]
        assert state in ("pending", "final"), reply.json()
        if state == "final":
            waiting.pop(0)
        else:
            time.sleep(0.1)
    assert not waiting, f"{len(waiting)} records not final after {TIMEOUT} s, e.g. {waiting[0]}"


def set_app_pid(data_dir: Path, pid: int) -> None:
    """Records the restarted service in devnet.json, so that `devnet down` stops it."""
    path = data_dir / "devnet.json"
    description = json.loads(path.read_text())
    description["appPids"]["weighing"] = pid
    path.write_text(json.dumps(description, indent=2) + "\n")


@pytest.mark.slow
def test_every_acknowledged_weighing_survives_a_kill_9_exactly_once(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data_dir = tmp_path_factory.mktemp("crash") / "devnet"
    restarted: int | None = None
    try:
        with running_devnet(data_dir, nodes=1, members=3) as description:
            url = str(description["apps"]["weighing"])
            port = urlsplit(url).port
            assert port is not None
            victim = int(description["appPids"]["weighing"])
            contracts = description["contracts"]
            scales = ensure_scales(description, "aachen", 3)
            domain = domain_for(Weighing, description["chainId"], contracts["weighing"])
            records = [sample_weighing(scales[i % 3].address, i // 3 + 1) for i in range(RECORDS)]
            bodies: list[dict[str, Any]] = [
                {"record": r.to_json(), "signature": "0x" + r.sign(domain, scales[i % 3].key).hex()}
                for i, r in enumerate(records)
            ]
            ids = ["0x" + r.record_id.hex() for r in records]

            acknowledged: list[str] = []
            refused: list[tuple[int, str]] = []
            enough = threading.Event()

            def flood() -> None:
                with requests.Session() as session:
                    for record_id, body in zip(ids, bodies, strict=True):
                        try:
                            reply = session.post(f"{url}/v1/weighings", json=body, timeout=TIMEOUT)
                        except requests.RequestException:
                            continue  # the service is gone: not acknowledged
                        if reply.status_code in (200, 202):
                            acknowledged.append(record_id)
                        else:
                            refused.append((reply.status_code, reply.text))
                        if len(acknowledged) >= KILL_AFTER:
                            enough.set()
                enough.set()

            poster = threading.Thread(target=flood, name="scales")
            poster.start()
            assert enough.wait(TIMEOUT)
            os.kill(victim, signal.SIGKILL)
            poster.join(TIMEOUT)
            assert not poster.is_alive()
            deadline = time.monotonic() + 10
            while pid_alive(victim) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not pid_alive(victim)
            assert refused == []
            assert KILL_AFTER <= len(acknowledged) < RECORDS, len(acknowledged)

            restarted, new_url = start_weighing_service(data_dir, "aachen", port)
            set_app_pid(data_dir, restarted)
            assert new_url == url

            wait_final(url, acknowledged)  # before anything is resent
            for record_id in acknowledged:
                assert requests.get(f"{url}/v1/weighings/{record_id}", timeout=TIMEOUT).status_code == 200

            # the scales resend everything: acknowledged records are known (200), the rest is taken
            for record_id, body in zip(ids, bodies, strict=True):
                reply = requests.post(f"{url}/v1/weighings", json=body, timeout=TIMEOUT)
                assert reply.status_code in (200, 202), reply.text
                if record_id in acknowledged:
                    assert reply.status_code == 200, reply.text
            wait_final(url, ids)

            rpc = RpcClient([description["nodes"][0]["rpc"]])
            ledger = bind(connect(description["nodes"][0]["rpc"]), "WeighingLedger", contracts["weighing"])
            topic = "0x" + topic_of("WeighingRecorded").hex()
            for record_id in ids:
                assert ledger.functions.isRecorded(bytes.fromhex(record_id[2:])).call(), record_id
                logs: list[dict[str, Any]] = rpc.call(
                    "eth_getLogs",
                    [
                        {
                            "fromBlock": "0x0",
                            "toBlock": "latest",
                            "address": contracts["weighing"],
                            "topics": [topic, record_id],
                        }
                    ],
                )
                assert len(logs) == 1, (record_id, logs)
            assert ledger.functions.recordCount().call() == RECORDS
            for scale in scales:
                assert ledger.functions.lastSeq(scale.address).call() == RECORDS // 3
    finally:
        if restarted is not None and pid_alive(restarted):  # devnet down did not stop it
            os.kill(restarted, signal.SIGKILL)
