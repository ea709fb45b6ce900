"""What a clerk picks from: register types and the reason codes of revocations and supersessions,
with their German and English names. The chain stores only the code (uint16) and the type
(ASCII, bytes32); the names are for people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.records import short_text


@dataclass(frozen=True)
class Label:
    de: str
    en: str

    def to_json(self) -> dict[str, str]:
        return {"de": self.de, "en": self.en}


# Register extracts a Bürgeramt issues (the key is what goes on chain, right-padded ASCII).
REGISTER_TYPES: dict[str, Label] = {
    "Melderegister": Label(
        "Melderegister (Meldebescheinigung, Melderegisterauskunft)",
        "population register (registration certificate, register extract)",
    ),
    "Gewerberegister": Label(
        "Gewerberegister (Gewerberegisterauskunft)", "trade register (trade register extract)"
    ),
    "Personenstandsregister": Label(
        "Personenstandsregister (Urkunden, Registerausdrucke)",
        "civil status register (certificates, register printouts)",
    ),
    "Baulastenverzeichnis": Label(
        "Baulastenverzeichnis (Baulastenauskunft)", "register of building encumbrances (extract)"
    ),
}

OTHER_REASON = 9
REVOCATION_REASONS: dict[int, Label] = {
    1: Label("inhaltlich fehlerhaft", "content is incorrect"),
    2: Label("irrtümlich ausgestellt", "issued in error"),
    3: Label("auf Antrag der betroffenen Person", "at the request of the person concerned"),
    4: Label("Angaben nicht mehr aktuell", "information no longer current"),
    5: Label("Dokument verloren oder missbraucht", "document lost or misused"),
    OTHER_REASON: Label("sonstiger Grund", "other reason"),
}
SUPERSESSION_REASONS: dict[int, Label] = {
    10: Label("berichtigte Fassung", "corrected version"),
    11: Label("aktualisierte Fassung", "updated version"),
    OTHER_REASON: Label("sonstiger Grund", "other reason"),
}


def register_type_name(raw: bytes) -> str:
    """The ASCII name of an on-chain register type; hex if it is not printable text."""
    text = raw.rstrip(b"\0")
    if text and all(32 <= b < 127 for b in text):
        return text.decode("ascii")
    return "0x" + raw.hex()


def register_type_raw(name: str) -> bytes:
    return short_text(name)


def reason_label(code: int) -> dict[str, str]:
    label = REVOCATION_REASONS.get(code) or SUPERSESSION_REASONS.get(code)
    if label is None:
        return {"de": f"Grund {code}", "en": f"reason {code}"}
    return label.to_json()


def catalog_json(register_types: tuple[str, ...]) -> dict[str, Any]:
    return {
        "registerTypes": [
            {"name": name, "label": REGISTER_TYPES[name].to_json()}
            for name in register_types
            if name in REGISTER_TYPES
        ]
        + [
            {"name": name, "label": {"de": name, "en": name}}
            for name in register_types
            if name not in REGISTER_TYPES
        ],
        "revocationReasons": [{"code": c, "label": lab.to_json()} for c, lab in REVOCATION_REASONS.items()],
        "supersessionReasons": [
            {"code": c, "label": lab.to_json()} for c, lab in SUPERSESSION_REASONS.items()
        ],
    }
