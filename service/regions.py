"""Administrative division codes (GB/T 2260): six digits, the first two a province."""

from __future__ import annotations

import re

from .national_id import PROVINCES

__all__ = ["is_region_code", "region_matches", "region_prefix"]

_CODE = re.compile(r"^[0-9]{6}$")


def is_region_code(code: str) -> bool:
    """True for a six-digit code whose first two digits name a province."""
    return bool(_CODE.match(code)) and code[:2] in PROVINCES


def region_prefix(scope: str) -> str:
    """The significant prefix of a division code: "440000" -> "44", "440300" -> "4403"."""
    prefix = scope
    while len(prefix) > 2 and prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def region_matches(code: str, scope: str) -> bool:
    """True when `code` lies inside `scope` (a province, city or county code)."""
    return code.startswith(region_prefix(scope))
