"""Answers anyone may ask: a document's status (from the chain, plus what this city's outbox still
has on its way), its proof bundle, and the QR code that links to its verification page."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from apps.registry.catalog import REGISTER_TYPES, reason_label, register_type_name
from apps.registry.chain import OnChainRecord, RegistryChain
from apps.registry.errors import RegistryError
from contracts.founding import city_name
from ledger.bundle import build_bundle
from ledger.errors import LedgerError
from ledger.gateway import Gateway
from ledger.outbox import FINAL, KEY_PREFIX, QUEUED, SIGNED, Item
from ledger.records import Attestation

OPEN_STATES = (QUEUED, SIGNED)
BUNDLE_CACHE = 256


def hex32(raw: bytes) -> str:
    return "0x" + raw.hex()


@dataclass(frozen=True)
class Lookup:
    """A document as the chain has it, or as this service's outbox is about to record it."""

    document_hash: bytes
    record: OnChainRecord | None
    own: Item | None  # this service's attestation of it, in any state
    pending_change: str | None  # "revocation" / "supersession" queued here, not yet final

    @property
    def pending_attestation(self) -> Attestation | None:
        if self.record is None and self.own is not None and self.own.state in OPEN_STATES:
            return Attestation.from_json(self.own.payload["record"])
        return None


class RegistryReader:
    def __init__(self, city: str, origin: str, gateway: Gateway, chain: RegistryChain) -> None:
        self.city = city
        self.origin = origin
        self.gateway = gateway
        self.chain = chain
        self._bundles: OrderedDict[bytes, dict[str, Any]] = OrderedDict()
        self._bundle_lock = threading.Lock()

    def lookup(self, document_hash: bytes) -> Lookup:
        key = hex32(document_hash)
        pending = None
        for kind in ("revocation", "supersession"):
            item = self.gateway.status(KEY_PREFIX[kind] + key)
            if item is not None and item.state in OPEN_STATES:
                pending = kind
        own = self.gateway.status(KEY_PREFIX["attestation"] + key)
        return Lookup(document_hash, self.chain.record(document_hash), own, pending)

    def refuse_attested(self, document_hash: bytes, field: str) -> None:
        """409 when the document is attested already, on chain (by any city) or on its way here."""
        found = self.lookup(document_hash)
        if found.record is not None or found.pending_attestation is not None:
            city = city_name(found.record.city) if found.record is not None else self.city
            raise RegistryError(
                409, "already_attested", f"this document is already attested by {city}", field
            )

    def verify_url(self, document_hash: bytes) -> str:
        return f"{self.origin}/verify/{document_hash.hex()}"

    def verify(self, document_hash: bytes) -> dict[str, Any]:
        """unknown / pending / valid / expired / revoked / superseded, with issuer, clerk and dates."""
        found = self.lookup(document_hash)
        answer: dict[str, Any] = {
            "documentHash": hex32(document_hash),
            "status": "unknown",
            "verifyUrl": self.verify_url(document_hash),
        }
        record, pending = found.record, found.pending_attestation
        if record is None and pending is None:
            return answer
        links = f"/v1/attestations/{document_hash.hex()}"
        answer["qr"] = {"png": f"{links}/qr.png", "svg": f"{links}/qr.svg"}
        if pending is not None:
            return answer | _details(self.city, pending.register_type, pending) | {"status": "pending"}
        assert record is not None
        status = record.status
        if status == "valid" and record.valid_until and time.time() > record.valid_until:
            status = "expired"  # the chain says so with its next block
        answer |= _details(city_name(record.city), record.register_type, record)
        answer |= {"status": status, "recordedAt": record.recorded_at, "proof": f"{links}/proof"}
        if record.closed_as:
            answer["closed"] = {
                "at": record.closed_at,
                "by": record.closed_by,
                "reason": record.close_reason,
                "reasonLabel": reason_label(record.close_reason),
                "successor": hex32(record.successor) if status == "superseded" else None,
            }
        if found.pending_change is not None and not record.closed_as:
            answer["pendingChange"] = found.pending_change
        own = found.own
        if own is not None and own.tx_hash is not None:  # attested through this service
            answer["transaction"] = own.tx_hash
            if own.state == FINAL:  # the outbox has read the receipt
                answer["block"] = {"number": own.block_number, "hash": own.block_hash}
        return answer

    def proof(self, document_hash: bytes) -> dict[str, Any]:
        """The proof bundle (DESIGN.md §7) of a document's attestation, from whichever city."""
        with self._bundle_lock:
            cached = self._bundles.get(document_hash)
        if cached is not None:
            return cached
        found = self.lookup(document_hash)
        if found.record is None:
            if found.pending_attestation is not None:
                raise RegistryError(
                    409, "not_final", "the proof exists once the attestation is on chain", "hash"
                )
            raise RegistryError(404, "unknown_document", "no attestation of this document", "hash")
        own = found.own
        if own is not None and own.state == FINAL and own.tx_hash is not None:
            tx_hash: str | None = own.tx_hash
        else:
            tx_hash = self.chain.find_attestation_tx(document_hash, found.record.recorded_at)
        if tx_hash is None:
            raise RegistryError(404, "unknown_document", "the attesting transaction was not found", "hash")
        attestation, signature = self.chain.attestation_of_tx(tx_hash)
        settings = self.gateway.settings
        try:
            bundle = build_bundle(
                self.gateway.rpc,
                "attestation",
                settings.contracts.registry,
                settings.chain_id,
                attestation,
                signature,
                tx_hash,
            )
        except LedgerError as exc:
            raise RegistryError(409, "not_final", f"no proof yet: {exc}", "hash") from None
        with self._bundle_lock:
            self._bundles[document_hash] = bundle
            while len(self._bundles) > BUNDLE_CACHE:
                self._bundles.popitem(last=False)
        return bundle


def _details(city: str, register_type: bytes, source: OnChainRecord | Attestation) -> dict[str, Any]:
    name = register_type_name(register_type)
    label = REGISTER_TYPES.get(name)
    return {
        "city": city,
        "registerType": name,
        "registerTypeLabel": label.to_json() if label else {"de": name, "en": name},
        "clerk": source.clerk,
        "issuedAt": source.issued_at,
        "validUntil": source.valid_until,
    }
