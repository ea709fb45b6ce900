"""A local network of node processes: genesis, dev keys, configs, start, status and stop.

Everything is written under one data directory; `devnet.json` there is the interface other tools
read (DESIGN.md §8). Keys are development keys derived from a public seed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from apps.weighing.staff import StaffRole, issue_token
from contracts.genesis import CONSORTIUM_ADDRESS
from devnet.keys import DEV_CITIES, DEV_KEY_WARNING, EXTRA_DEV_CITIES, CityKeys, dev_founding
from devnet.registry_app import register_registry_gateway, spawn_registry_service, write_registry_gateway
from ledger.connect import connect
from ledger.deploy import deploy_record_contracts
from ledger.rpc import RpcClient
from ledger.trust import trust_from_node
from nodes.config import write_config
from nodes.genesis import make_genesis
from nodes.p2p.pki import create_ca, fingerprint, issue_node_keypair

DEVNET_CHAIN_ID = 4242
DEV_PASSWORD = "govchain-devnet"  # noqa: S105 - a dev-only password, written next to the dev keys


class DevnetError(Exception):
    pass


@dataclass(frozen=True)
class DevnetOptions:
    data_dir: Path
    nodes: int = 5
    block_period: float = 1
    empty_block_period: float = 30
    request_timeout: float = 4
    members: int = len(DEV_CITIES)  # founding member cities (the first `nodes` of them run nodes)

    @property
    def cities(self) -> tuple[str, ...]:
        return (DEV_CITIES + EXTRA_DEV_CITIES)[: max(self.members, self.nodes)]

    base_port: int = 8545
    chain_id: int = DEVNET_CHAIN_ID


PORTS_PER_NODE = 3  # JSON-RPC HTTP, WebSocket, peer-to-peer


def _rpc_port(options: DevnetOptions, index: int) -> int:
    return options.base_port + PORTS_PER_NODE * index


def _p2p_port(options: DevnetOptions, index: int) -> int:
    return _rpc_port(options, index) + 2


def _node_dir(options: DevnetOptions, city: str) -> Path:
    return options.data_dir / "nodes" / city


def _write_keystore(path: Path, account: LocalAccount) -> None:
    # Light scrypt parameters: these are public dev keys; real nodes use `govchain node init`.
    keystore = Account.encrypt(account.key, DEV_PASSWORD, kdf="scrypt", iterations=2**10)
    path.write_text(json.dumps(keystore))


def prepare(options: DevnetOptions, calibration_until: int) -> list[CityKeys]:
    """Writes genesis, keys and node configs for a fresh devnet; returns the cities' keys."""
    if not 1 <= options.nodes <= len(DEV_CITIES + EXTRA_DEV_CITIES):
        raise DevnetError(f"--nodes must be between 1 and {len(DEV_CITIES + EXTRA_DEV_CITIES)}")
    if (options.data_dir / "devnet.json").exists():
        raise DevnetError(
            f"{options.data_dir} already holds a devnet: run `govchain devnet down` or pick another dir"
        )
    options.data_dir.mkdir(parents=True, exist_ok=True)
    cities = [CityKeys.derive(c) for c in options.cities]
    running = cities[: options.nodes]
    ca_dir = options.data_dir / "ca"
    ca_dir.mkdir(exist_ok=True)
    ca = create_ca("govchain devnet consortium CA")
    ca.write(ca_dir / "ca.key", ca_dir / "ca.pem")
    certificates = {c.city: issue_node_keypair(ca, f"{c.city} node") for c in running}
    fingerprints = {city: fingerprint(pair.cert) for city, pair in certificates.items()}
    genesis = make_genesis(
        options.chain_id,
        dev_founding(tuple(cities), calibration_until, node_fingerprints=fingerprints),
        [c.validator.address for c in running],
        int(time.time()),
        block_period=options.block_period,
        empty_block_period=options.empty_block_period,
        request_timeout=options.request_timeout,
    )
    genesis.write(options.data_dir / "genesis.json")
    for index, city in enumerate(running):
        node_dir = _node_dir(options, city.city)
        node_dir.mkdir(parents=True, exist_ok=True)
        certificates[city.city].write(node_dir / "node.key", node_dir / "node.pem")
        _write_keystore(node_dir / "validator.keystore.json", city.validator)
        (node_dir / "DEV-PASSWORD.txt").write_text(DEV_PASSWORD + "\n")
        write_config(
            node_dir / "node.toml",
            {
                "name": city.city,
                "data_dir": ".",
                "genesis": "../../genesis.json",
                "devnet": True,
                "rpc_host": "127.0.0.1",
                "rpc_port": _rpc_port(options, index),
                "ws_port": _rpc_port(options, index) + 1,
                "validator_keystore": "validator.keystore.json",
                "validator_password_file": "DEV-PASSWORD.txt",
                "p2p_port": _p2p_port(options, index),
                "peers": [f"127.0.0.1:{_p2p_port(options, i)}" for i in range(options.nodes) if i != index],
                "tls_ca_cert": "../../ca/ca.pem",
                "tls_cert": "node.pem",
                "tls_key": "node.key",
            },
        )
    return cities


