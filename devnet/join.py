"""A node made by `govchain node init` joins a running devnet: `govchain devnet attach` starts its
process like the devnet's own nodes and lists it in devnet.json (so `devnet status` and `devnet
down` include it). The node itself is configured and admitted exactly as on a real network."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from devnet.network import DevnetError, load, pid_alive, start_node, wait_for_rpc


def peer_addresses(data_dir: Path) -> list[str]:
    """host:port of every devnet node's peer-to-peer listener."""
    return [str(n["p2p"]) for n in load(data_dir)["nodes"] if n.get("p2p")]


def attach(data_dir: Path, node_dir: Path, timeout: float = 120) -> dict[str, Any]:
    description = load(data_dir)
    try:
        config = tomllib.loads((node_dir / "node.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DevnetError(f"{node_dir} has no readable node.toml (run `govchain node init`): {exc}") from None
    name = str(config["name"])
    existing = next((n for n in description["nodes"] if n["name"] == name), None)
    if existing is not None and pid_alive(int(existing["pid"])):
        raise DevnetError(f"a node named {name} is already running (pid {existing['pid']})")
    validator = None
    keystore = config.get("validator_keystore")
    if keystore:
        validator = "0x" + str(json.loads((node_dir / keystore).read_text())["address"]).removeprefix("0x")
    host = str(config.get("rpc_host", "127.0.0.1"))
    pid = start_node(node_dir)
    entry = {
        "name": name,
        "rpc": f"http://{host}:{config['rpc_port']}",
        "ws": f"ws://{host}:{config['ws_port']}",
        "validator": validator,
        "p2p": f"127.0.0.1:{config['p2p_port']}",
        "pid": pid,
        "dataDir": str(node_dir.resolve()),
        "joined": True,
    }
    description["nodes"] = [n for n in description["nodes"] if n["name"] != name] + [entry]
    (data_dir / "devnet.json").write_text(json.dumps(description, indent=2) + "\n")
    wait_for_rpc(str(entry["rpc"]), pid, timeout)
    return entry
