"""Exports of the results feed: streamed CSV / NDJSON, and background export jobs.

Formatting is done a batch of rows at a time into one text chunk, so a streamed
response sends a few hundred kilobytes per write and memory stays flat.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy.orm import Session

from models import ExportJob, JobState
from models.db import session_scope

from .context import Services
from .errors import InvalidInputError
from .results import (
    RESULT_FIELDS,
    ResultFilters,
    count_results,
    encode_cursor,
    latest_change,
    row_of,
    stream_results,
)

__all__ = [
    "EXPORT_FORMATS",
    "MEDIA_TYPES",
    "export_chunks",
    "create_export_job",
    "run_export_job",
    "EXPORT_PROGRESS_EVERY_ROWS",
]

EXPORT_FORMATS = ("csv", "ndjson")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
EXPORT_PROGRESS_EVERY_ROWS = 20_000
"""A background export writes its progress to the database this often."""


def _csv_value(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(value)
    return "" if value is None else value


def format_csv(rows: Sequence[Sequence[Any]], *, header: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(RESULT_FIELDS)
    for values in rows:
        row = row_of(values)
        writer.writerow([_csv_value(row[f]) for f in RESULT_FIELDS])
    return buffer.getvalue()


def format_ndjson(rows: Sequence[Sequence[Any]]) -> str:
    dumps = json.dumps
    return "".join(dumps(row_of(values), ensure_ascii=False) + "\n" for values in rows)


def export_chunks(
    db: Session,
    *,
    fmt: str,
    filters: ResultFilters,
    prefixes: Sequence[str] | None,
    on_rows: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """The export as text chunks (CSV starts with its header; a UTF-8 BOM is not added)."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInputError("format_invalid", f"format must be one of {list(EXPORT_FORMATS)}")
    if fmt == "csv":
        yield format_csv((), header=True)
    done = 0
    for batch in stream_results(db, filters=filters, prefixes=prefixes):
        yield format_csv(batch) if fmt == "csv" else format_ndjson(batch)
        done += len(batch)
        if on_rows is not None:
            on_rows(done)


def create_export_job(
    db: Session,
    *,
    requested_by: str,
    regions: Sequence[str],
    fmt: str,
    filters: ResultFilters,
    now: dt.datetime,
) -> ExportJob:
    if fmt not in EXPORT_FORMATS:
        raise InvalidInputError("format_invalid", f"format must be one of {list(EXPORT_FORMATS)}")
    job = ExportJob(
        id=uuid.uuid4(),
        requested_by=requested_by[:64],
        principal_regions=list(regions),
        filters=filters.to_json(),
        format=fmt,
        state=JobState.QUEUED,
        rows_done=0,
        created_at=now,
    )
    db.add(job)
    db.flush()
    return job


def _prefixes(regions: Sequence[str]) -> tuple[str, ...] | None:
    from .regions import region_prefix

    return None if "*" in regions else tuple(region_prefix(r) for r in regions)


def run_export_job(services: Services, job_id: uuid.UUID) -> str:
    """Write the export to a file in blob storage, with progress; returns the final state."""
    with session_scope(services.sessions) as db:
        job = db.get(ExportJob, job_id)
        if job is None:
            return "missing"
        if job.state == JobState.DONE:
            return job.state
        job.state = JobState.RUNNING
        job.started_at = services.clock()
        filters = ResultFilters(**job.filters)
        prefixes = _prefixes(job.principal_regions)
        fmt = job.format
        job.rows_total = count_results(db, filters=filters, prefixes=prefixes)
        db.commit()

    reported = [0]

    def progress(rows: int) -> None:
        if rows - reported[0] < EXPORT_PROGRESS_EVERY_ROWS:
            return
        reported[0] = rows
        with session_scope(services.sessions) as progress_db:
            row = progress_db.get(ExportJob, job_id)
            if row is not None:
                row.rows_done = rows
                progress_db.commit()

    key = f"exports/{job_id}.{fmt}"
    tmp_dir = services.settings.var_dir / "spool"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="export-", suffix=f".{fmt}")
    try:
        with session_scope(services.sessions) as db:
            cursor = encode_cursor(latest_change(db))
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                for chunk in export_chunks(db, fmt=fmt, filters=filters, prefixes=prefixes, on_rows=progress):
                    out.write(chunk)
        with open(tmp_name, "rb") as source:
            blob = services.store.put(key, source)
    finally:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
    with session_scope(services.sessions) as db:
        job = db.get(ExportJob, job_id)
        assert job is not None
        job.state = JobState.DONE
        job.blob_key = blob.key
        job.size_bytes = blob.size_bytes
        job.cursor = cursor
        job.rows_done = job.rows_total or 0
        job.finished_at = services.clock()
        db.commit()
    return JobState.DONE
