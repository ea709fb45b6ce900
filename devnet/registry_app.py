"""The registry service on the devnet: its own gateway account (a second GATEWAY of the city, so
that its outbox and the weighing service's never compete for the same nonces), its settings and
its process. DEV ONLY: the gateway key is derived from a public seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from contracts.founding import Role
from devnet.keys import dev_account
from ledger.deploy import bind
from nodes.config import write_config


def registry_gateway(city: str) -> LocalAccount:
    return dev_account(city, "registry-gateway")


def register_registry_gateway(w3: Web3, consortium: str, admin: LocalAccount, city: str) -> None:
    """The city's ADMIN registers the registry service's gateway key (w3 must sign for the admin)."""
    contract = bind(w3, "Consortium", consortium)
    tx = contract.functions.setAccount(registry_gateway(city).address, Role.GATEWAY, b"\0" * 32, 0).transact(
        {"from": admin.address, "gas": 300_000}
    )
    if w3.eth.wait_for_transaction_receipt(tx, timeout=60)["status"] != 1:
        raise RuntimeError(f"registering the registry gateway of {city} failed")


def write_registry_gateway(data_dir: Path, city: str) -> Path:
    """gateways/<city>-registry.json: the city's gateway settings with the registry gateway's dev
    keystore (same dev passphrase file as the other gateways)."""
    folder = data_dir / "gateways"
    secret = (folder / "DEV-PASSPHRASE.txt").read_text().rstrip("\n")
    keystore = Account.encrypt(registry_gateway(city).key, secret, kdf="scrypt", iterations=2**10)
    (folder / f"{city}-registry-gateway.keystore.json").write_text(json.dumps(keystore))
    settings = json.loads((folder / f"{city}.json").read_text())
    settings |= {
        "outbox": f"{city}-registry-outbox.sqlite",
        "keystore": f"{city}-registry-gateway.keystore.json",
    }
    path = folder / f"{city}-registry.json"
    path.write_text(json.dumps(settings, indent=2) + "\n")
    return path


def spawn_registry_service(
    data_dir: Path, city: str, port: int, env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Writes apps/registry-<city>.toml and starts the service; returns (pid, url) without waiting.
    `env`: extra environment variables (the tests' crash points)."""
    folder = data_dir / "apps"
    folder.mkdir(exist_ok=True)
    config = folder / f"registry-{city}.toml"
    url = f"http://127.0.0.1:{port}"
    write_config(
        config,
        {
            "gateway": f"../gateways/{city}-registry.json",
            "passphrase_file": "../gateways/DEV-PASSPHRASE.txt",
            "salt_file": f"../gateways/{city}-salt.hex",
            "data_dir": f"registry-{city}",
            "port": port,
            "public_url": url,
            "devnet": True,
        },
    )
    log = (folder / f"registry-{city}.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "cli.main", "registry", "serve", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env=None if env is None else os.environ | env,
    )
    return process.pid, url
