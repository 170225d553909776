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
import queue
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy.orm import Session

from models import ExportJob, JobState
from models.db import session_scope

from .context import Services
from .error_codes import ErrorCode
from .errors import InvalidInputError
from .labels import DEFAULT_LABEL_LANGUAGE, LABEL_LANGUAGES
from .results import (
    RESULT_FIELDS,
    ResultFilters,
    copy_results_csv,
    copy_results_ndjson,
    count_results,
    encode_cursor,
    latest_change,
    stream_results,
)

__all__ = [
    "EXPORT_FORMATS",
    "MEDIA_TYPES",
    "export_chunks",
    "create_export_job",
    "run_export_job",
    "EXPORT_PROGRESS_EVERY_ROWS",
    "format_csv",
    "format_ndjson",
    "read_ahead",
]

EXPORT_FORMATS = ("csv", "ndjson")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
EXPORT_PROGRESS_EVERY_ROWS = 20_000
"""A background export writes its progress to the database this often."""


_REASONS_AT = RESULT_FIELDS.index("reasons")
_LANG_KEY = "lang"
"""Where a background export keeps its label language, beside its filters."""


def format_csv(rows: Sequence[Sequence[str | None]], *, header: bool = False) -> str:
    """Text rows (as stream_results(for_csv=True) gives them: cells already neutralised
    against formula injection by the database) as CSV; reason codes joined by ";"."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(RESULT_FIELDS)
    writer.writerows(rows)
    return buffer.getvalue()


def format_ndjson(rows: Sequence[Sequence[str | None]]) -> str:
    """Text rows as one JSON object per line, with the same fields as the feed."""
    dumps = json.dumps
    fields = RESULT_FIELDS
    lines = []
    for values in rows:
        row = dict(zip(fields, values, strict=True))
        reasons = values[_REASONS_AT]
        row["reasons"] = reasons.split(";") if reasons else []
        lines.append(dumps(row, ensure_ascii=False))
    lines.append("")
    return "\n".join(lines)


_PREFETCH_BATCHES = 2
"""Batches read ahead from the database while the previous one is formatted (bounded,
so memory stays constant; the database round trip overlaps the formatting)."""


def read_ahead(batches: Iterator[Any], *, depth: int = _PREFETCH_BATCHES) -> Iterator[Any]:
    """Iterate `batches` in a helper thread, at most `depth` items ahead of the consumer.

    Stopping early (a client that disconnects) stops the helper thread too.
    """
    slots: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        slots.put(("batch", batch), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            slots.put(("error", exc))
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="export-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = slots.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                slots.get_nowait()
            except queue.Empty:
                pass
            worker.join(timeout=0.05)


def export_chunks(
    db: Session,
    *,
    fmt: str,
    filters: ResultFilters,
    prefixes: Sequence[str] | None,
    on_rows: Callable[[int], None] | None = None,
    lang: str = DEFAULT_LABEL_LANGUAGE,
) -> Iterator[bytes]:
    """The export as UTF-8 chunks (CSV starts with its header).

    On PostgreSQL the database writes the CSV or the JSON lines itself (COPY);
    otherwise rows are read through a server-side cursor and formatted here. Both read
    one snapshot. CSV cells that would start a spreadsheet formula get a leading `'`
    (service/infra/csv_cells.py); NDJSON keeps the values as they are. The `*_label`
    columns carry the catalogue's words in `lang` (zh-CN or en) beside the codes.
    """
    if lang not in LABEL_LANGUAGES:
        raise InvalidInputError(ErrorCode.LANG_INVALID, f"lang must be one of {list(LABEL_LANGUAGES)}")
    if fmt not in EXPORT_FORMATS:
        raise InvalidInputError(ErrorCode.FORMAT_INVALID, f"format must be one of {list(EXPORT_FORMATS)}")
    done = 0
    if fmt == "csv":
        yield format_csv((), header=True).encode()
    if db.get_bind().dialect.name == "postgresql":
        copy = copy_results_csv if fmt == "csv" else copy_results_ndjson
        for chunk in read_ahead(copy(db, filters=filters, prefixes=prefixes, lang=lang)):
            yield chunk
            done += chunk.count(b"\n")
            if on_rows is not None:
                on_rows(done)
        return
    for batch in read_ahead(stream_results(db, filters=filters, prefixes=prefixes, for_csv=fmt == "csv", lang=lang)):
        yield (format_csv(batch) if fmt == "csv" else format_ndjson(batch)).encode()
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
    lang: str = DEFAULT_LABEL_LANGUAGE,
) -> ExportJob:
    if lang not in LABEL_LANGUAGES:
        raise InvalidInputError(ErrorCode.LANG_INVALID, f"lang must be one of {list(LABEL_LANGUAGES)}")
    if fmt not in EXPORT_FORMATS:
        raise InvalidInputError(ErrorCode.FORMAT_INVALID, f"format must be one of {list(EXPORT_FORMATS)}")
    job = ExportJob(
        id=uuid.uuid4(),
        requested_by=requested_by[:64],
        principal_regions=list(regions),
        filters={**filters.to_json(), _LANG_KEY: lang},
        format=fmt,
        state=JobState.QUEUED,
        rows_done=0,
        created_at=now,
    )
    db.add(job)
    db.flush()
    return job


def _prefixes(regions: Sequence[str]) -> tuple[str, ...] | None:
    from .rules.regions import region_prefix

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
        stored = dict(job.filters)
        lang = stored.pop(_LANG_KEY, DEFAULT_LABEL_LANGUAGE)
        filters = ResultFilters(**stored)
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
            with os.fdopen(fd, "wb") as out:
                for chunk in export_chunks(db, fmt=fmt, filters=filters, prefixes=prefixes, on_rows=progress,
                                           lang=lang):
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
