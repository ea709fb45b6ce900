"""The EIP-712 records of DESIGN.md §6: their wire format (JSON), signing, digests and recovery.

Field names on the wire and in the EIP-712 types are exactly those of DESIGN.md; integers are
JSON numbers, addresses and bytes32 are 0x-hex.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from typing import Any, ClassVar, Self

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils.address import is_hex_address, to_checksum_address
from eth_utils.crypto import keccak

WEIGHING_DOMAIN = "govchain-weighing"
# WeighingLedger.Reason, by code: why the contract refused a weighing.
WEIGHING_REJECTIONS = (
    "None",
    "BadSignature",
    "NotAScale",
    "WrongCity",
    "CalibrationExpired",
    "BadNetWeight",
    "BadTareMode",
    "ZeroRecordId",
    "DuplicateRecord",
    "SeqReplay",
)
REGISTRY_DOMAIN = "govchain-registry"
DOMAIN_VERSION = "1"


class RecordFormatError(ValueError):
    """A record field is missing or malformed; `field` names it on the wire."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Domain:
    name: str
    chain_id: int
    verifying_contract: str
    version: str = DOMAIN_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }


def _check_field(name: str, sol_type: str, value: Any) -> Any:
    """Validates one decoded value against its Solidity type; returns the canonical Python value."""
    if sol_type == "bool":
        if not isinstance(value, bool):
            raise RecordFormatError(name, "must be true or false")
        return value
    if sol_type.startswith("uint"):
        bits = int(sol_type[4:])
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecordFormatError(name, "must be an integer")
        if not 0 <= value < 2**bits:
            raise RecordFormatError(name, f"must be between 0 and {2**bits - 1}")
        return value
    if sol_type == "address":
        if not isinstance(value, str) or not is_hex_address(value):
            raise RecordFormatError(name, "must be a 0x-prefixed 20-byte hex address")
        return to_checksum_address(value)
    if sol_type == "bytes32":
        if isinstance(value, bytes):
            raw = value
        elif isinstance(value, str) and value.startswith("0x") and len(value) == 66:
            try:
                raw = bytes.fromhex(value[2:])
            except ValueError:
                raise RecordFormatError(name, "must be 0x followed by 64 hex digits") from None
        else:
            raise RecordFormatError(name, "must be 0x followed by 64 hex digits")
        if len(raw) != 32:
            raise RecordFormatError(name, "must be 32 bytes")
        return raw
    raise AssertionError(f"unsupported type {sol_type}")


@dataclass(frozen=True)
class TypedRecord:
    """Base of the EIP-712 records; subclasses list (wire name, Solidity type) per dataclass field."""

    PRIMARY_TYPE: ClassVar[str]
    DOMAIN_NAME: ClassVar[str]
    FIELDS: ClassVar[tuple[tuple[str, str], ...]]

    def __post_init__(self) -> None:
        for f, (wire, sol_type) in zip(fields(self), self.FIELDS, strict=True):
            object.__setattr__(self, f.name, _check_field(wire, sol_type, getattr(self, f.name)))

    @classmethod
    def type_string(cls) -> str:
        return f"{cls.PRIMARY_TYPE}({','.join(f'{t} {n}' for n, t in cls.FIELDS)})"

    @classmethod
    def type_hash(cls) -> bytes:
        return keccak(text=cls.type_string())

    @classmethod
    def from_json(cls, data: Any) -> Self:
        if not isinstance(data, dict):
            raise RecordFormatError("", "must be a JSON object")  # "": the record itself
        unknown = sorted(set(data) - {n for n, _ in cls.FIELDS})
        if unknown:
            raise RecordFormatError(unknown[0], "unknown field")
        values = []
        for wire, _ in cls.FIELDS:
            if wire not in data:
                raise RecordFormatError(wire, "missing")
            values.append(data[wire])
        return cls(*values)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for (wire, _), value in zip(self.FIELDS, astuple(self), strict=True):
            out[wire] = "0x" + value.hex() if isinstance(value, bytes) else value
        return out

    def as_abi(self) -> tuple[Any, ...]:
        """The record as the tuple a contract function takes."""
        return astuple(self)

    def signable(self, domain: Domain) -> SignableMessage:
        return encode_typed_data(
            full_message={
                "types": {
                    "EIP712Domain": [
                        {"name": "name", "type": "string"},
                        {"name": "version", "type": "string"},
                        {"name": "chainId", "type": "uint256"},
                        {"name": "verifyingContract", "type": "address"},
                    ],
                    self.PRIMARY_TYPE: [{"name": n, "type": t} for n, t in self.FIELDS],
                },
                "primaryType": self.PRIMARY_TYPE,
                "domain": domain.to_json(),
                "message": dict(zip((n for n, _ in self.FIELDS), astuple(self), strict=True)),
            }
        )

    def digest(self, domain: Domain) -> bytes:
        """keccak256(0x1901 ‖ domainSeparator ‖ structHash): what the signer signs."""
        message = self.signable(domain)
        return keccak(b"\x19" + message.version + message.header + message.body)

    def sign(self, domain: Domain, private_key: bytes | str) -> bytes:
        """65-byte r‖s‖v signature (v = 27 or 28), as ecrecover and OpenZeppelin's ECDSA expect."""
        signed = Account.sign_message(self.signable(domain), private_key)
        return bytes(signed.signature)

    def recover(self, domain: Domain, signature: bytes) -> str:
        return str(Account.recover_message(self.signable(domain), signature=signature))


