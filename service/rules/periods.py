"""Certification periods: a calendar year, or a rolling 12 months from an anniversary."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

__all__ = [
    "PeriodWindow",
    "period_for",
    "valid_until",
    "window_for",
    "calendar_window",
    "rolling_window",
    "CALENDAR_YEAR",
    "ROLLING_12_MONTHS",
]

CALENDAR_YEAR = "calendar_year"
ROLLING_12_MONTHS = "rolling_12_months"


@dataclass(frozen=True, slots=True)
class PeriodWindow:
    """One certification period: its label and its first and last day."""

    label: str
    start: dt.date
    end: dt.date

    def due_by(self, *, grace_days: int) -> dt.date:
        """The last day to certify before the record becomes overdue."""
        return self.end + dt.timedelta(days=grace_days)


def period_for(moment: dt.datetime | dt.date) -> str:
    """The calendar-year period a moment belongs to, e.g. "2026"."""
    return f"{moment.year:04d}"


def valid_until(certified_at: dt.datetime, *, validity_days: int) -> dt.date:
    """The last day a certification made at `certified_at` is valid."""
    return (certified_at + dt.timedelta(days=validity_days)).date()


def calendar_window(day: dt.date) -> PeriodWindow:
    return PeriodWindow(
        label=period_for(day), start=dt.date(day.year, 1, 1), end=dt.date(day.year, 12, 31)
    )


def _anniversary(anchor: dt.date, year: int) -> dt.date:
    """The anchor's day in `year` (29 February becomes 28 February in common years)."""
    return dt.date(year, anchor.month, min(anchor.day, calendar.monthrange(year, anchor.month)[1]))


def rolling_window(day: dt.date, *, anchor: dt.date) -> PeriodWindow:
    """The 12 months from the latest anniversary of `anchor` on or before `day`.

    The label is the window's first day ("2026-03-15"). Days before the anchor belong to
    the first window.
    """
    day = max(day, anchor)
    start = _anniversary(anchor, day.year)
    if start > day:
        start = _anniversary(anchor, day.year - 1)
    end = _anniversary(anchor, start.year + 1) - dt.timedelta(days=1)
    return PeriodWindow(label=start.isoformat(), start=start, end=end)


def window_for(kind: str, day: dt.date, *, anchor: dt.date) -> PeriodWindow:
    if kind == ROLLING_12_MONTHS:
        return rolling_window(day, anchor=anchor)
    return calendar_window(day)
