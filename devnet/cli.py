"""`govchain devnet up|status|down`"""

from __future__ import annotations

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
    """Height, peers and validators of each node."""
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


def _rpc(url: str, method: str, params: list[Any]) -> Any:
    response = requests.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=3
    )
    return response.json().get("result")


def _print_status(description: dict[str, object]) -> None:
    table = Table("node", "pid", "state", "height", "peers", "validators", "rpc")
    for node in description["nodes"]:  # type: ignore[attr-defined]
        alive = pid_alive(int(node["pid"]))
        height = peers = validators = "-"
        if alive:
            try:
                height = str(int(str(_rpc(node["rpc"], "eth_blockNumber", [])), 16))
                peers = str(int(str(_rpc(node["rpc"], "net_peerCount", [])), 16))
                found = _rpc(node["rpc"], "qbft_getValidatorsByBlockNumber", ["latest"])
                validators = str(len(found)) if isinstance(found, list) else "-"
            except (requests.RequestException, ValueError):
                height = "no answer"
        table.add_row(
            node["name"],
            str(node["pid"]),
            "running" if alive else "stopped",
            height,
            peers,
            validators,
            node["rpc"],
        )
    console.print(table)
