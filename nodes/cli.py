"""`govchain node ...`"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nodes.errors import NodeError

app = typer.Typer(help="Run a city's node.", no_args_is_help=True)


@app.command("run")
def run(config: Annotated[Path, typer.Option("--config", help="the node's TOML configuration")]) -> None:
    """Run one node in the foreground until SIGTERM or Ctrl-C."""
    from nodes.runner import run_node

    try:
        run_node(config)
    except NodeError as exc:
        typer.echo(f"govchain node: {exc}", err=True)
        raise typer.Exit(2) from None
