"""`govchain ca init|sign|fingerprint`: the consortium CA for real deployments (the devnet makes its own)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from nodes.p2p.pki import create_ca, fingerprint, load_ca, sign_csr
from protocol.join_request import JoinRequest

app = typer.Typer(
    help="The consortium's certificate authority for node TLS certificates.", no_args_is_help=True
)
PASSPHRASE_ENV = "GOVCHAIN_CA_PASSPHRASE"  # noqa: S105 - the name of a variable, not a passphrase
CaDir = Annotated[Path, typer.Option("--ca-dir", help="holds ca.key (encrypted) and ca.pem")]


def _passphrase() -> bytes:
    value = os.environ.get(PASSPHRASE_ENV)
    if not value or len(value) < 12:
        typer.echo(f"set ${PASSPHRASE_ENV} to a passphrase of at least 12 characters", err=True)
        raise typer.Exit(2)
    return value.encode()


@app.command("init")
def init(ca_dir: CaDir, name: Annotated[str, typer.Option()] = "govchain consortium CA") -> None:
    """Create the CA key (encrypted with $GOVCHAIN_CA_PASSPHRASE) and its certificate."""
    if (ca_dir / "ca.key").exists():
        typer.echo(f"{ca_dir / 'ca.key'} exists: refusing to overwrite a CA", err=True)
        raise typer.Exit(1)
    ca_dir.mkdir(parents=True, exist_ok=True)
    create_ca(name).write(ca_dir / "ca.key", ca_dir / "ca.pem", _passphrase())
    typer.echo(f"wrote {ca_dir / 'ca.pem'} (share it) and {ca_dir / 'ca.key'} (keep it offline)")


@app.command("sign")
def sign(
    ca_dir: CaDir,
    csr: Annotated[
        Path, typer.Argument(help="a node's certificate signing request (PEM) or its join-request.json")
    ],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="default: CSR with .pem")] = None,
) -> None:
    """Issue a node certificate for a CSR; prints the fingerprint to put in the Consortium proposal."""
    key_pem = (ca_dir / "ca.key").read_bytes()
    if b"ENCRYPTED" in key_pem:
        ca = load_ca(ca_dir / "ca.key", ca_dir / "ca.pem", _passphrase())
    else:  # the devnet's CA: its key is a development key in clear
        typer.echo(f"note: {ca_dir / 'ca.key'} is not encrypted (a devnet CA)", err=True)
        ca = load_ca(ca_dir / "ca.key", ca_dir / "ca.pem")
    target = output or csr.with_suffix(".pem")
    try:
        pem = csr.read_text()
        if pem.lstrip().startswith("{"):
            request = JoinRequest.from_json(json.loads(pem))
            pem, target = request.csr, output or csr.with_name(f"{request.node}.pem")
        cert = sign_csr(ca, x509.load_pem_x509_csr(pem.encode()))
    except ValueError as exc:  # JoinRequestError and JSONDecodeError are ValueErrors too
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from None
    target.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    typer.echo(f"wrote {target}; fingerprint 0x{fingerprint(cert).hex()}")


@app.command("fingerprint")
def fingerprint_command(cert: Annotated[Path, typer.Argument(help="a certificate (PEM)")]) -> None:
    """The SHA-256 fingerprint the Consortium contract lists for a node."""
    typer.echo("0x" + fingerprint(x509.load_pem_x509_certificate(cert.read_bytes())).hex())
