"""`govchain devnet up|status|down`"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import requests
import typer
from rich.console import Console
from rich.table import Table

from devnet.network import DevnetError, DevnetOptions, down, load, pid_alive, up

app = typer.Typer(help="A local network of nodes for development and tests.", no_args_is_help=True)
console = Console()
DataDir = Annotated[Path, typer.Option("--data-dir", help="where the devnet keeps its files")]
DEFAULT_DIR = Path("var/devnet")


@app.command("up")
def up_command(
    nodes: Annotated[
        int, typer.Option("--nodes", min=1, max=7, help="5 NRW model regions, up to 2 more")
    ] = 5,
    data_dir: DataDir = DEFAULT_DIR,
    block_period: Annotated[float, typer.Option("--block-period", min=0.05)] = 1,
    base_port: Annotated[int, typer.Option("--base-port", min=1024, max=65000)] = 8545,
    detach: Annotated[bool, typer.Option("--detach", help="return once the devnet runs")] = False,
) -> None:
    """Start N nodes, deploy the contracts and write DIR/devnet.json."""
    options = DevnetOptions(data_dir=data_dir, nodes=nodes, block_period=block_period, base_port=base_port)
    try:
        description = up(options, progress=lambda line: console.print(f"[dim]•[/dim] {line}"))
    except DevnetError as exc:
        console.print(f"[red]devnet up failed:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"[green]devnet up[/green]: {data_dir / 'devnet.json'}")
    _print_status(description)
    if detach:
        return
    console.print("Ctrl-C stops the devnet.")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        down(data_dir)
        console.print("devnet stopped")


@app.command("status")
def status_command(data_dir: DataDir = DEFAULT_DIR) -> None:
    """Per node: height, peers, validator or not, last block time, pending votes."""
    try:
        _print_status(load(data_dir))
    except DevnetError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None


@app.command("down")
def down_command(data_dir: DataDir = DEFAULT_DIR) -> None:
    """Stop every node of the devnet."""
    try:
        stopped = down(data_dir)
    except DevnetError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"stopped: {', '.join(stopped) or 'nothing was running'}")


def _status_of(node: dict[str, Any]) -> dict[str, Any] | None:
    reply = requests.post(
        node["rpc"],
        json={"jsonrpc": "2.0", "id": 1, "method": "govchain_nodeStatus", "params": []},
        timeout=3,
    )
    result: dict[str, Any] | None = reply.json().get("result")
    return result


def _votes(found: dict[str, Any]) -> str:
    votes = {**found["pendingVotes"]["contract"], **found["pendingVotes"]["manual"]}
    return ", ".join(f"{'+' if add else '-'}{address[:10]}" for address, add in votes.items()) or "-"


def _role(found: dict[str, Any]) -> str:
    if found["validator"]:
        return "yes"
    return "observer" if found["validatorAddress"] is None else "not yet"


def _print_status(description: dict[str, Any]) -> None:
    table = Table("node", "height", "peers", "validator", "last block", "pending votes", "rpc")
    now = time.time()
    sets: set[tuple[int, int]] = set()
    for node in description["nodes"]:
        cells = ["stopped", "-", "-", "-", "-"]
        if pid_alive(int(node["pid"])):
            try:
                found = _status_of(node)
            except (requests.RequestException, ValueError):
                found = None
            cells[0] = "no answer"
            if found is not None:
                sets.add((len(found["validators"]), found["quorum"]))
                age = f"{max(0, int(now - found['lastBlockTime']))} s ago"
                cells = [str(found["height"]), str(found["peers"]), _role(found), age, _votes(found)]
        table.add_row(node["name"], *cells, node["rpc"])
    console.print(table)
    for count, needed in sorted(sets):
        console.print(f"validators: {count}, quorum {needed}")
    console.print("[dim]per node: RPC URL + /status (page), /metrics (Prometheus)[/dim]")


@app.command("attach")
def attach_command(
    node_dir: Annotated[Path, typer.Argument(help="a node directory made by `govchain node init`")],
    data_dir: DataDir = DEFAULT_DIR,
) -> None:
    """Start a joining city's node (after `node init` and `node join`) as part of this devnet."""
    from devnet.join import attach

    try:
        entry = attach(data_dir, node_dir)
    except DevnetError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"started node {entry['name']} (pid {entry['pid']}, {entry['rpc']})")


@app.command("peers")
def peers_command(data_dir: DataDir = DEFAULT_DIR) -> None:
    """The --peer options for `govchain node init` that reach every node of this devnet."""
    from devnet.join import peer_addresses

    try:
        console.print(" ".join(f"--peer {a}" for a in peer_addresses(data_dir)), soft_wrap=True)
    except DevnetError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None


@app.command("export-besu")
def export_besu_command(
    data_dir: DataDir = DEFAULT_DIR,
    output: Annotated[Path, typer.Option("--output", "-o")] = Path("besu-genesis.json"),
) -> None:
    """Write a Besu QBFT genesis.json: same chain id, extraData (validators) and Consortium alloc."""
    from devnet.besu import export
    from nodes.errors import NodeError

    try:
        genesis, validators = export(data_dir / "genesis.json")
    except NodeError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    output.write_text(json.dumps(genesis, indent=2) + "\n")
    console.print(
        f"wrote {output}: chainId {genesis['config']['chainId']}, validators {', '.join(validators)}"
    )
    console.print(f"extraData {genesis['extraData']}", soft_wrap=True)


@app.command("chaos")
def chaos_command(
    data_dir: DataDir = DEFAULT_DIR,
    seconds: Annotated[float, typer.Option("--seconds", min=5, help="how long to kill and restart")] = 120,
    seed: Annotated[int, typer.Option("--seed", help="repeat a run's choice of victims")] = 1,
    rate: Annotated[float, typer.Option("--rate", min=0.5, help="weighings per second")] = 8,
) -> None:
    """kill -9 random validators (at most f at once) and the weighing service under load, restart
    them, then check every acknowledged weighing is final exactly once and the nodes agree."""
    from devnet.chaos import run_chaos

    report = run_chaos(
        data_dir, seconds, seed, rate, progress=lambda line: console.print(f"[dim]•[/dim] {line}")
    )
    for line in report.lines():
        console.print(line, highlight=False)
    if not report.passed:
        raise typer.Exit(1)
