"""`govchain consortium status|proposals|propose|vote`: a city's ADMIN governs the consortium.

The ADMIN key comes from a keystore (passphrase from $GOVCHAIN_KEY_PASSPHRASE or a file, as for
the gateway) or, on a devnet only, from devnet.json (`--devnet DIR --as CITY`).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from eth_account import Account
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table

from governance.client import ZERO32, ZERO_ADDRESS, ConsortiumClient, Outcome
from governance.errors import GovernanceError
from governance.model import Kind, State
from ledger.errors import LedgerError
from ledger.keys import load_account, passphrase
from protocol.join_request import JoinRequest, JoinRequestError
from protocol.qbft_extra import quorum

app = typer.Typer(
    help="Consortium governance: admit or remove cities, nodes, validators.", no_args_is_help=True
)
console = Console()
Rpc = Annotated[str | None, typer.Option("--rpc", help="a node's JSON-RPC URL")]
Devnet = Annotated[Path | None, typer.Option("--devnet", help="a devnet's directory (dev keys, nodes)")]
AsCity = Annotated[str | None, typer.Option("--as", help="devnet only: sign as this city's dev ADMIN")]
Keystore = Annotated[Path | None, typer.Option("--keystore", help="the city's ADMIN keystore")]
PassFile = Annotated[Path | None, typer.Option("--passphrase-file", help="else $GOVCHAIN_KEY_PASSPHRASE")]
Wait = Annotated[bool, typer.Option("--wait", help="wait until the QBFT validator set follows")]


def _devnet(path: Path) -> dict[str, Any]:
    try:
        found: dict[str, Any] = json.loads((path / "devnet.json").read_text())
    except (OSError, ValueError) as exc:
        raise GovernanceError(f"no devnet at {path}: {exc}") from None
    return found


def _client(rpc: str | None, devnet: Path | None, as_city: str | None, keystore: Path | None = None,
            passphrase_file: Path | None = None) -> ConsortiumClient:  # fmt: skip
    signer: LocalAccount | None = None
    if keystore is not None:
        signer = load_account(keystore, passphrase(file=passphrase_file))
    if devnet is not None:
        description = _devnet(devnet)
        if as_city is not None and signer is None:
            accounts = description["accounts"]
            if as_city not in accounts:
                raise GovernanceError(f"the devnet has no dev keys for {as_city!r} ({', '.join(accounts)})")
            signer = Account.from_key(accounts[as_city]["admin"]["privateKey"])
        if rpc is None:
            own = [n["rpc"] for n in description["nodes"] if n["name"] == as_city]
            rpc = (own or [n["rpc"] for n in description["nodes"]])[0]
    if rpc is None:
        raise GovernanceError("which node? give --rpc URL (or --devnet DIR)")
    return ConsortiumClient(rpc, signer)


def _run(action: Any) -> None:
    try:
        action()
    except (GovernanceError, LedgerError, JoinRequestError) as exc:
        console.print(f"[red]refused:[/red] {exc}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from None


def _when(unix: int) -> str:
    return datetime.datetime.fromtimestamp(unix, datetime.UTC).strftime("%Y-%m-%d %H:%M")


def _report(client: ConsortiumClient, outcome: Outcome, wait: bool) -> None:
    state = outcome.state.name.lower()
    console.print(
        f"proposal {outcome.proposal}: {state} (yes {outcome.yes}, no {outcome.no} of "
        f"{outcome.members} members) in block {outcome.block}",
        soft_wrap=True,
    )
    for event in outcome.events:
        console.print(f"  {event}", soft_wrap=True, highlight=False)
    if outcome.state != State.EXECUTED or not any("Validator" in e for e in outcome.events):
        return
    if not wait:
        console.print(
            "The validators now vote the change into the QBFT header: `govchain consortium status`."
        )
        return
    console.print("waiting for the validators' header votes ...")
    height = client.wait_for_validator_sync(outcome.block)
    if height is None:
        raise GovernanceError("the QBFT validator set did not follow within 180 s (are the validators up?)")
    count = len(client.header_validators())
    console.print(
        f"[green]in effect from block {height}[/green] (its header votes reached the majority): "
        f"{count} validators seal from block {height + 1} on, quorum {quorum(count)}"
    )


@app.command("status")
def status(rpc: Rpc = None, devnet: Devnet = None) -> None:
    """Members, their validators and nodes, the QBFT validator set and open proposals."""

    def show() -> None:
        client = _client(rpc, devnet, None)
        validators, nodes = client.validators(), client.nodes()
        table = Table("city", "validators", "node certificates", title="Consortium members")
        for city in client.members():
            table.add_row(
                city,
                "\n".join(v for v, c in validators.items() if c == city) or "-",
                "\n".join(fp[:18] + "…" for fp, c in nodes.items() if c == city) or "-",
            )
        console.print(table)
        header = client.header_validators()
        to_add, to_drop = client.validator_sync()
        console.print(
            f"QBFT validators at block {client.head()}: {len(header)} (quorum {quorum(len(header))})"
        )
        if to_add or to_drop:
            console.print(f"  differs from the Consortium's list: add {to_add or '-'}, drop {to_drop or '-'}")
            votes = client.pending_header_votes()
            shown = ", ".join(f"{'add' if add else 'drop'} {a}" for a, add in votes.items()) or "none"
            console.print(f"  header votes this node proposes: {shown}")
            console.print("  (a founding validator without a node is listed but not voted in)")
        else:
            console.print("  the same as the Consortium's list")
        console.print(f"open proposals: {len(client.proposals(only_open=True))}")

    _run(show)


@app.command("proposals")
def proposals(
    rpc: Rpc = None, devnet: Devnet = None, all_: Annotated[bool, typer.Option("--all")] = False
) -> None:
    """Open proposals (all with --all): kind, city, subject, votes, state, deadline."""

    def show() -> None:
        client = _client(rpc, devnet, None)
        members = len(client.members())
        table = Table("id", "kind", "city", "subject", "yes", "no", "needed", "state", "deadline (UTC)", "by")
        for p in client.proposals(only_open=not all_):
            votes = [str(p.yes), str(p.no), str(members // 2 + 1)]
            table.add_row(
                str(p.id), p.kind.label, p.city, p.subject(), *votes, p.state.name.lower(), _when(p.deadline),
                p.proposer_city,
            )  # fmt: skip
        console.print(table)

    _run(show)


def _fingerprint(cert: Path) -> bytes:
    try:
        certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    except (OSError, ValueError) as exc:
        raise GovernanceError(f"certificate {cert}: {exc}") from None
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()


@app.command("propose")
def propose(
    kind: Annotated[str, typer.Argument(help=", ".join(k.label for k in Kind))],
    city: Annotated[str | None, typer.Option("--city", help="the city concerned")] = None,
    admin: Annotated[str | None, typer.Option("--admin", help="admit-city/add-member: its ADMIN")] = None,
    validator: Annotated[str | None, typer.Option("--validator", help="the validator address")] = None,
    fingerprint: Annotated[str | None, typer.Option("--fingerprint", help="node certificate SHA-256")] = None,
    request: Annotated[Path | None, typer.Option("--request", help="a city's join-request.json")] = None,
    cert: Annotated[Path | None, typer.Option("--cert", help="the node certificate the CA issued")] = None,
    rpc: Rpc = None, devnet: Devnet = None, as_city: AsCity = None, keystore: Keystore = None,
    passphrase_file: PassFile = None, wait: Wait = False,
) -> None:  # fmt: skip
    """Propose a change; your city's yes vote counts at once. Takes effect with more than half."""

    def act() -> None:
        labels = {k.label: k for k in Kind}
        if kind not in labels:
            raise GovernanceError(f"unknown kind {kind!r}: {', '.join(labels)}")
        chosen = labels[kind]
        subject_city, admin_address, validator_address = city, admin, validator
        if request is not None:
            join = JoinRequest.load(request)
            subject_city = subject_city or join.city
            admin_address = admin_address or join.admin
            validator_address = validator_address or join.validator
        fp = ZERO32
        if cert is not None:
            fp = _fingerprint(cert)
        elif fingerprint is not None:
            fp = bytes.fromhex(fingerprint.removeprefix("0x"))
        if chosen in (Kind.ADMIT_CITY, Kind.ADD_MEMBER) and admin_address is None:
            raise GovernanceError(f"{kind} needs --admin (or --request with the city's join request)")
        if chosen in (Kind.ALLOW_NODE, Kind.REVOKE_NODE) and fp == ZERO32:
            raise GovernanceError(f"{kind} needs --cert or --fingerprint")
        account = admin_address or ZERO_ADDRESS
        if chosen in (Kind.ADD_VALIDATOR, Kind.REMOVE_VALIDATOR):
            account = validator_address or ""
        client = _client(rpc, devnet, as_city, keystore, passphrase_file)
        outcome = client.propose(chosen, subject_city, account, fp, validator_address or ZERO_ADDRESS)
        _report(client, outcome, wait)

    _run(act)


@app.command("vote")
def vote(
    proposal: Annotated[int, typer.Argument(help="the proposal id (`govchain consortium proposals`)")],
    yes: Annotated[bool, typer.Option("--yes/--no", help="for or against")],
    rpc: Rpc = None, devnet: Devnet = None, as_city: AsCity = None, keystore: Keystore = None,
    passphrase_file: PassFile = None, wait: Wait = False,
) -> None:  # fmt: skip
    """Vote on an open proposal with your city's ADMIN key."""

    def act() -> None:
        client = _client(rpc, devnet, as_city, keystore, passphrase_file)
        _report(client, client.vote(proposal, yes), wait)

    _run(act)
