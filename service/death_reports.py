"""Files of deaths (the civil registry's monthly file) as a background job, through the
same bulk job machinery as bulk enrolment (service/bulk_jobs.py): each row is checked,
then recorded on its own (service/deaths.py: records suspended, certificates revoked,
links and sessions closed, audited), and its outcome kept with the job.

CSV columns (UTF-8, or GB18030 as Excel saves it in China):
    national_id, died_on, reference     required (died_on: 2026-05-03, 2026/05/03 or 20260503)
    source                              optional: civil_registry (default), hospital, funeral_home, family
    name                                optional, for the clerk (not compared)

A row names a pensioner by national ID; one enrolled outside the requester's regions is
refused as `pensioner_not_found`, like one not enrolled at all (the answer tells nothing
about other regions). The same row again (national ID, source, reference) changes nothing,
so a file sent twice is harmless.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from models import BulkKind, EnrolmentRow
from models.db import session_scope

from .actors import regions_cover
from .bulk_jobs import (
    CsvFileError,
    CsvRow,
    RowError,
    count_row,
    count_rows,
    fail_job,
    finish_job,
    flag_duplicates,
    parse_csv,
    read_csv_text,
    record_row_failure,
    start_job,
)
from .context import Services
from .deaths import DEATH_SOURCES, record_death
from .error_codes import ErrorCode
from .errors import ServiceError
from .notify import announce_changes
from .pensioners import find_pensioner_by_national_id
from .rules.national_id import NationalIdError, parse_national_id

__all__ = [
    "DEATH_COLUMNS",
    "DEFAULT_DEATH_SOURCE",
    "MAX_DEATH_ROWS",
    "parse_death_date",
    "check_death_rows",
    "run_death_reports_job",
]

DEATH_COLUMNS = ("national_id", "died_on", "reference")
"""The columns a file of deaths must have."""
DEFAULT_DEATH_SOURCE = "civil_registry"
"""The source of a row that names none (the civil registry sends these files)."""
MAX_DEATH_ROWS = 200_000
"""Rows accepted in one file (a province's month is far fewer)."""

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")


def parse_death_date(text: str) -> dt.date | None:
    """The date in one of the forms registries write (2026-05-03, 2026/05/03, 20260503), or None."""
    for form in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), form).date()
        except ValueError:
            continue
    return None


def check_death_rows(rows: Sequence[CsvRow], *, today: dt.date) -> dict[int, tuple[str, dt.date, str, str]]:
    """Check every row without writing (errors are appended to each row); returns, for
    the rows without errors, line -> (national ID, date of death, source, reference)."""
    checked: dict[int, tuple[str, dt.date, str, str]] = {}
    numbers: dict[int, str] = {}
    for row in rows:
        v = row.values
        number = None
        try:
            number = parse_national_id(v.get("national_id", ""), today=today).number
            numbers[row.line] = number
        except NationalIdError as exc:
            row.errors.append(RowError("national_id", exc.code, f"national ID number {exc}"))
        died_on = parse_death_date(v.get("died_on", ""))
        if died_on is None:
            row.errors.append(RowError("died_on", ErrorCode.DEATH_DATE_INVALID, "a date such as 2026-05-03"))
        elif died_on > today:
            row.errors.append(RowError("died_on", ErrorCode.OCCURRED_ON_FUTURE, "the date of death is in the future"))
        source = v.get("source") or DEFAULT_DEATH_SOURCE
        if source not in DEATH_SOURCES:
            row.errors.append(RowError("source", ErrorCode.DEATH_SOURCE_INVALID,
                                       f"{source[:40]} is not a source of deaths (one of {list(DEATH_SOURCES)})"))
        reference = v.get("reference", "")
        if not reference:
            row.errors.append(RowError("reference", ErrorCode.EVENT_REFERENCE_REQUIRED,
                                       "the registry's number of the death"))
        elif len(reference) > 128:
            row.errors.append(RowError("reference", ErrorCode.EVENT_REFERENCE_REQUIRED, "at most 128 characters"))
        if number is not None and died_on is not None:
            checked[row.line] = (number, died_on, source, reference)
    flag_duplicates(rows, key=lambda row: numbers.get(row.line), field_name="national_id",
                    code=ErrorCode.NATIONAL_ID_DUPLICATE, what="ID number")
    by_line = {row.line: row for row in rows}
    return {line: values for line, values in checked.items() if not by_line[line].errors}


def run_death_reports_job(services: Services, job_id: uuid.UUID) -> str:
    """Check and record every row of the job's file of deaths; returns the final state."""
    start = start_job(services, job_id, kind=BulkKind.DEATHS)
    if isinstance(start, str):
        return start
    try:
        rows = parse_csv(read_csv_text(services.store.read(start.csv_key)), required=DEATH_COLUMNS,
                         max_rows=MAX_DEATH_ROWS)
    except CsvFileError as exc:
        return fail_job(services, job_id, f"{exc.code}: {exc.message}")
    with session_scope(services.sessions) as db:
        count_rows(db, job_id, len(rows))
        db.commit()
    checked = check_death_rows(rows, today=services.clock().date())
    recorded = 0
    for row in rows:
        if row.line in start.done_lines:
            continue
        values = checked.get(row.line)
        if values is None:
            record_row_failure(services, job_id, row.line, row.errors)
            continue
        recorded += _record_row(services, job_id, row.line, values, regions=start.regions)
    if recorded:
        announce_changes(services)  # the `deceased` webhooks
    return finish_job(services, job_id)


def _record_row(services: Services, job_id: uuid.UUID, line: int, values: tuple[str, dt.date, str, str], *,
                regions: Sequence[str]) -> int:
    national_id, died_on, source, reference = values
    secret = services.settings.secret_key.get_secret_value()
    with session_scope(services.sessions) as db:
        pensioner = find_pensioner_by_national_id(db, secret=secret, national_id=national_id)
        if pensioner is None or not regions_cover(regions, pensioner.region_code):
            error = RowError("national_id", ErrorCode.PENSIONER_NOT_FOUND, "no such pensioner in your regions")
        else:
            try:
                death, _ = record_death(db, pensioner=pensioner, source=source, died_on=died_on, reference=reference,
                                        actor_type="bulk", actor_id=f"bulk:{job_id}", now=services.clock())
            except ServiceError as exc:
                db.rollback()
                error = RowError("row", exc.code, exc.message)
            else:
                db.add(EnrolmentRow(id=uuid.uuid4(), job_id=job_id, line=line, pensioner_id=pensioner.id,
                                    life_event_id=death.id, errors=[]))
                count_row(db, job_id, created=1)
                db.commit()
                return 1
    record_row_failure(services, job_id, line, [error])
    return 0
