"""`govchain weighing serve` and `govchain scales simulate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="The weighing service of a city.", no_args_is_help=True)
scales_app = typer.Typer(help="Weighing scales (a simulator for demos and load).", no_args_is_help=True)


@app.command("serve")
def serve(config: Annotated[Path, typer.Option("--config", help="the service's TOML settings")]) -> None:
    """Run the weighing service until SIGTERM or Ctrl-C."""
    from apps.weighing.runner import serve as run
    from apps.weighing.settings import SettingsError, WeighingSettings

    try:
        settings = WeighingSettings.load(config)
    except SettingsError as exc:
        typer.echo(f"govchain weighing: {exc}", err=True)
        raise typer.Exit(2) from None
    run(settings)


@app.command("token")
def token(
    config: Annotated[Path, typer.Option("--config", help="the service's TOML settings")],
    name: Annotated[str, typer.Option("--name", help="whose token (one per person)")],
    role: Annotated[
        list[str], typer.Option("--role", help="reader (search, totals) and/or privacy (erasure)")
    ],
    withdraw: Annotated[bool, typer.Option("--withdraw", help="withdraw NAME's token instead")] = False,
) -> None:
    """Issue (or withdraw) a staff member's personal token; the token is shown only now."""
    from apps.weighing.settings import SettingsError, WeighingSettings
    from apps.weighing.staff import StaffFileError, StaffRole, issue_token, withdraw_token

    try:
        settings = WeighingSettings.load(config)
        if settings.staff_tokens_file is None:
            raise SettingsError(f"{config}: set staff_tokens_file first")
        if withdraw:
            found = withdraw_token(settings.staff_tokens_file, name)
            typer.echo(f"{name}: {'withdrawn' if found else 'had no token'}")
            return
        roles = {StaffRole(r) for r in role}
        secret = issue_token(settings.staff_tokens_file, name, roles)
    except (SettingsError, StaffFileError, ValueError) as exc:
        typer.echo(f"govchain weighing: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"token for {name} ({', '.join(sorted(roles))}), shown only this once:")
    typer.echo(secret)


@scales_app.command("simulate")
def simulate(
    city: Annotated[str, typer.Option("--city")] = "aachen",
    scales: Annotated[int, typer.Option("--scales", min=1, max=200)] = 20,
    rate: Annotated[
        float, typer.Option("--rate", min=0.1, help="weighings per second, all scales together")
    ] = 50,
    duration: Annotated[float, typer.Option("--duration", min=1)] = 30,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="the devnet's directory")] = Path("var/devnet"),
) -> None:
    """Sign weighings like real scales and post them to the city's weighing service."""
    from apps.weighing.simulator import run_simulation

    run_simulation(data_dir, city, scales, rate, duration)
