"""Chaos on a running devnet: under a steady load of scale-signed weighings, kill -9 random
validators (never more than f at once) and the weighing service, and restart them; then check
that every acknowledged record became final exactly once, that nothing was reported final that is
not on chain, and that all nodes hold the same chain.

`govchain devnet chaos --seconds S` runs it against a devnet started with `govchain devnet up`;
tests/chaos runs a short one in CI.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from apps.weighing.simulator import ensure_scales
from devnet.network import load, pid_alive, restart_node, start_weighing_service
from devnet.samples import sample_weighing
from ledger.events import topic_of
from ledger.records import Weighing, domain_for
from ledger.rpc import RpcClient

SCALES = 6
HTTP_TIMEOUT = 10


@dataclass
class ChaosReport:
    seconds: float
    posted: int = 0
    acknowledged: int = 0
    final: int = 0
    node_kills: int = 0
    service_kills: int = 0
    head: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and self.final == self.acknowledged > 0

    def lines(self) -> list[str]:
        return [
            f"chaos for {self.seconds:.0f} s: {self.node_kills} validator kills, "
            f"{self.service_kills} weighing-service kills",
            f"weighings posted {self.posted}, acknowledged {self.acknowledged}, final {self.final} "
            f"(each on chain exactly once: {'yes' if not self.problems else 'NO'})",
            f"all nodes agree up to block {self.head}",
            *[f"PROBLEM: {p}" for p in self.problems],
        ]


class ScaleLoad:
    """Scales that post at a steady total rate; a scale resends its current record until the
    service acknowledges it (as a real scale with a per-device counter does), then moves on."""

    def __init__(self, description: dict[str, Any], rate: float) -> None:
        self.url = str(description["apps"]["weighing"])
        self.rate = rate
        self.scales = ensure_scales(description, "aachen", SCALES)
        contracts = description["contracts"]
        self.domain = domain_for(Weighing, description["chainId"], contracts["weighing"])
        self.next_seq = {s.address: 1 for s in self.scales}
        self.acknowledged: dict[str, None] = {}  # in order, each once
        self.posted = 0
        self.refused: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-scales", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(HTTP_TIMEOUT * 2)

    def _run(self) -> None:
        current: dict[str, tuple[str, dict[str, Any]]] = {}
        with requests.Session() as session:
            index = 0
            while not self._stop.wait(1 / self.rate):
                scale = self.scales[index % len(self.scales)]
                index += 1
                if scale.address not in current:
                    record = sample_weighing(scale.address, self.next_seq[scale.address])
                    signature = "0x" + record.sign(self.domain, scale.key).hex()
                    body: dict[str, Any] = {"record": record.to_json(), "signature": signature}
                    current[scale.address] = ("0x" + record.record_id.hex(), body)
                record_id, body = current[scale.address]
                self.posted += 1
                try:
                    reply = session.post(f"{self.url}/v1/weighings", json=body, timeout=HTTP_TIMEOUT)
                except requests.RequestException:
                    continue  # the service is down: resend later
                if reply.status_code in (200, 202):
                    self.acknowledged[record_id] = None
                    del current[scale.address]
                    self.next_seq[scale.address] += 1
                elif reply.status_code < 500:
                    self.refused.append(f"{reply.status_code} {reply.text[:200]}")
                    del current[scale.address]


class Chaos:
    def __init__(self, data_dir: Path, seed: int, progress: Callable[[str], None]) -> None:
        self.data_dir = data_dir
        self.rng = random.Random(seed)  # noqa: S311 - picks victims, repeatable by seed
        self.progress = progress
        self.rounds = 0
        description = load(data_dir)
        self.validators = [n["name"] for n in description["nodes"] if n.get("validator", True)]
        self.f = (len(self.validators) - 1) // 3
        self.service_port = urlsplit(str(description["apps"]["weighing"])).port

    def step(self, report: ChaosReport) -> None:
        """One round: take down up to f random validators, or (every third round) the weighing
        service, then restart them."""
        self.rounds += 1
        if self.f > 0 and self.rounds % 3 != 2:
            victims = self.rng.sample(self.validators, self.rng.randint(1, self.f))
            for name in victims:
                self._kill(next(n for n in load(self.data_dir)["nodes"] if n["name"] == name)["pid"])
                report.node_kills += 1
            self.progress(f"kill -9 validator(s) {', '.join(victims)}")
            time.sleep(self.rng.uniform(2, 5))
            for name in victims:
                restart_node(self.data_dir, name)
            self.progress(f"restarted {', '.join(victims)}")
        else:
            self._kill(load(self.data_dir)["appPids"]["weighing"])
            report.service_kills += 1
            self.progress("kill -9 weighing service")
            time.sleep(self.rng.uniform(0.5, 2))
            self.restart_service()
            self.progress("restarted weighing service")

    def restart_service(self) -> None:
        assert self.service_port is not None
        pid, _ = start_weighing_service(self.data_dir, "aachen", self.service_port)
        path = self.data_dir / "devnet.json"
        description = json.loads(path.read_text())
        description["appPids"]["weighing"] = pid
        path.write_text(json.dumps(description, indent=2) + "\n")

    def _kill(self, pid: int) -> None:
        os.kill(int(pid), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while pid_alive(int(pid)) and time.monotonic() < deadline:
            time.sleep(0.05)


def run_chaos(
    data_dir: Path,
    seconds: float,
    seed: int = 1,
    rate: float = 8,
    settle: float = 120,
    progress: Callable[[str], None] = lambda _: None,
) -> ChaosReport:
    description = load(data_dir)
    report = ChaosReport(seconds)
    chaos = Chaos(data_dir, seed, progress)
    scales = ScaleLoad(description, rate)
    scales.start()
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            time.sleep(chaos.rng.uniform(1, 3))
            chaos.step(report)
    finally:
        scales.stop()
    report.posted, report.acknowledged = scales.posted, len(scales.acknowledged)
    report.problems += [f"refused: {r}" for r in scales.refused]
    progress(f"load stopped: {report.acknowledged} acknowledged; waiting until they are final")
    statuses = _wait_final(str(description["apps"]["weighing"]), list(scales.acknowledged), settle)
    report.final = sum(1 for s in statuses.values() if s.get("status") == "final")
    report.problems += _check_chain(load(data_dir), statuses, report)
    return report


def _wait_final(url: str, record_ids: list[str], settle: float) -> dict[str, dict[str, Any]]:
    statuses: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + settle
    waiting = list(record_ids)
    with requests.Session() as session:
        while waiting and time.monotonic() < deadline:
            reply = session.get(f"{url}/v1/weighings/{waiting[0]}", timeout=HTTP_TIMEOUT)
            ok = reply.status_code == 200
            statuses[waiting[0]] = reply.json() if ok else {"status": f"HTTP {reply.status_code}"}
            if statuses[waiting[0]].get("status") in ("final", "rejected"):
                waiting.pop(0)
            else:
                time.sleep(0.2)
    return statuses


def _check_chain(
    description: dict[str, Any], statuses: dict[str, dict[str, Any]], report: ChaosReport
) -> list[str]:
    problems = [
        f"{r}: {s.get('status')} after chaos" for r, s in statuses.items() if s.get("status") != "final"
    ]
    nodes = description["nodes"]
    clients = [RpcClient([n["rpc"]]) for n in nodes]
    report.head = min(int(c.call("eth_blockNumber", []), 16) for c in clients)
    hashes = {c.call("eth_getBlockByNumber", [hex(report.head), False])["hash"] for c in clients}
    if len(hashes) != 1:
        problems.append(f"nodes disagree at block {report.head}: {sorted(hashes)}")
    logs: list[dict[str, Any]] = clients[0].call(
        "eth_getLogs",
        [
            {
                "fromBlock": "0x0",
                "toBlock": "latest",
                "address": description["contracts"]["weighing"],
                "topics": ["0x" + topic_of("WeighingRecorded").hex()],
            }
        ],
    )
    on_chain: dict[str, list[str]] = {}
    for log in logs:
        on_chain.setdefault(log["topics"][1], []).append(log["blockHash"])
    for record_id, status in statuses.items():
        blocks = on_chain.get(record_id, [])
        if len(blocks) != 1:
            problems.append(f"{record_id} is on chain {len(blocks)} times")
        elif status.get("status") == "final" and status.get("block", {}).get("hash") != blocks[0]:
            problems.append(f"{record_id} reported final in {status.get('block')}, on chain in {blocks[0]}")
    return problems
