"""An acknowledged attestation survives the service dying right after its gateway signed the
transaction (before sending it): after a restart it lands on chain, exactly once (DESIGN.md §9).
Sessions survive the restart too. Runs on the shared devnet and leaves its service running."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any
from urllib.parse import urlsplit

from apps.registry.client import RegistryClient
from devnet.network import pid_alive, wait_for_rpc
from devnet.registry_app import spawn_registry_service
from ledger.events import topic_of
from ledger.rpc import RpcClient
from ledger.submitter import CRASH_ENV
from tests.apps.registry.conftest import TIMEOUT, Registry, document, sha


def restart(registry: Registry, env: dict[str, str] | None = None) -> int:
    """Stops aachen's registry service (kill -9 if it still runs) and starts it again."""
    path = registry.data_dir / "devnet.json"
    description: dict[str, Any] = json.loads(path.read_text())
    old = int(description["appPids"]["registry"])
    if pid_alive(old):
        os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(old) and time.monotonic() < deadline:
        time.sleep(0.05)
    port = urlsplit(registry.url).port
    assert port is not None
    pid, url = spawn_registry_service(registry.data_dir, "aachen", port, env)
    description["appPids"]["registry"] = pid  # `devnet down` stops the new process
    path.write_text(json.dumps(description, indent=2) + "\n")
    assert url == registry.url
    wait_for_rpc(url, pid)
    return pid


def test_an_acknowledged_attestation_lands_once_after_a_crash_between_sign_and_send(
    registry: Registry, clerk: RegistryClient
) -> None:
    victim = restart(registry, {CRASH_ENV: "after_sign"})
    data = document()
    answer = clerk.attest(data)  # the session was opened before the restart
    assert answer["status"] == "pending"
    deadline = time.monotonic() + TIMEOUT
    while pid_alive(victim) and time.monotonic() < deadline:  # the submitter signs, then dies
        time.sleep(0.05)
    assert not pid_alive(victim)
    restart(registry)
    final = clerk.wait_status(sha(data), "valid", TIMEOUT)
    assert final["status"] == "valid"
    logs = RpcClient([registry.rpc]).call(
        "eth_getLogs",
        [
            {
                "fromBlock": "0x0",
                "toBlock": "latest",
                "address": registry.description["contracts"]["registry"],
                "topics": ["0x" + topic_of("Attested").hex(), "0x" + sha(data).hex()],
            }
        ],
    )
    assert len(logs) == 1
