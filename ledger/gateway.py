"""One city's gateway: durable intake, a background submitter, record status and proof bundles."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from ledger.bundle import build_bundle
from ledger.deploy import ContractAddresses
from ledger.errors import LedgerError
from ledger.outbox import FINAL, KEY_PREFIX, Item, Outbox
from ledger.records import Attestation, Revocation, Supersession, TypedRecord, Weighing
from ledger.rpc import RpcClient
from ledger.submitter import Submitter, SubmitterConfig


@dataclass(frozen=True)
class GatewaySettings:
    outbox: Path
    node_urls: list[str]  # the city's own node first, then the fallbacks
    chain_id: int
    contracts: ContractAddresses
    submitter: SubmitterConfig = field(default_factory=SubmitterConfig)


def record_key(kind: str, record: TypedRecord) -> str:
    """The outbox key: a weighing's record id; for registry records, the operation and document hash."""
    if isinstance(record, Weighing):
        return "0x" + record.record_id.hex()
    assert isinstance(record, Attestation | Revocation | Supersession)
    return KEY_PREFIX[kind] + "0x" + record.document_hash.hex()


class Gateway:
    def __init__(self, settings: GatewaySettings, account: LocalAccount) -> None:
        self.settings = settings
        self.outbox = Outbox(settings.outbox)
        self.rpc = RpcClient(settings.node_urls)
        self.submitter = Submitter(
            self.outbox,
            self.rpc,
            account,
            settings.chain_id,
            settings.contracts.weighing,
            settings.contracts.registry,
            settings.submitter,
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.submitter.run, args=(self._stop,), name="submitter", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.outbox.close()

    def submit(self, kind: str, record: TypedRecord, signature: bytes) -> tuple[Item, bool]:
        """Durably stores a signed record; returns (item, newly created). Acknowledge only after this."""
        payload = {"record": record.to_json(), "signature": "0x" + signature.hex()}
        return self.outbox.enqueue(record_key(kind, record), kind, payload)

    def status(self, key: str) -> Item | None:
        return self.outbox.item(key)

    def bundle(self, key: str) -> dict[str, Any]:
        item = self.outbox.item(key)
        if item is None or item.state != FINAL or item.tx_hash is None:
            raise LedgerError(f"{key} is not final yet")
        kind = item.kind
        if kind not in ("weighing", "attestation"):
            raise LedgerError("proof bundles exist for weighings and attestations")
        record_type = Weighing if kind == "weighing" else Attestation
        record = record_type.from_json(item.payload["record"])
        contract = (
            self.settings.contracts.weighing if kind == "weighing" else self.settings.contracts.registry
        )
        signature = bytes.fromhex(item.payload["signature"][2:])
        return build_bundle(self.rpc, kind, contract, self.settings.chain_id, record, signature, item.tx_hash)
