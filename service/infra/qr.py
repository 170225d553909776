"""QR code images for certificates (segno: pure Python, PNG without Pillow)."""

from __future__ import annotations

import io

import segno

__all__ = ["qr_png", "QR_SCALE", "QR_BORDER"]

QR_SCALE = 6
"""Pixels per module: a certificate's compact code (version ~10) is about 400 px wide."""
QR_BORDER = 4
"""Quiet zone in modules, as the QR standard asks."""


def qr_png(text: str, *, scale: int = QR_SCALE) -> bytes:
    """A PNG of a QR code holding `text` (error correction M: survives a worn printout)."""
    code = segno.make(text, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=QR_BORDER)
    return out.getvalue()
