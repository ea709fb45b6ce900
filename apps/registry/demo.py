"""The registry part of the main job: aachen's clerk attests a sample extract (a small PDF written to
the devnet's folder) through the registry service, so that the verification page has a document to
show, and its QR code is saved beside it."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from eth_account import Account

from apps.registry.client import RegistryClient


@dataclass(frozen=True)
class Sample:
    pdf: Path
    qr: Path
    verify_url: str
    status: str


def sample_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with a few lines of text (Helvetica, WinAnsi), built by hand."""
    text = (
        "BT /F1 14 Tf 60 780 Td 18 TL "
        + " ".join(
            "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '" for line in lines
        )
        + " ET"
    )
    stream = text.encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def attest_sample(data_dir: Path, description: dict[str, Any]) -> Sample:
    url = str(description["apps"]["registry"])
    clerk = Account.from_key(description["accounts"]["aachen"]["clerk"]["privateKey"])
    stamp = time.strftime("%d.%m.%Y %H:%M")
    pdf = sample_pdf(
        [
            "Stadt Aachen - Buergerservice",
            "Meldebescheinigung (Beispiel, devnet)",
            "",
            "Frau Erika Mustermann, geboren am 12.08.1964,",
            "ist mit alleiniger Wohnung gemeldet:",
            "Katschhof 1, 52062 Aachen",
            "",
            f"Ausgestellt am {stamp}",
            "Pruefen: QR-Code oder Datei auf der Pruefseite der Stadt",
        ]
    )
    path = data_dir / "Meldebescheinigung-Beispiel.pdf"
    path.write_bytes(pdf)
    client = RegistryClient(url, clerk)
    client.login()
    answer = client.attest(pdf, register_type="Melderegister", subject="Mustermann, Erika, 1964-08-12")
    final = client.wait_status(hashlib.sha256(pdf).digest(), lambda a: a["status"] != "pending", 60)
    qr = data_dir / "Meldebescheinigung-Beispiel-QR.png"
    qr.write_bytes(requests.get(url + answer["qr"]["png"], timeout=30).content)
    return Sample(path, qr, str(answer["verifyUrl"]), str(final["status"]))
