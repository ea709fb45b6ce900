"""The `govchain` command line: one entry point for every role of the project."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from apps.registry import cli as registry_cli
from apps.weighing import cli as weighing_cli
from bench import cli as bench_cli
from contracts.artifacts import CONTRACT_NAMES, load_artifact
from devnet import cli as devnet_cli
from governance import cli as consortium_cli
from ledger import cli as ledger_cli
from nodes import ca_cli
from nodes import cli as node_cli

app = typer.Typer(help="govchain: the permissioned ledger of the partner cities.", no_args_is_help=True)
contracts_app = typer.Typer(help="The Solidity contracts and their build artifacts.", no_args_is_help=True)
app.add_typer(contracts_app, name="contracts")
app.add_typer(node_cli.app, name="node")
app.add_typer(devnet_cli.app, name="devnet")
app.add_typer(ledger_cli.app, name="ledger")
app.add_typer(ca_cli.app, name="ca")
app.add_typer(consortium_cli.app, name="consortium")
app.add_typer(weighing_cli.app, name="weighing")
app.add_typer(weighing_cli.scales_app, name="scales")
app.add_typer(registry_cli.app, name="registry")
app.add_typer(bench_cli.app, name="bench")
app.command("verify")(ledger_cli.verify_command)
console = Console()


@app.command()
def demo(
    in_process: Annotated[
        bool, typer.Option("--in-process", help="the quick walk-through without nodes")
    ] = False,
    data_dir: Annotated[Path, typer.Option("--data-dir")] = Path("var/demo"),
    nodes: Annotated[int, typer.Option("--nodes", min=1, max=7)] = 5,
) -> None:
    """The main job: a devnet of the NRW cities, scales posting weighings, one proven offline."""
    if in_process:
        from devnet.demo import run_demo

        run_demo(console)
        return
    from devnet.showcase import run_showcase

    run_showcase(console, data_dir, nodes)


@contracts_app.command("list")
def contracts_list() -> None:
    """Show the committed artifacts: compiler, EVM version and code size."""
    table = Table("contract", "compiler", "evm", "runtime bytes")
    for name in CONTRACT_NAMES:
        artifact = load_artifact(name)
        table.add_row(
            name, artifact.compiler_version, artifact.evm_version, str(len(artifact.deployed_bytecode))
        )
    console.print(table)


if __name__ == "__main__":
    app()
