"""`govchain registry serve`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="The registry attestation service of a city.", no_args_is_help=True)


@app.command("serve")
def serve(config: Annotated[Path, typer.Option("--config", help="the service's TOML settings")]) -> None:
    """Run the registry service (API, verification page, clerks' page) until SIGTERM or Ctrl-C."""
    from apps.registry.pages import WebAssetsMissingError
    from apps.registry.runner import serve as run
    from apps.registry.settings import RegistrySettings, SettingsError

    try:
        settings = RegistrySettings.load(config)
        run(settings)
    except (SettingsError, WebAssetsMissingError) as exc:
        typer.echo(f"govchain registry: {exc}", err=True)
        raise typer.Exit(2) from None
