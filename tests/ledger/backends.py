"""Chains for the gateway suite: our devnet node, and anvil driven through the very same code."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from contracts.genesis import CONSORTIUM_ADDRESS
from devnet.keys import DEV_CITIES, CityKeys, dev_founding
from ledger.connect import connect
from ledger.deploy import deploy_consortium, deploy_record_contracts
from tests.support.devnet import free_port_block, running_devnet

ANVIL = Path(__file__).resolve().parents[2] / "tools" / "node_modules" / ".bin" / "anvil"
CHAIN_ID = 4242


@contextmanager
def anvil_chain(log_path: Path) -> Iterator[dict[str, Any]]:
    """anvil on a free loopback port with free gas and the suite's Consortium and record contracts."""
    port = free_port_block(1)
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - the pinned binary from tools/
            [
                str(ANVIL),
                "--port",
                str(port),
                "--chain-id",
                str(CHAIN_ID),
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
        cities = tuple(CityKeys.derive(c) for c in DEV_CITIES[:3])
        for account in (a for c in cities for a in c.all()):
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
        admin = cities[0].admin
        w3 = connect(url, [admin])
        founding = dev_founding(cities, int(time.time()) + 2 * 365 * 86400)
        consortium = deploy_consortium(w3, founding, admin.address)
        addresses = deploy_record_contracts(w3, consortium.address, admin.address)
        yield {"chainId": CHAIN_ID, "rpc": url, "contracts": addresses.to_json(), "engine": "anvil"}
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


@contextmanager
def devnet_chain(data_dir: Path) -> Iterator[dict[str, Any]]:
    with running_devnet(data_dir, nodes=1, members=3) as description:
        yield {
            "chainId": description["chainId"],
            "rpc": description["nodes"][0]["rpc"],
            "contracts": description["contracts"],
            "engine": "govchain",
            "consortium": CONSORTIUM_ADDRESS,
        }