def start_node(node_dir: Path) -> int:
    log = (node_dir / "node.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "cli.main", "node", "run", "--config", str(node_dir / "node.toml")],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # survives the `devnet up --detach` that started it
    )
    return process.pid


def wait_for_rpc(url: str, pid: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            raise DevnetError(f"node process {pid} exited; see its node.log")
        try:
            if requests.get(url + "/health", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise DevnetError(f"node at {url} did not answer within {timeout} s")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as gone
        waited, _ = os.waitpid(pid, os.WNOHANG)
        return waited == 0
    except ChildProcessError:
        return True


def up(options: DevnetOptions, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    calibration_until = int(time.time()) + 2 * 365 * 86400
    cities = prepare(options, calibration_until)
    nodes: list[dict[str, Any]] = []
    for index, city in enumerate(cities[: options.nodes]):
        node_dir = _node_dir(options, city.city)
        pid = start_node(node_dir)
        rpc = f"http://127.0.0.1:{_rpc_port(options, index)}"
        nodes.append(
            {
                "name": city.city,
                "rpc": rpc,
                "ws": f"ws://127.0.0.1:{_rpc_port(options, index) + 1}",
                "validator": city.validator.address,
                "p2p": f"127.0.0.1:{_p2p_port(options, index)}",
                "pid": pid,
                "dataDir": str(node_dir.resolve()),
            }
        )
        progress(f"started node {city.city} (pid {pid}, {rpc})")
    for node in nodes:
        wait_for_rpc(str(node["rpc"]), int(node["pid"]))
        progress(f"node {node['name']} answers")
    admin = cities[0].admin
    w3 = connect(str(nodes[0]["rpc"]), [admin])
    addresses = deploy_record_contracts(w3, CONSORTIUM_ADDRESS, admin.address)
    progress(f"deployed WeighingLedger {addresses.weighing} and RegistryAttestations {addresses.registry}")
    description: dict[str, Any] = {
        "chainId": options.chain_id,
        "blockPeriod": options.block_period,
        "nodes": nodes,
        "contracts": addresses.to_json(),
        "apps": {"weighing": None, "registry": None},
        "accounts": {c.city: _city_accounts(c, calibration_until) for c in cities},
        "warning": DEV_KEY_WARNING,
    }
    (options.data_dir / "devnet.json").write_text(json.dumps(description, indent=2) + "\n")
    trust = trust_from_node(RpcClient([str(n["rpc"]) for n in nodes]))
    (options.data_dir / "trust.json").write_text(json.dumps(trust, indent=2) + "\n")
    _write_gateways(options.data_dir, cities, nodes, description)
    progress("wrote trust.json and gateways/<city>.json")
    port = options.base_port + PORTS_PER_NODE * options.nodes
    register_registry_gateway(w3, CONSORTIUM_ADDRESS, admin, cities[0].city)
    write_registry_gateway(options.data_dir, cities[0].city)
    registry_pid, registry_url = spawn_registry_service(options.data_dir, cities[0].city, port + 1)
    description["appPids"] = {"registry": registry_pid}
    (options.data_dir / "devnet.json").write_text(json.dumps(description, indent=2) + "\n")  # for `down`
    pid, url = start_weighing_service(options.data_dir, cities[0].city, port)
    description["apps"]["weighing"] = url
    description["appPids"]["weighing"] = pid
    wait_for_rpc(registry_url, registry_pid)
    description["apps"]["registry"] = registry_url
    (options.data_dir / "devnet.json").write_text(json.dumps(description, indent=2) + "\n")
    progress(f"weighing service of {cities[0].city} at {url} (OpenAPI: {url}/docs)")
    progress(f"registry service of {cities[0].city} at {registry_url} (clerks: {registry_url}/clerk)")
    return description


def start_weighing_service(data_dir: Path, city: str, port: int) -> tuple[int, str]:
    folder = data_dir / "apps"
    folder.mkdir(exist_ok=True)
    config = folder / f"weighing-{city}.toml"
    write_config(
        config,
        {
            "gateway": f"../gateways/{city}.json",
            "passphrase_file": "../gateways/DEV-PASSPHRASE.txt",
            "salt_file": f"../gateways/{city}-salt.hex",
            "data_dir": f"weighing-{city}",
            "staff_tokens_file": f"weighing-{city}/staff-tokens.json",
            "port": port,
            "devnet": True,
        },
    )
    # a dev token for the billing office (search, totals) that may also erase clear values
    tokens = folder / f"weighing-{city}" / "staff-tokens.json"
    token = issue_token(tokens, "devnet-staff", {StaffRole.READER, StaffRole.PRIVACY})
    (folder / f"weighing-{city}-DEV-STAFF-TOKEN.txt").write_text(token + "\n")
    log = (folder / f"weighing-{city}.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "cli.main", "weighing", "serve", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for_rpc(url, process.pid)
    return process.pid, url


def _write_gateways(
    data_dir: Path, cities: list[CityKeys], nodes: list[dict[str, Any]], description: dict[str, Any]
) -> None:
    """Per city: gateway settings for `govchain ledger ...` and the services, with a dev keystore."""
    folder = data_dir / "gateways"
    folder.mkdir(exist_ok=True)
    (folder / "DEV-PASSPHRASE.txt").write_text(DEV_PASSWORD + "-gateway\n")
    for city in cities:
        own = [n["rpc"] for n in nodes if n["name"] == city.city]
        others = [n["rpc"] for n in nodes if n["name"] != city.city]
        keystore = Account.encrypt(
            city.gateway.key, DEV_PASSWORD + "-gateway", kdf="scrypt", iterations=2**10
        )
        (folder / f"{city.city}-gateway.keystore.json").write_text(json.dumps(keystore))
        settings = {
            "city": city.city,
            "outbox": f"{city.city}-outbox.sqlite",
            "nodes": own + others,
            "chainId": description["chainId"],
            "contracts": description["contracts"],
            "keystore": f"{city.city}-gateway.keystore.json",
        }
        (folder / f"{city.city}.json").write_text(json.dumps(settings, indent=2) + "\n")
        (folder / f"{city.city}-salt.hex").write_text(
            keccak(text=f"govchain devnet salt/{city.city}").hex() + "\n"
        )


def _city_accounts(city: CityKeys, calibration_until: int) -> dict[str, Any]:
    def pair(account: LocalAccount) -> dict[str, str]:
        return {"address": account.address, "privateKey": "0x" + account.key.hex()}

    return {
        "admin": pair(city.admin),
        "gateway": pair(city.gateway),
        "clerk": pair(city.clerk),
        "scales": [pair(s) | {"calibrationValidUntil": calibration_until} for s in city.scales],
    }


def load(data_dir: Path) -> dict[str, Any]:
    path = data_dir / "devnet.json"
    if not path.exists():
        raise DevnetError(f"no devnet at {data_dir} (no devnet.json)")
    description: dict[str, Any] = json.loads(path.read_text())
    return description


def restart_node(data_dir: Path, name: str) -> int:
    """Starts a stopped node of the devnet again and records its new pid in devnet.json."""
    description = load(data_dir)
    node = next(n for n in description["nodes"] if n["name"] == name)
    if pid_alive(int(node["pid"])):
        raise DevnetError(f"node {name} is still running (pid {node['pid']})")
    node["pid"] = start_node(Path(node["dataDir"]))
    (data_dir / "devnet.json").write_text(json.dumps(description, indent=2) + "\n")
    wait_for_rpc(str(node["rpc"]), int(node["pid"]))
    return int(node["pid"])


def down(data_dir: Path, timeout: float = 15) -> list[str]:
    description = load(data_dir)
    stopped = []
    processes = {n["name"]: int(n["pid"]) for n in description["nodes"]}
    processes.update({f"{app} service": int(pid) for app, pid in description.get("appPids", {}).items()})
    for name, pid in processes.items():
        if pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            stopped.append(name)
    deadline = time.monotonic() + timeout
    for pid in processes.values():
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
    (data_dir / "devnet.json").rename(data_dir / "devnet.stopped.json")
    return stopped
