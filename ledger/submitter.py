"""The background submitter: batches queued records into transactions, keeps nonces gap-free, resends
what was dropped and settles every record as final or rejected from its transaction's receipt.

Every step is idempotent against the outbox, so after a crash the next run simply continues:
a signed but unsent transaction is sent (same bytes, same hash), a sent one without receipt is
resent, a receipt that was not yet recorded is recorded. One submitter per gateway account.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract

from contracts.artifacts import load_artifact
from contracts.errors import describe_error
from ledger.errors import LedgerError, RpcCallError
from ledger.events import decode_rpc_log
from ledger.outbox import FINAL, KEY_PREFIX, REJECTED, Outbox, StoredTx
from ledger.records import WEIGHING_REJECTIONS, Attestation, Revocation, Supersession, Weighing, domain_for
from ledger.rpc import RpcClient

log = logging.getLogger("govchain.ledger")
GAS_PER_WEIGHING = 150_000
GAS_PER_ATTESTATION = 400_000
EVENT_KINDS = {"Attested": "attestation", "Revoked": "revocation", "Superseded": "supersession"}
CRASH_ENV = "GOVCHAIN_LEDGER_CRASH_AT"  # tests only: after_sign | after_send | after_receipt


def _maybe_crash(point: str) -> None:
    if os.environ.get(CRASH_ENV) == point:
        os._exit(137)


@dataclass(frozen=True)
class SubmitterConfig:
    batch_size: int = 100
    max_in_flight: int = 8
    resend_after: float = 15.0


class Submitter:
    def __init__(
        self,
        outbox: Outbox,
        rpc: RpcClient,
        gateway: LocalAccount,
        chain_id: int,
        weighing_contract: str,
        registry_contract: str,
        config: SubmitterConfig = SubmitterConfig(),
    ) -> None:
        self.outbox = outbox
        self.rpc = rpc
        self.gateway = gateway
        self.chain_id = chain_id
        self.config = config
        codec = Web3()
        self.weighing: Contract = codec.eth.contract(
            address=Web3.to_checksum_address(weighing_contract), abi=load_artifact("WeighingLedger").abi
        )
        self.registry: Contract = codec.eth.contract(
            address=Web3.to_checksum_address(registry_contract), abi=load_artifact("RegistryAttestations").abi
        )
        self.weighing_domain = domain_for(Weighing, chain_id, weighing_contract)
        self.on_settled: Callable[[list[str]], None] = lambda _: None

    # --------------------------------------------------------------- cycle

    def step(self) -> None:
        self.reconcile()
        self.send_queued()

    def run(self, stop: threading.Event, interval: float = 0.2) -> None:
        while not stop.is_set():
            try:
                self.step()
            except LedgerError as exc:
                log.warning("submitter: %s", exc)
                stop.wait(1)
            stop.wait(interval)

    # ----------------------------------------------------------- receipts

    def reconcile(self) -> None:
        for tx in self.outbox.open_txs():
            receipt = self.rpc.call("eth_getTransactionReceipt", [tx.hash])
            if receipt is not None:
                self._settle(tx, receipt)
                continue
            due = tx.sent_at is None or time.time() - tx.sent_at > self.config.resend_after
            if due and not self._send(tx):
                break

    def _send(self, tx: StoredTx) -> bool:
        """Sends (or resends) the stored bytes; False stops sending higher nonces this cycle."""
        try:
            self.rpc.call("eth_sendRawTransaction", ["0x" + tx.raw.hex()])
        except RpcCallError as exc:
            text = exc.message.lower()
            if "already known" in text or "known transaction" in text:
                pass
            elif "nonce too low" in text:
                # Our nonce is used: by this very transaction (its receipt will show) or by another.
                if self.rpc.call("eth_getTransactionByHash", [tx.hash]) is None:
                    log.warning("nonce %d was used by another transaction; requeueing its records", tx.nonce)
                    self.outbox.fail(tx.nonce, requeue=True, reason="nonce used elsewhere")
                return True
            else:
                log.warning("node refused transaction %s (nonce %d): %s", tx.hash, tx.nonce, exc.message)
                self.outbox.fail(tx.nonce, requeue=False, reason=f"refused by the node: {exc.message}")
                return False
        self.outbox.mark_sent(tx.nonce)
        _maybe_crash("after_send")
        return True

    def _settle(self, tx: StoredTx, receipt: dict[str, Any]) -> None:
        _maybe_crash("after_receipt")
        block_number, block_hash = int(receipt["blockNumber"], 16), str(receipt["blockHash"])
        items = self.outbox.items_of_tx(tx.nonce)
        if receipt["status"] != "0x1":
            reason = self._revert_reason(tx)
            self.outbox.fail(tx.nonce, requeue=False, reason=f"transaction reverted: {reason}")
            self.on_settled([i.id for i in items])
            return
        events = [e for e in (decode_rpc_log(log) for log in receipt["logs"]) if e is not None]
        outcomes: dict[str, tuple[str, str | None]] = {}
        for name, args in events:
            if name == "WeighingRecorded":
                outcomes["0x" + args["recordId"].hex()] = (FINAL, None)
            elif name == "WeighingRejected":
                record_id = "0x" + args["recordId"].hex()
                outcomes[record_id] = self._weighing_rejection(record_id, int(args["reason"]), items)
            elif name in ("Attested", "Revoked", "Superseded"):
                key = KEY_PREFIX[EVENT_KINDS[name]] + "0x" + args["documentHash"].hex()
                outcomes[key] = (FINAL, None)
        for item in items:
            outcomes.setdefault(item.id, (REJECTED, "no event for this record in its transaction"))
        self.outbox.settle(tx.nonce, outcomes, block_number, block_hash)
        self.on_settled(list(outcomes))

    def _weighing_rejection(self, record_id: str, reason: int, items: list[Any]) -> tuple[str, str | None]:
        name = WEIGHING_REJECTIONS[reason] if reason < len(WEIGHING_REJECTIONS) else str(reason)
        if name == "DuplicateRecord":
            # Recorded before (e.g. by an earlier transaction whose receipt we never saw): if the
            # chain holds exactly this record, it is final.
            item = next((i for i in items if i.id == record_id), None)
            entry = self.weighing.functions.getWeighing(bytes.fromhex(record_id[2:]))
            stored = self.rpc.call(
                "eth_call",
                [{"to": self.weighing.address, "data": entry._encode_transaction_data()}, "latest"],
            )
            digest = bytes.fromhex(stored[2:66]) if stored and len(stored) >= 66 else b""
            if item is not None:
                record = Weighing.from_json(item.payload["record"])
                if digest == record.digest(self.weighing_domain):
                    return FINAL, None
        return REJECTED, name

    def _revert_reason(self, tx: StoredTx) -> str:
        """Replays the call to read its revert data (receipts do not carry it)."""
        fields = TypedTransaction.from_bytes(HexBytes(tx.raw)).as_dict()
        call = {
            "from": self.gateway.address,
            "to": Web3.to_checksum_address(fields["to"]),
            "data": "0x" + bytes(fields["data"]).hex(),
        }
        try:
            self.rpc.call("eth_call", [call, "latest"])
        except RpcCallError as exc:
            if isinstance(exc.data, str) and exc.data.startswith("0x") and len(exc.data) > 2:
                return describe_error(bytes.fromhex(exc.data[2:]))
            return exc.message
        return "unknown"

    # -------------------------------------------------------------- sending

    def _next_nonce(self) -> int:
        stored = self.outbox.next_nonce()
        on_chain = int(self.rpc.call("eth_getTransactionCount", [self.gateway.address, "latest"]), 16)
        return on_chain if stored is None else max(stored, on_chain)

    def send_queued(self) -> None:
        in_flight = len(self.outbox.open_txs())
        while in_flight < self.config.max_in_flight:
            built = self._build_next()
            if built is None:
                return
            nonce, tx_hash, raw, kind, ids = built
            self.outbox.store_signed(nonce, tx_hash, raw, kind, ids)
            _maybe_crash("after_sign")
            in_flight += 1
            if not self._send(StoredTx(nonce, tx_hash, raw, kind, "signed", None, 0)):
                return

    def _build_next(self) -> tuple[int, str, bytes, str, list[str]] | None:
        weighings = self.outbox.queued("weighing", self.config.batch_size)
        if weighings:
            records = [Weighing.from_json(i.payload["record"]).as_abi() for i in weighings]
            signatures = [bytes.fromhex(i.payload["signature"][2:]) for i in weighings]
            data = self.weighing.encode_abi("submitBatch", [records, signatures])
            gas = GAS_PER_WEIGHING * len(weighings) + 100_000
            return self._sign(self.weighing.address, data, gas, "weighing", [i.id for i in weighings])
        for kind, function in (
            ("attestation", "attest"),
            ("revocation", "revoke"),
            ("supersession", "supersede"),
        ):
            queued = self.outbox.queued(kind, 1)
            if queued:
                item = queued[0]
                record = _REGISTRY_RECORDS[kind].from_json(item.payload["record"])
                data = self.registry.encode_abi(
                    function, [record.as_abi(), bytes.fromhex(item.payload["signature"][2:])]
                )
                return self._sign(self.registry.address, data, GAS_PER_ATTESTATION, kind, [item.id])
        return None

    def _sign(
        self, to: str, data: str, gas: int, kind: str, ids: list[str]
    ) -> tuple[int, str, bytes, str, list[str]]:
        nonce = self._next_nonce()
        signed = Account.sign_transaction(
            {
                "nonce": nonce,
                "to": to,
                "data": data,
                "gas": gas,
                "value": 0,
                "maxFeePerGas": 0,
                "maxPriorityFeePerGas": 0,
                "chainId": self.chain_id,
                "type": 2,
            },
            self.gateway.key,
        )
        raw = bytes(signed.raw_transaction)
        return nonce, "0x" + keccak(raw).hex(), raw, kind, ids


_REGISTRY_RECORDS: dict[str, type[Attestation | Revocation | Supersession]] = {
    "attestation": Attestation,
    "revocation": Revocation,
    "supersession": Supersession,
}