@dataclass(frozen=True)
class Weighing(TypedRecord):
    PRIMARY_TYPE: ClassVar[str] = "Weighing"
    DOMAIN_NAME: ClassVar[str] = WEIGHING_DOMAIN
    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("recordId", "bytes32"),
        ("scale", "address"),
        ("seq", "uint64"),
        ("measuredAt", "uint64"),
        ("timeSynced", "bool"),
        ("grossKg", "uint32"),
        ("tareKg", "uint32"),
        ("netKg", "uint32"),
        ("tareMode", "uint8"),
        ("avvCode", "uint32"),
        ("vehicleRef", "bytes32"),
        ("containerRef", "bytes32"),
        ("customerRef", "bytes32"),
        ("statusFlags", "uint16"),
    )

    record_id: bytes
    scale: str
    seq: int
    measured_at: int
    time_synced: bool
    gross_kg: int
    tare_kg: int
    net_kg: int
    tare_mode: int
    avv_code: int
    vehicle_ref: bytes
    container_ref: bytes
    customer_ref: bytes
    status_flags: int


@dataclass(frozen=True)
class Attestation(TypedRecord):
    PRIMARY_TYPE: ClassVar[str] = "Attestation"
    DOMAIN_NAME: ClassVar[str] = REGISTRY_DOMAIN
    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("documentHash", "bytes32"),
        ("registerType", "bytes32"),
        ("subjectRef", "bytes32"),
        ("issuedAt", "uint64"),
        ("validUntil", "uint64"),
        ("clerk", "address"),
    )

    document_hash: bytes
    register_type: bytes
    subject_ref: bytes
    issued_at: int
    valid_until: int
    clerk: str


@dataclass(frozen=True)
class Revocation(TypedRecord):
    PRIMARY_TYPE: ClassVar[str] = "Revocation"
    DOMAIN_NAME: ClassVar[str] = REGISTRY_DOMAIN
    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("documentHash", "bytes32"),
        ("reason", "uint16"),
        ("clerk", "address"),
    )

    document_hash: bytes
    reason: int
    clerk: str


@dataclass(frozen=True)
class Supersession(TypedRecord):
    PRIMARY_TYPE: ClassVar[str] = "Supersession"
    DOMAIN_NAME: ClassVar[str] = REGISTRY_DOMAIN
    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("documentHash", "bytes32"),
        ("successorHash", "bytes32"),
        ("reason", "uint16"),
        ("clerk", "address"),
    )

    document_hash: bytes
    successor_hash: bytes
    reason: int
    clerk: str


def domain_for(record_type: type[TypedRecord], chain_id: int, verifying_contract: str) -> Domain:
    return Domain(name=record_type.DOMAIN_NAME, chain_id=chain_id, verifying_contract=verifying_contract)


def salted_ref(salt: bytes, value: str) -> bytes:
    """A salted hash of a personal value (plate, customer number, name), the only form that goes on chain."""
    if len(salt) < 16:
        raise ValueError("salt must have at least 16 bytes")
    return keccak(salt + value.encode("utf-8"))


def short_text(value: str) -> bytes:
    """An ASCII label (e.g. a register type) right-padded to bytes32."""
    raw = value.encode("ascii")
    if len(raw) > 32:
        raise ValueError(f"{value!r} is longer than 32 bytes")
    return raw.ljust(32, b"\0")
