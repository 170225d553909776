"""Static files for the pages, addressed by content hash so browsers may cache them."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__all__ = ["STATIC_DIR", "STATIC_PREFIX", "asset_url", "ASSET_MAX_AGE_S"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/static"
ASSET_MAX_AGE_S = 365 * 24 * 3600
"""Versioned assets never change under the same URL, so they may be cached for a year."""


@functools.cache
def _version(relative: str) -> str:
    return hashlib.sha256((STATIC_DIR / relative).read_bytes()).hexdigest()[:12]


def asset_url(relative: str) -> str:
    """/static/<relative>?v=<hash of its bytes>."""
    return f"{STATIC_PREFIX}/{relative}?v={_version(relative)}"
