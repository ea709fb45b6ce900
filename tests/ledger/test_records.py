"""Wire format and signing of the EIP-712 records (DESIGN.md §6 and §8)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_account import Account
from hypothesis import given
from hypothesis import strategies as st

from ledger.records import (
    Attestation,
    Domain,
    RecordFormatError,
    Weighing,
    domain_for,
    salted_ref,
    short_text,
)

DOMAIN = domain_for(Weighing, 4242, "0x" + "ab" * 20)
SCALE = Account.from_key(b"\x07" * 32)

bytes32 = st.binary(min_size=32, max_size=32)


def uint(bits: int) -> st.SearchStrategy[int]:
    return st.integers(min_value=0, max_value=2**bits - 1)


weighings = st.builds(
    Weighing,
    record_id=bytes32,
    scale=st.just(SCALE.address),
    seq=uint(64),
    measured_at=uint(64),
    time_synced=st.booleans(),
    gross_kg=uint(32),
    tare_kg=uint(32),
    net_kg=uint(32),
    tare_mode=uint(8),
    avv_code=uint(32),
    vehicle_ref=bytes32,
    container_ref=bytes32,
    customer_ref=bytes32,
    status_flags=uint(16),
)


@given(weighings)
def test_weighing_json_round_trips_through_the_wire_format(w: Weighing) -> None:
    wire = json.loads(json.dumps(w.to_json()))
    assert Weighing.from_json(wire) == w
    assert list(wire) == [name for name, _ in Weighing.FIELDS]


def test_wire_format_uses_design_names_numbers_and_hex() -> None:
    w = Weighing(
        b"\x01" * 32,
        SCALE.address,
        7,
        1_790_000_000_123,
        True,
        100,
        40,
        60,
        1,
        200301,
        b"\x02" * 32,
        b"\x03" * 32,
        b"\x04" * 32,
        5,
    )
    wire = w.to_json()
    assert wire["recordId"] == "0x" + "01" * 32
    assert wire["scale"] == SCALE.address
    assert wire["measuredAt"] == 1_790_000_000_123 and wire["timeSynced"] is True


def _valid_wire() -> dict[str, Any]:
    return Weighing(
        b"\x01" * 32, SCALE.address, 1, 1, False, 3, 1, 2, 0, 200301, b"\0" * 32, b"\0" * 32, b"\0" * 32, 0
    ).to_json()


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("seq", -1, "between 0 and"),
        ("seq", 2**64, "between 0 and"),
        ("grossKg", "12", "must be an integer"),
        ("grossKg", 1.5, "must be an integer"),
        ("tareMode", True, "must be an integer"),
        ("timeSynced", 1, "true or false"),
        ("scale", "0x1234", "20-byte hex address"),
        ("recordId", "0x" + "zz" * 32, "64 hex digits"),
        ("recordId", "0x" + "00" * 31, "64 hex digits"),
        ("vehicleRef", None, "64 hex digits"),
    ],
)
def test_malformed_fields_are_named_with_the_reason(field: str, value: Any, reason: str) -> None:
    wire = _valid_wire()
    wire[field] = value
    with pytest.raises(RecordFormatError) as caught:
        Weighing.from_json(wire)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_missing_and_unknown_fields_are_refused() -> None:
    wire = _valid_wire()
    del wire["avvCode"]
    with pytest.raises(RecordFormatError, match="avvCode: missing"):
        Weighing.from_json(wire)
    wire = _valid_wire() | {"plate": "AC-XY 123"}
    with pytest.raises(RecordFormatError, match="plate: unknown field"):
        Weighing.from_json(wire)
    with pytest.raises(RecordFormatError, match="must be a JSON object"):
        Weighing.from_json([1, 2])


@given(weighings)
def test_signature_recovers_the_signer_and_binds_every_field(w: Weighing) -> None:
    signature = w.sign(DOMAIN, SCALE.key)
    assert len(signature) == 65 and signature[64] in (27, 28)
    assert w.recover(DOMAIN, signature) == SCALE.address
    changed = Weighing.from_json(w.to_json() | {"statusFlags": (w.status_flags + 1) % 2**16})
    assert changed.recover(DOMAIN, signature) != SCALE.address


def test_digest_depends_on_the_domain() -> None:
    w = Weighing.from_json(_valid_wire())
    other_chain = Domain(DOMAIN.name, DOMAIN.chain_id + 1, DOMAIN.verifying_contract)
    other_contract = Domain(DOMAIN.name, DOMAIN.chain_id, "0x" + "cd" * 20)
    assert len({w.digest(DOMAIN), w.digest(other_chain), w.digest(other_contract)}) == 3


def test_type_strings_are_those_of_the_design() -> None:
    assert Weighing.type_string() == (
        "Weighing(bytes32 recordId,address scale,uint64 seq,uint64 measuredAt,bool timeSynced,uint32 grossKg,"
        "uint32 tareKg,uint32 netKg,uint8 tareMode,uint32 avvCode,bytes32 vehicleRef,bytes32 containerRef,"
        "bytes32 customerRef,uint16 statusFlags)"
    )
    assert Attestation.type_string() == (
        "Attestation(bytes32 documentHash,bytes32 registerType,bytes32 subjectRef,uint64 issuedAt,"
        "uint64 validUntil,address clerk)"
    )


def test_salted_refs_hide_the_value_and_need_a_real_salt() -> None:
    salt = b"s" * 16
    assert salted_ref(salt, "AC-XY 123") != salted_ref(b"t" * 16, "AC-XY 123")
    assert salted_ref(salt, "AC-XY 123") == salted_ref(salt, "AC-XY 123")
    with pytest.raises(ValueError, match="salt"):
        salted_ref(b"short", "AC-XY 123")


def test_short_text_pads_and_refuses_long_labels() -> None:
    assert short_text("Melderegister") == b"Melderegister".ljust(32, b"\0")
    with pytest.raises(ValueError, match="longer than 32"):
        short_text("x" * 33)


def test_rejection_names_follow_the_contracts_reason_enum() -> None:
    import re
    from pathlib import Path

    from ledger.records import WEIGHING_REJECTIONS

    source = (Path(__file__).resolve().parents[2] / "contracts" / "src" / "WeighingLedger.sol").read_text()
    match = re.search(r"enum Reason \{([^}]*)\}", source)
    assert match is not None
    assert tuple(name.strip() for name in match.group(1).split(",") if name.strip()) == WEIGHING_REJECTIONS
