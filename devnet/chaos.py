"""Chaos on a running devnet: under a steady load of scale-signed weighings and clerk-signed
attestations, kill -9 random validators (never more than f at once) and the two services, and
restart them; then check that every acknowledged weighing and attestation became final exactly
once, that nothing was reported final that is not on chain, and that all nodes hold the same chain.

`govchain devnet chaos --seconds S` runs it against a devnet started with `govchain devnet up`;
tests/chaos runs a short one in CI.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from devnet.chaos_load import HTTP_TIMEOUT, ClerkLoad, ScaleLoad
from devnet.network import load, pid_alive, restart_node, start_weighing_service, wait_for_rpc
from devnet.registry_app import spawn_registry_service
from ledger.events import topic_of
from ledger.rpc import RpcClient


@dataclass
class Flow:
    """What one kind of record did: posted, acknowledged by its service, final on chain."""

    name: str
    posted: int = 0
    acknowledged: int = 0
    final: int = 0


@dataclass
class ChaosReport:
    seconds: float
    flows: list[Flow] = field(default_factory=list)
    node_kills: int = 0
    service_kills: dict[str, int] = field(default_factory=lambda: {"weighing": 0, "registry": 0})
    head: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(f.final == f.acknowledged > 0 for f in self.flows)

    def lines(self) -> list[str]:
        kills = ", ".join(f"{n} {name}-service kills" for name, n in self.service_kills.items())
        return [
            f"chaos for {self.seconds:.0f} s: {self.node_kills} validator kills, {kills}",
            *(
                f"{f.name}: posted {f.posted}, acknowledged {f.acknowledged}, final {f.final}"
                for f in self.flows
            ),
            f"each on chain exactly once, where its service said: {'yes' if not self.problems else 'NO'}",
            f"all nodes agree up to block {self.head}",
            *[f"PROBLEM: {p}" for p in self.problems],
        ]


class Chaos:
    """Picks the victims: up to f validators at once, or one of the services."""

    def __init__(self, data_dir: Path, seed: int, progress: Callable[[str], None]) -> None:
        self.data_dir = data_dir
        self.rng = random.Random(seed)  # noqa: S311 - picks victims, repeatable by seed
        self.progress = progress
        self.rounds = 0
        description = load(data_dir)
        self.validators = [n["name"] for n in description["nodes"] if n.get("validator", True)]
        self.f = (len(self.validators) - 1) // 3
        self.ports = {app: urlsplit(str(url)).port for app, url in description["apps"].items()}

    def step(self, report: ChaosReport) -> None:
        """One round: two of three take down up to f random validators, the third one of the
        services (in turn); then the victims are restarted."""
        self.rounds += 1
        if self.f > 0 and self.rounds % 3 != 0:
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
            app = ("weighing", "registry")[(self.rounds // 3) % 2]
            self._kill(load(self.data_dir)["appPids"][app])
            report.service_kills[app] += 1
            self.progress(f"kill -9 {app} service")
            time.sleep(self.rng.uniform(0.5, 2))
            self.restart_service(app)
            self.progress(f"restarted {app} service")

    def restart_service(self, app: str) -> None:
        port = self.ports[app]
        assert port is not None
        if app == "weighing":
            pid, _ = start_weighing_service(self.data_dir, "aachen", port)
        else:
            pid, url = spawn_registry_service(self.data_dir, "aachen", port)
            wait_for_rpc(url, pid)
        path = self.data_dir / "devnet.json"
        description = json.loads(path.read_text())
        description["appPids"][app] = pid
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
    """`rate`: weighings per second; the clerk attests one document every two seconds."""
    description = load(data_dir)
    report = ChaosReport(seconds)
    chaos = Chaos(data_dir, seed, progress)
    scales, clerk = ScaleLoad(description, rate), ClerkLoad(description, 0.5)
    for load_ in (scales, clerk):
        load_.start()
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            time.sleep(chaos.rng.uniform(1, 3))
            chaos.step(report)
    finally:
        for load_ in (scales, clerk):
            load_.stop()
    for load_ in (scales, clerk):
        report.problems += [f"refused: {r}" for r in load_.refused]
    progress(
        f"load stopped: acknowledged {len(scales.acknowledged)} weighings, "
        f"{len(clerk.acknowledged)} attestations"
    )
    apps = description["apps"]
    weighings = _wait(
        f"{apps['weighing']}/v1/weighings/", list(scales.acknowledged), ("final", "rejected"), settle
    )
    attestations = _wait(
        f"{apps['registry']}/v1/verify/", list(clerk.acknowledged), ("valid", "unknown"), settle
    )
    report.flows = [
        Flow("weighings", scales.posted, len(scales.acknowledged), _count(weighings, "final")),
        Flow("attestations", clerk.posted, len(clerk.acknowledged), _count(attestations, "valid")),
    ]
    description = load(data_dir)
    clients = [RpcClient([n["rpc"]]) for n in description["nodes"]]
    report.head = min(int(c.call("eth_blockNumber", []), 16) for c in clients)
    hashes = {c.call("eth_getBlockByNumber", [hex(report.head), False])["hash"] for c in clients}
    if len(hashes) != 1:
        report.problems.append(f"nodes disagree at block {report.head}: {sorted(hashes)}")
    contracts = description["contracts"]
    report.problems += _exactly_once(
        clients[0],
        contracts["weighing"],
        "WeighingRecorded",
        weighings,
        "final",
        lambda s, log: s.get("block", {}).get("hash") == log["blockHash"],
    )
    report.problems += _exactly_once(
        clients[0],
        contracts["registry"],
        "Attested",
        attestations,
        "valid",
        lambda s, log: s.get("transaction") in (None, log["transactionHash"]),
    )
    return report


def _count(statuses: dict[str, dict[str, Any]], final: str) -> int:
    return sum(1 for s in statuses.values() if s.get("status") == final)


def _wait(url: str, keys: list[str], done: tuple[str, ...], settle: float) -> dict[str, dict[str, Any]]:
    """Polls `url + key` until each key's status is in `done` (or time is up)."""
    statuses: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + settle
    waiting = list(keys)
    with requests.Session() as session:
        while waiting and time.monotonic() < deadline:
            reply = session.get(url + waiting[0], timeout=HTTP_TIMEOUT)
            ok = reply.status_code == 200
            statuses[waiting[0]] = reply.json() if ok else {"status": f"HTTP {reply.status_code}"}
            if statuses[waiting[0]].get("status") in done:
                waiting.pop(0)
            else:
                time.sleep(0.2)
    for key in waiting:
        statuses.setdefault(key, {"status": "no answer"})
    return statuses


def _exactly_once(
    rpc: RpcClient,
    address: str,
    event: str,
    statuses: dict[str, dict[str, Any]],
    final: str,
    where: Callable[[dict[str, Any], dict[str, Any]], bool],
) -> list[str]:
    """Each acknowledged key is final, its event is on chain exactly once, where the service said."""
    problems = [
        f"{key}: {s.get('status')} after chaos" for key, s in statuses.items() if s.get("status") != final
    ]
    query = {
        "fromBlock": "0x0",
        "toBlock": "latest",
        "address": address,
        "topics": ["0x" + topic_of(event).hex()],
    }
    on_chain: dict[str, list[dict[str, Any]]] = {}
    for log in rpc.call("eth_getLogs", [query]):
        on_chain.setdefault(log["topics"][1], []).append(log)
    for key, status in statuses.items():
        logs = on_chain.get(key, [])
        if len(logs) != 1:
            problems.append(f"{event} {key} is on chain {len(logs)} times")
        elif status.get("status") == final and not where(status, logs[0]):
            problems.append(f"{event} {key} reported final elsewhere than on chain ({logs[0]['blockHash']})")
    return problems
