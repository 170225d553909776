"""The agencies' results feed and exports: qualification records in change order.

Each record appears at the position of its latest change (`change_seq`, numbered in
commit order, see models/changes.py). Reading "everything after cursor N" therefore
never skips a change that commits later, and a record shows up again only when it
changed again. Exports read the same rows in one statement (one consistent snapshot)
with a server-side cursor, so a million rows stream in constant memory.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnClause, Select, func, literal_column, or_, select
from sqlalchemy.orm import Session

from models import (
    Certificate,
    EnrolmentStatus,
    Pensioner,
    QualificationRecord,
    RecordStatus,
    Scheme,
)

from .error_codes import ErrorCode
from .errors import InvalidInputError
from .infra.csv_cells import neutralised_sql
from .labels import DEFAULT_LABEL_LANGUAGE, labels_of

__all__ = [
    "ResultFilters",
    "FEED_PAGE_SIZE",
    "MAX_FEED_PAGE_SIZE",
    "EXPORT_BATCH_ROWS",
    "RESULT_FIELDS",
    "encode_cursor",
    "decode_cursor",
    "read_feed",
    "stream_results",
    "copy_results_csv",
    "copy_results_ndjson",
    "count_results",
    "latest_change",
    "row_of",
    "COPY_CHUNK_BYTES",
]

FEED_PAGE_SIZE = 500
"""Rows per feed page unless the caller asks for fewer or more."""
MAX_FEED_PAGE_SIZE = 5000
EXPORT_BATCH_ROWS = 2000
"""Rows fetched from the database per round trip while streaming an export."""

_CURSOR_PREFIX = "c"


@dataclass(frozen=True, slots=True)
class ResultFilters:
    period: str | None = None
    region: str | None = None
    """A province, city or county code; rows of pensioners paid inside it."""
    status: str | None = None
    scheme: str | None = None

    def check(self) -> ResultFilters:
        if self.status is not None and self.status not in RecordStatus.ALL:
            raise InvalidInputError(ErrorCode.STATUS_INVALID, f"status must be one of {list(RecordStatus.ALL)}")
        if self.scheme is not None and self.scheme not in Scheme.ALL:
            raise InvalidInputError(ErrorCode.SCHEME_INVALID, f"scheme must be one of {list(Scheme.ALL)}")
        if self.period is not None and not (1 <= len(self.period) <= 16):
            raise InvalidInputError(ErrorCode.PERIOD_INVALID, "period is a year (2026) or a window's first day")
        return self

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in (("period", self.period), ("region", self.region),
                                  ("status", self.status), ("scheme", self.scheme)) if v is not None}


def encode_cursor(change_seq: int) -> str:
    return f"{_CURSOR_PREFIX}{change_seq}"


def decode_cursor(cursor: str | None) -> int:
    """The change number a cursor stands for (0: from the beginning)."""
    if not cursor:
        return 0
    digits = cursor[len(_CURSOR_PREFIX):] if cursor.startswith(_CURSOR_PREFIX) else ""
    if not digits.isdigit() or len(digits) > 19:
        raise InvalidInputError(ErrorCode.CURSOR_INVALID, "use the next_cursor value of an earlier page")
    return int(digits)


RESULT_FIELDS = (
    "cursor", "record_id", "pensioner_id", "national_id_masked", "external_ref", "name",
    "region_code", "scheme", "period", "period_start", "due_by", "status", "decision",
    "reasons", "method", "certified_at", "valid_until", "decided_at", "overdue_at",
    "suspended_at", "updated_at", "attempt_id", "assisted_by", "life_event_id",
    "certificate_id", "evidence_url",
    "scheme_label", "status_label", "decision_label", "method_label", "reasons_label",
)
"""The columns of a result row, in export order. The `*_label` columns hold the
catalogue's words for the codes beside them (zh-CN or en, `lang` of the export); the
codes keep their own columns for machines."""

_LABELLED = (("scheme", "scheme"), ("status", "status"), ("decision", "decision"), ("method", "method"))
"""(column of qualification_records, label kind) of the single-code label columns."""

_COLUMNS = (
    QualificationRecord.change_seq, QualificationRecord.id, QualificationRecord.pensioner_id,
    Pensioner.national_id_masked, Pensioner.external_ref, Pensioner.name, Pensioner.region_code,
    QualificationRecord.scheme, QualificationRecord.period, QualificationRecord.period_start,
    QualificationRecord.due_by, QualificationRecord.status, QualificationRecord.decision,
    QualificationRecord.reasons, QualificationRecord.method, QualificationRecord.certified_at,
    QualificationRecord.valid_until, QualificationRecord.decided_at, QualificationRecord.overdue_at,
    QualificationRecord.suspended_at, QualificationRecord.updated_at,
    QualificationRecord.last_attempt_id, QualificationRecord.assisted_by,
    QualificationRecord.life_event_id, Certificate.id,
)


def _region_condition(prefixes: Sequence[str]):
    return or_(*(Pensioner.region_code.like(f"{p}%") for p in prefixes))


def _query(filters: ResultFilters, prefixes: Sequence[str] | None, columns=_COLUMNS) -> Select:
    query = (
        select(*columns)
        .select_from(QualificationRecord)
        .join(Pensioner, Pensioner.id == QualificationRecord.pensioner_id)
        .outerjoin(Certificate, Certificate.record_id == QualificationRecord.id)
        # an enrolment on hold is not certifiable: none of its records is in the feed
        .where(Pensioner.enrolment_status != EnrolmentStatus.ON_HOLD)
    )
    if prefixes is not None:
        query = query.where(_region_condition(prefixes))
    if filters.region is not None:
        from .rules.regions import region_prefix

        query = query.where(Pensioner.region_code.like(f"{region_prefix(filters.region)}%"))
    if filters.period is not None:
        query = query.where(QualificationRecord.period == filters.period)
    if filters.status is not None:
        query = query.where(QualificationRecord.status == filters.status)
    if filters.scheme is not None:
        query = query.where(QualificationRecord.scheme == filters.scheme)
    return query


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _evidence_url(attempt_id: uuid.UUID | None, life_event_id: uuid.UUID | None) -> str | None:
    if life_event_id is not None:
        return f"/v1/life-events/{life_event_id}"
    if attempt_id is not None:
        return f"/v1/attempts/{attempt_id}/evidence"
    return None


def row_of(values: Sequence[Any]) -> dict[str, Any]:
    """A result row as JSON-ready values, from the selected columns."""
    (seq, record_id, pensioner_id, masked, ref, name, region, scheme, period, start, due_by,
     status, decision, reasons, method, certified_at, valid_until, decided_at, overdue_at,
     suspended_at, updated_at, attempt_id, assisted_by, life_event_id, certificate_id) = values
    return {
        "cursor": encode_cursor(seq),
        "record_id": str(record_id),
        "pensioner_id": str(pensioner_id),
        "national_id_masked": masked,
        "external_ref": ref,
        "name": name,
        "region_code": region,
        "scheme": scheme,
        "period": period,
        "period_start": _iso(start),
        "due_by": _iso(due_by),
        "status": status,
        "decision": decision,
        "reasons": list(reasons or []),
        "method": method,
        "certified_at": _iso(certified_at),
        "valid_until": _iso(valid_until),
        "decided_at": _iso(decided_at),
        "overdue_at": _iso(overdue_at),
        "suspended_at": _iso(suspended_at),
        "updated_at": _iso(updated_at),
        "attempt_id": str(attempt_id) if attempt_id else None,
        "assisted_by": assisted_by,
        "life_event_id": str(life_event_id) if life_event_id else None,
        "certificate_id": str(certificate_id) if certificate_id else None,
        "evidence_url": _evidence_url(attempt_id, life_event_id),
    }


def read_feed(
    db: Session,
    *,
    filters: ResultFilters,
    prefixes: Sequence[str] | None,
    after: int,
    limit: int = FEED_PAGE_SIZE,
) -> tuple[list[dict[str, Any]], int, bool]:
    """One page of the feed after change `after`: (rows, cursor to continue from, more?)."""
    limit = max(1, min(limit, MAX_FEED_PAGE_SIZE))
    rows = db.execute(
        _query(filters, prefixes)
        .where(QualificationRecord.change_seq > after)
        .order_by(QualificationRecord.change_seq)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1][0] if rows else after
    return [row_of(r) for r in rows], last, more


def latest_change(db: Session) -> int:
    """The highest change number committed so far (0 when there are no records)."""
    return int(db.scalar(select(func.coalesce(func.max(QualificationRecord.change_seq), 0))) or 0)


def count_results(db: Session, *, filters: ResultFilters, prefixes: Sequence[str] | None) -> int:
    query = _query(filters, prefixes, columns=(func.count(),)).order_by(None)
    return int(db.scalar(query) or 0)


_TYPED_TEXT_FIELDS = frozenset({"national_id_masked", "external_ref", "name", "assisted_by"})
"""Fields holding text that people typed (names, the agency's references, usernames):
neutralised in CSV exports. Every other field is an id, a date, a timestamp, a path or
a code the service itself chose and validated (status, scheme, reasons, region), which
never starts with a formula trigger; leaving them alone keeps the million-row stream
fast (the reasons column is a subquery)."""


def _words_sql(expression: str, words: dict[str, str]) -> str:
    """A CASE giving the words of a code (the code itself when it has none)."""
    quoted = " ".join(
        "WHEN '{}' THEN '{}'".format(code.replace("'", "''"), text.replace("'", "''"))
        for code, text in sorted(words.items())
    )
    return f"CASE {expression} {quoted} ELSE {expression} END" if words else expression


def _label_sql(dialect: str, lang: str) -> list[str]:
    """The label columns' SQL (the words of scheme, status, decision, method, reasons)."""
    r = "qualification_records"
    columns = [_words_sql(f"{r}.{column}", labels_of(lang, kind)) for column, kind in _LABELLED]
    reason_words = labels_of(lang, "reason")
    if dialect == "postgresql":
        columns.append(f"array_to_string(ARRAY(SELECT {_words_sql('e', reason_words)} "
                       f"FROM jsonb_array_elements_text({r}.reasons) AS e), '; ')")
    else:
        columns.append(f"COALESCE((SELECT group_concat({_words_sql('value', reason_words)}, '; ') "
                       f"FROM json_each({r}.reasons)), '')")
    return columns


def _text_columns(dialect: str, *, for_csv: bool = False, lang: str = DEFAULT_LABEL_LANGUAGE) -> list[Any]:
    """The export's columns rendered as text by the database, in RESULT_FIELDS order.

    Exports move a million rows: formatting UUIDs, timestamps and reason lists in SQL
    (instead of building Python objects per value) keeps the stream fast. `for_csv`:
    stored text that starts with a formula trigger gets a leading `'` (service/infra/csv_cells.py),
    in SQL, so that PostgreSQL's COPY and the SQLite stream write the same safe cells.
    """
    r, p, c = "qualification_records", "pensioners", "certificates"
    if dialect == "postgresql":
        def uid(col: str) -> str:
            return f"CAST({col} AS TEXT)"

        def ts(col: str) -> str:
            return f"""to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""

        def day(col: str) -> str:
            return f"CAST({col} AS TEXT)"

        reasons = f"array_to_string(ARRAY(SELECT jsonb_array_elements_text({r}.reasons)), ';')"
    else:
        def uid(col: str) -> str:
            return (f"lower(substr({col},1,8)||'-'||substr({col},9,4)||'-'||substr({col},13,4)"
                    f"||'-'||substr({col},17,4)||'-'||substr({col},21))")

        def ts(col: str) -> str:
            return f"(replace({col}, ' ', 'T') || '+00:00')"

        def day(col: str) -> str:
            return col

        reasons = f"(SELECT group_concat(value, ';') FROM json_each({r}.reasons))"
    evidence = (
        f"CASE WHEN {r}.life_event_id IS NOT NULL THEN '/v1/life-events/' || {uid(f'{r}.life_event_id')} "
        f"WHEN {r}.last_attempt_id IS NOT NULL THEN '/v1/attempts/' || {uid(f'{r}.last_attempt_id')} || '/evidence' END"
    )
    sql = [
        f"'{_CURSOR_PREFIX}' || {r}.change_seq", uid(f"{r}.id"), uid(f"{r}.pensioner_id"),
        f"{p}.national_id_masked", f"{p}.external_ref", f"{p}.name", f"{p}.region_code",
        f"{r}.scheme", f"{r}.period", day(f"{r}.period_start"), day(f"{r}.due_by"), f"{r}.status",
        f"{r}.decision", reasons, f"{r}.method", ts(f"{r}.certified_at"), day(f"{r}.valid_until"),
        ts(f"{r}.decided_at"), ts(f"{r}.overdue_at"), ts(f"{r}.suspended_at"), ts(f"{r}.updated_at"),
        uid(f"{r}.last_attempt_id"), f"{r}.assisted_by", uid(f"{r}.life_event_id"), uid(f"{c}.id"),
        evidence, *_label_sql(dialect, lang),
    ]
    assert len(sql) == len(RESULT_FIELDS)
    if for_csv:
        sql = [neutralised_sql(expression) if name in _TYPED_TEXT_FIELDS else expression
               for name, expression in zip(RESULT_FIELDS, sql, strict=True)]
    return [literal_column(expression) for expression in sql]


def stream_results(
    db: Session,
    *,
    filters: ResultFilters,
    prefixes: Sequence[str] | None,
    batch_rows: int = EXPORT_BATCH_ROWS,
    for_csv: bool = False,
    lang: str = DEFAULT_LABEL_LANGUAGE,
) -> Iterator[Sequence[Sequence[str | None]]]:
    """Every matching row in change order as text values (RESULT_FIELDS order, reason
    codes joined by ";"), in batches, from one statement (one snapshot) read through a
    server-side cursor: constant memory however many rows there are. `for_csv`: cells
    neutralised against formula injection."""
    connection = db.connection()
    columns = _text_columns(connection.dialect.name, for_csv=for_csv, lang=lang)
    result = connection.execution_options(stream_results=True, yield_per=batch_rows).execute(
        _query(filters, prefixes, columns=columns).order_by(QualificationRecord.change_seq)
    )
    try:
        yield from result.partitions(batch_rows)
    finally:
        result.close()


COPY_CHUNK_BYTES = 256 * 1024
"""PostgreSQL COPY output is gathered into chunks of about this size."""


def _copy(db: Session, query: Select, options: str) -> Iterator[bytes]:
    connection = db.connection()
    compiled = query.compile(dialect=connection.dialect)
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None  # the session's connection is open (psycopg's)
    cursor = driver_connection.cursor()
    try:
        with cursor.copy(f"COPY ({compiled.string}) TO STDOUT WITH ({options})", compiled.params) as copy:
            pending: list[bytes] = []
            size = 0
            for block in copy:
                pending.append(bytes(block))
                size += len(block)
                if size >= COPY_CHUNK_BYTES:
                    yield b"".join(pending)
                    pending, size = [], 0
            if pending:
                yield b"".join(pending)
    finally:
        cursor.close()


def copy_results_csv(
    db: Session, *, filters: ResultFilters, prefixes: Sequence[str] | None, lang: str = DEFAULT_LABEL_LANGUAGE
) -> Iterator[bytes]:
    """PostgreSQL only: the same rows as CSV (no header) written by the server itself
    (COPY ... TO STDOUT), streamed in chunks: the fastest path for big exports. Cells
    are neutralised against formula injection in the query."""
    columns = _text_columns("postgresql", for_csv=True, lang=lang)
    query = _query(filters, prefixes, columns=columns).order_by(QualificationRecord.change_seq)
    return _copy(db, query, "FORMAT csv")


def copy_results_ndjson(
    db: Session, *, filters: ResultFilters, prefixes: Sequence[str] | None, lang: str = DEFAULT_LABEL_LANGUAGE
) -> Iterator[bytes]:
    """PostgreSQL only: one JSON object per line, built and written by the server.

    COPY's CSV format with a delimiter and quote character that JSON never contains
    raw (control characters are escaped inside JSON strings) passes each line through
    unchanged.
    """
    columns = _text_columns("postgresql", lang=lang)
    pairs = []
    for name, column in zip(RESULT_FIELDS, columns, strict=True):
        expression = "qualification_records.reasons" if name == "reasons" else column.name
        pairs.append(f"'{name}', {expression}")
    document: ColumnClause[Any] = literal_column(f"json_build_object({', '.join(pairs)})::text")
    query = _query(filters, prefixes, columns=[document]).order_by(QualificationRecord.change_seq)
    return _copy(db, query, "FORMAT csv, DELIMITER E'\\x1f', QUOTE E'\\x1e'")
