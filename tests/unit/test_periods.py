"""Period windows: calendar years and rolling 12 months from an anniversary."""

from __future__ import annotations

import datetime as dt

from service.rules.periods import calendar_window, rolling_window, window_for


def test_calendar_year_window_and_grace():
    window = calendar_window(dt.date(2026, 7, 1))
    assert (window.label, window.start, window.end) == ("2026", dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert window.due_by(grace_days=31) == dt.date(2027, 1, 31)


def test_rolling_window_starts_on_the_latest_anniversary():
    anchor = dt.date(2024, 3, 15)
    before = rolling_window(dt.date(2026, 3, 14), anchor=anchor)
    on = rolling_window(dt.date(2026, 3, 15), anchor=anchor)
    assert (before.label, before.end) == ("2025-03-15", dt.date(2026, 3, 14))
    assert (on.label, on.start, on.end) == ("2026-03-15", dt.date(2026, 3, 15), dt.date(2027, 3, 14))
    # windows tile the calendar: each starts the day after the previous ends
    assert before.end + dt.timedelta(days=1) == on.start


def test_rolling_window_from_29_february_and_before_the_anchor():
    leap = dt.date(2024, 2, 29)
    assert rolling_window(dt.date(2025, 3, 1), anchor=leap).label == "2025-02-28"
    assert rolling_window(dt.date(2028, 2, 29), anchor=leap).label == "2028-02-29"
    assert rolling_window(dt.date(2023, 1, 1), anchor=leap).label == "2024-02-29"


def test_window_for_picks_the_kind():
    anchor = dt.date(2020, 6, 1)
    assert window_for("calendar_year", dt.date(2026, 5, 1), anchor=anchor).label == "2026"
    assert window_for("rolling_12_months", dt.date(2026, 5, 1), anchor=anchor).label == "2025-06-01"
