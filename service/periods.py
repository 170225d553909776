"""Certification periods and validity."""

from __future__ import annotations

import datetime as dt

__all__ = ["period_for", "valid_until"]


def period_for(moment: dt.datetime | dt.date) -> str:
    """The certification period a moment belongs to: the calendar year, e.g. "2026"."""
    return f"{moment.year:04d}"


def valid_until(certified_at: dt.datetime, *, validity_days: int) -> dt.date:
    """The last day a certification made at `certified_at` is valid."""
    return (certified_at + dt.timedelta(days=validity_days)).date()
