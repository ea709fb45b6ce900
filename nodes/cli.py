"""`govchain node init|join|start|run|status`: a city's node from nothing to running."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import requests
import typer
from rich.console import Console
from rich.table import Table

from nodes.errors import NodeError

app = typer.Typer(help="Run a city's node.", no_args_is_help=True)
console = Console()
DataDir = Annotated[Path, typer.Option("--data-dir", help="the node's directory (keys, config, chain)")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[red]govchain node:[/red] {message}")
    return typer.Exit(code)


@app.command("init")
def init(
    city: Annotated[str, typer.Option("--city", help="the city's name on chain, e.g. bielefeld")],
    data_dir: DataDir,
    node_name: Annotated[str | None, typer.Option("--node-name", help="default: the city's name")] = None,
    observer: Annotated[
        bool, typer.Option("--observer", help="no validator key (e.g. a second node of a member city)")
    ] = False,
    member: Annotated[
        bool, typer.Option("--member", help="the city is already a member: no new ADMIN key")
    ] = False,
    admin: Annotated[
        str | None, typer.Option("--admin", help="use this ADMIN address instead of making a key")
    ] = None,
    peer: Annotated[list[str] | None, typer.Option("--peer", help="host:port of a node (repeat)")] = None,
    p2p_host: Annotated[
        str | None, typer.Option("--p2p-host", help="default 0.0.0.0 (127.0.0.1 with --devnet)")
    ] = None,
    p2p_port: Annotated[int, typer.Option("--p2p-port")] = 30303,
    rpc_port: Annotated[int, typer.Option("--rpc-port")] = 8545,
    ws_port: Annotated[int, typer.Option("--ws-port")] = 8546,
    devnet: Annotated[bool, typer.Option("--devnet", help="a node of a local devnet")] = False,
) -> None:
    """Create the node key, validator key and a certificate signing request; print what to send."""
    from nodes.joining import InitOptions, init_node

    options = InitOptions(
        city=city,
        data_dir=data_dir,
        node_name=node_name,
        validator=not observer,
        new_city=not member,
        admin=admin,
        peers=list(peer or []),
        p2p_host=p2p_host or ("127.0.0.1" if devnet else "0.0.0.0"),  # noqa: S104 - TLS + allow-list guard it
        p2p_port=p2p_port,
        rpc_port=rpc_port,
        ws_port=ws_port,
        devnet=devnet,
    )
    try:
        result = init_node(options)
    except (NodeError, ValueError) as exc:
        raise _fail(str(exc)) from None
    request = result.request
    console.print(f"[green]node {request.node} of {request.city} initialised in {data_dir}[/green]")
    table = Table("send to the consortium (public)", "value", title="join request")
    table.add_row("join request", str(result.request_path))
    table.add_row("certificate signing request", str(data_dir / "node.csr"))
    table.add_row("validator address", request.validator or "- (observer)")
    table.add_row("city's first ADMIN", request.admin or "- (the city is a member already)")
    table.add_row(
        "node certificate fingerprint",
        "the CA's certificate decides it: `govchain ca fingerprint node.pem`",
    )
    console.print(table)
    console.print("Secrets, kept here and never sent (owner-only files):")
    for path in result.secrets:
        console.print(f"  {path}")
    console.print(
        "Next: the CA signs node.csr, the members vote; then "
        f"`govchain node join --data-dir {data_dir} --cert node.pem --ca ca.pem --genesis genesis.json` "
        f"and `govchain node start --data-dir {data_dir}`."
    )


@app.command("join")
def join(
    data_dir: DataDir,
    cert: Annotated[Path, typer.Option("--cert", help="the certificate the CA issued for node.csr")],
    ca: Annotated[Path, typer.Option("--ca", help="the consortium CA certificate")],
    genesis: Annotated[Path | None, typer.Option("--genesis", help="the network's genesis.json")] = None,
) -> None:
    """Check the CA's certificate against this node's key and put it, the CA and the genesis in place."""
    from nodes.joining import join_node, missing_for_start

    try:
        fp = join_node(data_dir, cert, ca, genesis)
    except NodeError as exc:
        raise _fail(str(exc)) from None
    console.print(f"certificate in place; fingerprint 0x{fp.hex()} (the Consortium must allow it)")
    missing = missing_for_start(data_dir)
    for line in missing:
        console.print(f"[yellow]still missing[/yellow] {line}")
    if not missing:
        console.print(f"ready: `govchain node start --data-dir {data_dir}`")


@app.command("start")
def start(data_dir: DataDir) -> None:
    """Run the node of DIR (made by `node init`, completed by `node join`) in the foreground."""
    from nodes.joining import CONFIG, missing_for_start
    from nodes.runner import run_node

    missing = missing_for_start(data_dir)
    if missing:
        raise _fail("cannot start yet:\n  " + "\n  ".join(missing))
    try:
        run_node(data_dir / CONFIG)
    except NodeError as exc:
        raise _fail(str(exc)) from None


@app.command("run")
def run(config: Annotated[Path, typer.Option("--config", help="the node's TOML configuration")]) -> None:
    """Run one node in the foreground until SIGTERM or Ctrl-C."""
    from nodes.runner import run_node

    try:
        run_node(config)
    except NodeError as exc:
        typer.echo(f"govchain node: {exc}", err=True)
        raise typer.Exit(2) from None


def fetch_status(url: str, timeout: float = 3) -> dict[str, Any]:
    reply = requests.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": "govchain_nodeStatus", "params": []}, timeout=timeout
    )
    body = reply.json()
    if "result" not in body:
        raise ValueError(str(body.get("error")))
    result: dict[str, Any] = body["result"]
    return result


@app.command("status")
def status(
    rpc: Annotated[str, typer.Option("--rpc", help="the node's JSON-RPC URL")] = "http://127.0.0.1:8545",
) -> None:
    """Height, peers, validator role, last block, pending votes of a running node (also at URL/status)."""
    try:
        found = fetch_status(rpc)
    except (requests.RequestException, ValueError) as exc:
        raise _fail(f"{rpc}: {exc}", 1) from None
    table = Table("field", "value", title=f"node {found['name']}")
    for key in ("height", "lastBlockTime", "peers", "peerNames", "validator", "validatorAddress", "quorum"):
        table.add_row(key, str(found[key]))
    table.add_row("validators", str(len(found["validators"])))
    table.add_row("pending votes", str(found["pendingVotes"]))
    table.add_row("tx pool", str(found["txpool"]))
    console.print(table)
