"""QR codes (PNG and SVG, by segno: no image library needed) that link to a document's
verification page, for printing on the extract."""

from __future__ import annotations

import io
from functools import lru_cache

import segno


@lru_cache(maxsize=512)
def qr_png(url: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


@lru_cache(maxsize=512)
def qr_svg(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        out,
        kind="svg",
        scale=4,
        border=4,
        xmldecl=False,
        title="QR-Code zur Prüfung des Dokuments / QR code to verify the document",
        desc=url,
    )
    return out.getvalue()
