"""anvil (Foundry's dev chain, the pinned npm binary in tools/) with the project's contracts, so the
gateway can be driven against it exactly as against our devnet: the gateway tests and the benchmark
harness both start it here."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from devnet.keys import DEV_CITIES, CityKeys, dev_founding
from ledger.connect import connect
from ledger.deploy import deploy_consortium, deploy_record_contracts

ANVIL = Path(__file__).resolve().parents[1] / "tools" / "node_modules" / ".bin" / "anvil"
ANVIL_CHAIN_ID = 4242


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def anvil_chain(log_path: Path, port: int | None = None, cities: int = 3) -> Iterator[dict[str, Any]]:
    """anvil on a loopback port (a free one unless given) with free gas, the first `cities` dev
    cities founding a deployed Consortium, and the record contracts deployed by aachen's ADMIN."""
    if not ANVIL.exists():
        raise RuntimeError(f"{ANVIL} is missing: run ./govchain once (it installs tools/ from npm)")
    port = port or free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - the pinned binary from tools/
            [
                str(ANVIL),
                "--port",
                str(port),
                "--chain-id",
                str(ANVIL_CHAIN_ID),
                "--base-fee",
                "0",
                "--gas-price",
                "0",
                "--hardfork",
                "prague",
                "--host",
                "127.0.0.1",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url)
        founders = tuple(CityKeys.derive(c) for c in DEV_CITIES[:cities])
        for account in (a for c in founders for a in c.all()):
            # anvil's gas is not free for web3's defaults; the gateway itself sends at fee 0.
            requests.post(
                url,
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "anvil_setBalance",
                    "params": [account.address, hex(10**21)],
                },
                timeout=5,
            )
        admin = founders[0].admin
        w3 = connect(url, [admin])
        founding = dev_founding(founders, int(time.time()) + 2 * 365 * 86400)
        consortium = deploy_consortium(w3, founding, admin.address)
        addresses = deploy_record_contracts(w3, consortium.address, admin.address)
        yield {
            "chainId": ANVIL_CHAIN_ID,
            "rpc": url,
            "contracts": addresses.to_json(),
            "engine": "anvil",
            "pid": process.pid,
        }
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.post(
                url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=1
            )
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"anvil at {url} did not start")
