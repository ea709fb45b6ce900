"""`govchain ledger status|submit|bundle|trust|verify` and `govchain verify` for operators."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from contracts.genesis import CONSORTIUM_ADDRESS
from ledger.connect import connect
from ledger.deploy import ContractAddresses, deploy_record_contracts
from ledger.errors import LedgerError
from ledger.gateway import Gateway, GatewaySettings
from ledger.keys import load_account, passphrase
from ledger.outbox import Outbox
from ledger.records import Attestation, RecordFormatError, Revocation, Supersession, TypedRecord, Weighing
from ledger.rpc import RpcClient
from ledger.trust import trust_from_node
from ledger.verify import load_trust, verify_bundle

app = typer.Typer(help="The gateway: outbox status, submission, proof bundles.", no_args_is_help=True)
console = Console()
RECORDS: dict[str, type[TypedRecord]] = {
    "weighing": Weighing,
    "attestation": Attestation,
    "revocation": Revocation,
    "supersession": Supersession,
}
OutboxOption = Annotated[Path, typer.Option("--outbox", help="the gateway's outbox database")]
GatewayFile = Annotated[
    Path, typer.Option("--gateway", help="gateway settings JSON: outbox, nodes, chainId, contracts, keystore")
]


def _settings(path: Path) -> tuple[GatewaySettings, dict[str, Any]]:
    raw = json.loads(path.read_text())
    contracts = raw["contracts"]
    settings = GatewaySettings(
        outbox=path.parent / raw["outbox"],
        node_urls=list(raw["nodes"]),
        chain_id=int(raw["chainId"]),
        contracts=ContractAddresses(contracts["consortium"], contracts["weighing"], contracts["registry"]),
    )
    return settings, raw


def _gateway(path: Path, passphrase_file: Path | None) -> Gateway:
    settings, raw = _settings(path)
    account = load_account(path.parent / raw["keystore"], passphrase(file=passphrase_file))
    return Gateway(settings, account)


@app.command("status")
def status(outbox: OutboxOption) -> None:
    """Records by state, and the oldest that are not final yet."""
    box = Outbox(outbox)
    table = Table("state", "records")
    for state, count in sorted(box.counts().items()):
        table.add_row(state, str(count))
    console.print(table)
    for state in ("queued", "signed", "rejected"):
        for item in box.items(state, limit=5):
            console.print(f"{state:9} {item.id} {item.reason or ''}")


@app.command("submit")
def submit(
    gateway: GatewayFile,
    records: Annotated[Path, typer.Argument(help='JSON list of {"kind", "record", "signature"}')],
    passphrase_file: Annotated[Path | None, typer.Option("--passphrase-file")] = None,
    wait: Annotated[float, typer.Option(help="seconds to wait for finality")] = 60,
) -> None:
    """Queue signed records durably, submit them and wait until they are final or rejected."""
    gw = _gateway(gateway, passphrase_file)
    keys = []
    try:
        for entry in json.loads(records.read_text()):
            record = RECORDS[entry["kind"]].from_json(entry["record"])
            item, _ = gw.submit(entry["kind"], record, bytes.fromhex(entry["signature"][2:]))
            keys.append(item.id)
    except (RecordFormatError, KeyError, LedgerError) as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from None
    gw.start()
    deadline = time.monotonic() + wait
    try:
        while time.monotonic() < deadline:
            items = [gw.status(k) for k in keys]
            if all(i is not None and i.state in ("final", "rejected") for i in items):
                break
            time.sleep(0.2)
        for key in keys:
            status_of = gw.status(key)
            assert status_of is not None
            console.print(
                f"{status_of.state:9} {key} {status_of.block_number or ''} {status_of.reason or ''}"
            )
    finally:
        gw.stop()


@app.command("bundle")
def bundle(
    gateway: GatewayFile,
    key: Annotated[str, typer.Argument(help="record id, or attest:<document hash>")],
    output: Annotated[Path, typer.Option("--output", "-o")],
    passphrase_file: Annotated[Path | None, typer.Option("--passphrase-file")] = None,
) -> None:
    """Write the proof bundle of a final record."""
    gw = _gateway(gateway, passphrase_file)
    try:
        output.write_text(json.dumps(gw.bundle(key), indent=2) + "\n")
    except LedgerError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        gw.stop()
    console.print(f"wrote {output}")


@app.command("trust")
def trust(
    rpc: Annotated[str, typer.Option("--rpc")], output: Annotated[Path, typer.Option("--output", "-o")]
) -> None:
    """Write the trust file (chain id, genesis hash, genesis validators) read from a node."""
    output.write_text(json.dumps(trust_from_node(RpcClient([rpc])), indent=2) + "\n")
    console.print(f"wrote {output}: compare its genesisHash with another city's before relying on it")


@app.command("deploy")
def deploy(
    rpc: Annotated[str, typer.Option("--rpc", help="any node of the network (ours or Besu)")],
    keystore: Annotated[Path, typer.Option("--keystore", help="a city's ADMIN keystore")],
    passphrase_file: Annotated[Path | None, typer.Option("--passphrase-file")] = None,
    consortium: Annotated[str, typer.Option("--consortium")] = CONSORTIUM_ADDRESS,
) -> None:
    """Deploy WeighingLedger and RegistryAttestations bound to the Consortium (e.g. on a Besu network)."""
    try:
        admin = load_account(keystore, passphrase(file=passphrase_file))
        addresses = deploy_record_contracts(connect(rpc, [admin]), consortium, admin.address)
    except LedgerError as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(json.dumps(addresses.to_json(), indent=2))


def verify_command(
    file: Annotated[Path, typer.Argument(help="a proof bundle")],
    trust: Annotated[Path, typer.Option("--trust", help="the consortium's trust file")] = Path("trust.json"),
) -> None:
    """Check a proof bundle offline against the trust file and print the verdict."""
    try:
        bundle_json = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        console.print(f"INVALID\n  ✗ format: cannot read {file}: {exc}")
        raise typer.Exit(1) from None
    verdict = verify_bundle(bundle_json, load_trust(trust))
    console.print(verdict.describe(), highlight=False, soft_wrap=True)
    if not verdict.valid:
        raise typer.Exit(1)


app.command("verify")(verify_command)
