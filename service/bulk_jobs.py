"""What every bulk CSV job shares (bulk enrolment, files of deaths; models.BulkKind): reading
the file (UTF-8, or GB18030 as Excel saves it in China), its rows with their line numbers
and errors, and the job's life: started (rows already done by an earlier run are known,
so a retried job skips them), refused as a whole, one row's outcome with the progress
counters in the same transaction, done.

One job table and one row table serve every kind (`enrolment_jobs`, `enrolment_rows`):
`rows_created` counts the rows that did what the kind does (a pensioner enrolled, a
death recorded), `rows_failed` the rows refused with their errors.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import EnrolmentJob, EnrolmentRow, JobState
from models.db import session_scope

from .context import Services
from .error_codes import ErrorCode
from .errors import ServiceError

__all__ = [
    "RowError",
    "CsvRow",
    "CsvFileError",
    "JobStart",
    "read_csv_text",
    "parse_csv",
    "flag_duplicates",
    "start_job",
    "fail_job",
    "finish_job",
    "count_rows",
    "count_row",
    "record_row_failure",
]


@dataclass(frozen=True, slots=True)
class RowError:
    field: str
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass
class CsvRow:
    line: int
    values: dict[str, str]
    errors: list[RowError] = field(default_factory=list)


class CsvFileError(ServiceError):
    status = 422


def read_csv_text(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvFileError(ErrorCode.CSV_ENCODING, "the CSV is neither UTF-8 nor GB18030 text")


def parse_csv(text: str, *, required: Sequence[str], max_rows: int) -> list[CsvRow]:
    """The file's non-empty rows, keyed by the lower-cased header names; CsvFileError when
    a required column is missing or there are more than `max_rows` rows."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise CsvFileError(ErrorCode.CSV_HEADER, f"the first line must name the columns; missing: {missing}")
    reader.fieldnames = header
    rows = []
    for index, values in enumerate(reader):
        if index >= max_rows:
            raise CsvFileError(ErrorCode.CSV_TOO_MANY_ROWS, f"at most {max_rows} rows per file")
        clean = {k: (v or "").strip() for k, v in values.items() if k is not None}
        if not any(clean.values()):
            continue
        rows.append(CsvRow(line=reader.line_num, values=clean))
    return rows


def flag_duplicates(rows: Sequence[CsvRow], *, key: Callable[[CsvRow], str | None], field_name: str,
                    code: str, what: str) -> None:
    """Every row whose `key` (None: not compared) another row of the file shares gets
    an error naming the lines."""
    seen: dict[str, list[CsvRow]] = {}
    for row in rows:
        value = key(row)
        if value is not None:
            seen.setdefault(value, []).append(row)
    for dupes in seen.values():
        if len(dupes) > 1:
            lines = [r.line for r in dupes]
            for row in dupes:
                row.errors.append(RowError(field_name, code, f"the same {what} is on lines {lines}"))


@dataclass(frozen=True, slots=True)
class JobStart:
    """A job that is to run: its files, the requester's regions, the lines done before."""

    csv_key: str
    photos_key: str | None
    regions: list[str]
    done_lines: set[int]


def start_job(services: Services, job_id: uuid.UUID, *, kind: str) -> JobStart | str:
    """Mark the job running; returns what it needs, or the state to answer when there is
    nothing to do (missing, another kind, or already ended)."""
    with session_scope(services.sessions) as db:
        job = db.get(EnrolmentJob, job_id)
        if job is None or job.kind != kind:
            return "missing"
        if job.state in (JobState.DONE, JobState.FAILED):
            return job.state
        job.state = JobState.RUNNING
        job.started_at = job.started_at or services.clock()
        start = JobStart(csv_key=job.csv_key, photos_key=job.photos_key, regions=list(job.principal_regions),
                         done_lines=set(db.scalars(select(EnrolmentRow.line).where(EnrolmentRow.job_id == job_id))))
        db.commit()
    return start


def _end(services: Services, job_id: uuid.UUID, *, state: str, error: str | None = None) -> str:
    with session_scope(services.sessions) as db:
        job = db.get(EnrolmentJob, job_id)
        assert job is not None  # read when the job started
        job.state, job.finished_at = state, services.clock()
        if error is not None:
            job.error = error
        db.commit()
    return state


def fail_job(services: Services, job_id: uuid.UUID, error: str) -> str:
    """The whole file is refused (header, encoding, a broken zip): the job fails with why."""
    return _end(services, job_id, state=JobState.FAILED, error=error)


def finish_job(services: Services, job_id: uuid.UUID) -> str:
    return _end(services, job_id, state=JobState.DONE)


def count_rows(db: Session, job_id: uuid.UUID, rows_total: int) -> None:
    """The number of rows the file has (for progress)."""
    db.execute(update(EnrolmentJob).where(EnrolmentJob.id == job_id).values(rows_total=rows_total))


def count_row(db: Session, job_id: uuid.UUID, *, created: int = 0, failed: int = 0) -> None:
    """Add one row's outcome to the job's counters (in the row's transaction)."""
    db.execute(
        update(EnrolmentJob)
        .where(EnrolmentJob.id == job_id)
        .values(rows_done=EnrolmentJob.rows_done + created + failed,
                rows_created=EnrolmentJob.rows_created + created,
                rows_failed=EnrolmentJob.rows_failed + failed)
    )


def record_row_failure(services: Services, job_id: uuid.UUID, line: int, errors: Sequence[RowError]) -> None:
    """A refused row: its errors, and the counters, in one transaction."""
    with session_scope(services.sessions) as db:
        db.add(EnrolmentRow(id=uuid.uuid4(), job_id=job_id, line=line, errors=[e.to_json() for e in errors]))
        count_row(db, job_id, failed=1)
        db.commit()
