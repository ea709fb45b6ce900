"""Intake and queries of signed weighings: every check of DESIGN.md §6 before a record is acknowledged."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector

from apps.common import ServiceError
from apps.weighing.store import Row, WeighingStore
from contracts.founding import Role, city_id
from ledger.errors import ConflictError
from ledger.gateway import Gateway
from ledger.outbox import FINAL, REJECTED
from ledger.records import RecordFormatError, Weighing, domain_for, salted_ref

ROLE_OF = function_signature_to_4byte_selector("roleOf(address)")
CLEAR_KINDS = {"vehicle": "vehicle_ref", "container": "container_ref", "customer": "customer_ref"}
SCALE_CACHE_SECONDS = 30
MAX_SEQ = 2**63 - 1  # the service database's integer range; a scale counter never comes near it


class WeighingError(ServiceError):
    """A refused weighing: HTTP status, stable code, message, and the offending field."""


@dataclass(frozen=True)
class Limits:
    max_gross_kg: int = 60_000  # a loaded four-axle refuse truck stays well below
    max_clock_skew_s: int = 300  # how far a measurement may lie in the future
    max_age_days: int = 30  # how old a measurement may be when it arrives
    max_batch: int = 500


class WeighingService:
    def __init__(
        self, city: str, gateway: Gateway, store: WeighingStore, salt: bytes, limits: Limits = Limits()
    ):
        self.city = city
        self.city_id = city_id(city)
        self.gateway = gateway
        self.store = store
        self.salt = salt
        self.limits = limits
        settings = gateway.settings
        self.domain = domain_for(Weighing, settings.chain_id, settings.contracts.weighing)
        self._scales: dict[str, tuple[float, bytes, int, int]] = {}  # scale -> (read at, city, role, until)
        self._intake_lock = threading.Lock()

    # --------------------------------------------------------------- intake

    def intake(self, body: Any) -> tuple[dict[str, Any], bool]:
        """Checks and durably queues one signed weighing; returns (status, newly accepted)."""
        if not isinstance(body, dict):
            raise WeighingError(422, "invalid_body", "expected an object with record and signature")
        unknown = sorted(set(body) - {"record", "signature", "clear"})
        if unknown:
            raise WeighingError(422, "unknown_field", "unknown field", unknown[0])
        try:
            record = Weighing.from_json(body.get("record"))
        except RecordFormatError as exc:
            field = f"record.{exc.field}" if exc.field else "record"
            raise WeighingError(422, "invalid_field", exc.reason, field) from None
        signature = _signature(body.get("signature"))
        clear = self._clear_values(body.get("clear"), record)
        record_id = "0x" + record.record_id.hex()
        with self._intake_lock:  # one decision per scale and record id at a time
            existing = self.store.get(record_id)
            if existing is not None:
                item = self.gateway.status(record_id)
                same = item is not None and item.payload["record"] == record.to_json()
                if not same:
                    raise WeighingError(
                        409,
                        "record_id_used",
                        "this record id is used by a different record",
                        "record.recordId",
                    )
                return self.status(record_id), False
            self._check(record, signature)
            gap = record.seq != self._last_seq(record.scale) + 1
            try:
                self.gateway.submit("weighing", record, signature)
            except ConflictError:
                raise WeighingError(
                    409, "record_id_used", "this record id is used by a different record", "record.recordId"
                ) from None
            self.store.add(_row(record, gap), clear)
        return self.status(record_id), True

    def _check(self, record: Weighing, signature: bytes) -> None:
        try:
            signer = record.recover(self.domain, signature)
        except Exception:  # any malformed signature
            signer = None
        if signer != record.scale:
            raise WeighingError(
                422, "bad_signature", "the signature is not the scale's signature of this record", "signature"
            )
        scale_city, role, calibrated_until = self._scale(record.scale)
        if role != Role.SCALE or scale_city != self.city_id:
            raise WeighingError(
                403,
                "unknown_scale",
                f"{record.scale} is not a registered scale of {self.city}",
                "record.scale",
            )
        if record.measured_at // 1000 > calibrated_until:
            raise WeighingError(
                422,
                "calibration_expired",
                f"the scale's calibration expired at {calibrated_until} (unix seconds)",
                "record.measuredAt",
            )
        now_ms = int(time.time() * 1000)
        if record.measured_at > now_ms + self.limits.max_clock_skew_s * 1000:
            raise WeighingError(
                422,
                "clock_skew",
                "measuredAt lies in the future: check the scale's clock",
                "record.measuredAt",
            )
        if record.measured_at < now_ms - self.limits.max_age_days * 86_400_000:
            raise WeighingError(
                422,
                "too_old",
                f"measuredAt is older than {self.limits.max_age_days} days",
                "record.measuredAt",
            )
        if record.tare_kg > record.gross_kg or record.net_kg != record.gross_kg - record.tare_kg:
            raise WeighingError(422, "bad_net_weight", "netKg must equal grossKg - tareKg", "record.netKg")
        if not 0 < record.gross_kg <= self.limits.max_gross_kg:
            raise WeighingError(
                422,
                "implausible_weight",
                f"grossKg must be between 1 and {self.limits.max_gross_kg}",
                "record.grossKg",
            )
        if record.tare_mode not in (0, 1):
            raise WeighingError(
                422, "bad_tare_mode", "tareMode is 0 (measured) or 1 (stored)", "record.tareMode"
            )
        if not 10_000 <= record.avv_code <= 999_999:
            raise WeighingError(
                422, "bad_avv_code", "avvCode must be a six-digit waste code (AVV)", "record.avvCode"
            )
        if record.record_id == b"\0" * 32:
            raise WeighingError(422, "zero_record_id", "recordId must not be zero", "record.recordId")
        if record.seq > MAX_SEQ:
            raise WeighingError(422, "seq_out_of_range", f"seq must be at most {MAX_SEQ}", "record.seq")
        if record.seq <= self._last_seq(record.scale):
            raise WeighingError(
                409, "seq_replay", f"seq {record.seq} was already used by this scale", "record.seq"
            )

    def _clear_values(self, clear: Any, record: Weighing) -> dict[str, tuple[str, str]]:
        if clear is None:
            return {}
        if not isinstance(clear, dict):
            raise WeighingError(422, "invalid_field", "must be an object", "clear")
        out = {}
        for kind, value in clear.items():
            if kind not in CLEAR_KINDS or not isinstance(value, str) or not 0 < len(value) <= 200:
                raise WeighingError(
                    422, "invalid_field", "vehicle, container or customer as text", f"clear.{kind}"
                )
            ref: bytes = getattr(record, CLEAR_KINDS[kind])
            try:
                matches = salted_ref(self.salt, value) == ref
            except UnicodeEncodeError:
                raise WeighingError(
                    422, "invalid_field", "not valid text (lone surrogate)", f"clear.{kind}"
                ) from None
            if not matches:
                raise WeighingError(
                    422, "ref_mismatch", f"does not match the record's {kind}Ref", f"clear.{kind}"
                )
            out[kind] = ("0x" + ref.hex(), value)
        return out

    def _scale(self, scale: str) -> tuple[bytes, int, int]:
        cached = self._scales.get(scale)
        if cached is not None and time.monotonic() - cached[0] < SCALE_CACHE_SECONDS:
            return cached[1], cached[2], cached[3]
        data = ROLE_OF + abi_encode(["address"], [scale])
        result = self.gateway.rpc.call(
            "eth_call",
            [{"to": self.gateway.settings.contracts.consortium, "data": "0x" + data.hex()}, "latest"],
        )
        city, role, until = abi_decode(["bytes32", "uint8", "uint64"], bytes.fromhex(result[2:]))
        self._scales[scale] = (time.monotonic(), city, role, until)
        return city, role, until

    def _last_seq(self, scale: str) -> int:
        return self.store.last_seq(scale)

    # -------------------------------------------------------------- queries

    def status(self, record_id: str) -> dict[str, Any]:
        row = self.store.get(record_id)
        item = self.gateway.status(record_id)
        if row is None or item is None:
            raise WeighingError(404, "not_found", "no weighing with this record id", "recordId")
        state = {FINAL: "final", REJECTED: "rejected"}.get(item.state, "pending")
        result: dict[str, Any] = {"recordId": record_id, "status": state, "seqGap": row.seq_gap}
        if item.block_number is not None:
            result["block"] = {"number": item.block_number, "hash": item.block_hash}
        if item.tx_hash is not None:
            result["transaction"] = item.tx_hash
        if item.reason is not None:
            result["reason"] = item.reason
        if state == "final":
            result["proof"] = f"/v1/weighings/{record_id}/proof"
        return result

    def proof(self, record_id: str) -> dict[str, Any]:
        if self.status(record_id)["status"] != "final":
            raise WeighingError(409, "not_final", "the proof exists once the record is final", "recordId")
        return self.gateway.bundle(record_id)

    def forget(self, ref: str, by: str) -> bool:
        """Erases the clear value behind `ref`; the erasure itself is logged (who, when)."""
        return self.store.forget(ref, by)


def _signature(value: Any) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 132:
        raise WeighingError(
            422, "invalid_field", "must be 0x followed by 130 hex digits (65 bytes)", "signature"
        )
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise WeighingError(422, "invalid_field", "must be hex", "signature") from None


def _row(record: Weighing, gap: bool) -> Row:
    return Row(
        "0x" + record.record_id.hex(),
        record.scale,
        record.seq,
        record.measured_at,
        record.gross_kg,
        record.tare_kg,
        record.net_kg,
        record.avv_code,
        "0x" + record.vehicle_ref.hex(),
        "0x" + record.container_ref.hex(),
        "0x" + record.customer_ref.hex(),
        gap,
        time.time(),
    )
