"""Community staff's caseload: who in their region is due, overdue, failed, locked out,
waiting for a result or review, or certified this period. Data functions; never commit.

The state of each case is computed in SQL (one CASE over the pensioner's current record
and the attempts of its period), so counting and paging a region with many thousands of
pensioners never loads them all. A pensioner's current record is the one whose period
started last (calendar years or rolling windows, as the agency's rules say; the record
sweep opens each new period). Precedence, first match wins:

    certified   the current record is certified (or restored after a suspension)
    review      the latest attempt of the period waits for a human reviewer
    processing  the latest attempt is queued or being checked
    locked      no self-service tries left this period: needs a staff visit
    overdue     the deadline passed (the record is overdue, or payments are suspended)
    failed      the latest attempt failed (tries are left)
    due         none of the above: certification is due this period

before all of them, from the enrolment itself:

    on_hold     the enrolment waits for a reviewer (service/holds.py): not certifiable yet
    closed      the enrolment was closed (never listed; a single case still shows it)
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from models import (
    Attempt,
    AttemptStatus,
    EnrolmentStatus,
    Pensioner,
    QualificationRecord,
    RecordStatus,
)

from .rules.periods import period_for

__all__ = [
    "CASE_STATES",
    "CaseRow",
    "CaseloadPage",
    "caseload",
    "case_row",
    "CASELOAD_PAGE_SIZE",
    "MAX_CASELOAD_PAGE_SIZE",
]

CASE_STATES = ("overdue", "locked", "failed", "due", "processing", "review", "on_hold", "certified")
"""Every state a case can be in, most urgent first (the order staff tabs are shown in)."""

CASELOAD_PAGE_SIZE = 50
"""Cases per page when the caller does not say."""

MAX_CASELOAD_PAGE_SIZE = 200


@dataclass(frozen=True)
class CaseRow:
    pensioner_id: uuid.UUID
    name: str
    national_id_masked: str
    birth_date: dt.date
    region_code: str
    residence_region_code: str | None
    period: str
    state: str
    record_status: str | None
    certified_at: dt.datetime | None
    valid_until: dt.date | None
    due_by: dt.date | None
    """The last day to certify before the record becomes overdue."""
    failed_attempts: int
    tries_left: int
    last_attempt_id: uuid.UUID | None
    last_attempt_status: str | None
    last_attempt_at: dt.datetime | None
    previous_valid_until: dt.date | None


@dataclass(frozen=True)
class CaseloadPage:
    period: str
    counts: dict[str, int]
    total: int
    items: list[CaseRow]


def _region_filter(prefixes: Sequence[str] | None) -> ColumnElement[bool]:
    if prefixes is None:
        return literal(True)
    if not prefixes:
        return literal(False)
    return or_(
        *[Pensioner.region_code.like(f"{p}%") for p in prefixes],
        *[Pensioner.residence_region_code.like(f"{p}%") for p in prefixes],
    )


def _cases(*, today: dt.date, max_failed: int, fallback_period: str) -> Select:
    record = aliased(QualificationRecord)
    other = aliased(QualificationRecord)
    started = func.coalesce(QualificationRecord.period_start, dt.date(1900, 1, 1))
    current_id = (
        select(QualificationRecord.id)
        .where(QualificationRecord.pensioner_id == Pensioner.id, started <= today)
        .order_by(started.desc(), QualificationRecord.period.desc(), QualificationRecord.scheme)
        .limit(1)
        .correlate(Pensioner)
        .scalar_subquery()
    )
    period = func.coalesce(record.period, fallback_period)
    this_period = and_(Attempt.pensioner_id == Pensioner.id, Attempt.period == period)
    newest_first = (Attempt.created_at.desc(), Attempt.id)
    last_id = (
        select(Attempt.id).where(this_period).order_by(*newest_first).limit(1)
        .correlate_except(Attempt).scalar_subquery()
    )
    last_status = (
        select(Attempt.status).where(this_period).order_by(*newest_first).limit(1)
        .correlate_except(Attempt).scalar_subquery()
    )
    last_at = select(func.max(Attempt.created_at)).where(this_period).correlate_except(Attempt).scalar_subquery()
    failed = (
        select(func.count()).select_from(Attempt)
        .where(this_period, Attempt.status == AttemptStatus.FAILED)
        .correlate_except(Attempt).scalar_subquery()
    )
    previous_valid = (
        select(func.max(other.valid_until))
        .where(other.pensioner_id == Pensioner.id, other.period != period)
        .correlate_except(other).scalar_subquery()
    )
    state = case(
        (Pensioner.enrolment_status == EnrolmentStatus.ON_HOLD, "on_hold"),
        (Pensioner.enrolment_status == EnrolmentStatus.CLOSED, "closed"),
        (record.status.in_([RecordStatus.CERTIFIED, RecordStatus.RESTORED]), "certified"),
        (last_status == AttemptStatus.REVIEW, "review"),
        (last_status.in_([AttemptStatus.QUEUED, AttemptStatus.PROCESSING]), "processing"),
        (failed >= max_failed, "locked"),
        (record.status.in_([RecordStatus.OVERDUE, RecordStatus.SUSPENDED]), "overdue"),
        (last_status == AttemptStatus.FAILED, "failed"),
        else_="due",
    )
    return select(
        Pensioner.id.label("pensioner_id"),
        Pensioner.name,
        Pensioner.national_id_masked,
        Pensioner.birth_date,
        Pensioner.region_code,
        Pensioner.residence_region_code,
        period.label("period"),
        state.label("state"),
        record.status.label("record_status"),
        record.certified_at,
        record.valid_until,
        record.due_by,
        failed.label("failed_attempts"),
        last_id.label("last_attempt_id"),
        last_status.label("last_attempt_status"),
        last_at.label("last_attempt_at"),
        previous_valid.label("previous_valid_until"),
    ).outerjoin(record, record.id == current_id)


def _row(r, max_failed: int) -> CaseRow:  # noqa: ANN001 - a SQLAlchemy Row
    failed = int(r.failed_attempts or 0)
    return CaseRow(
        pensioner_id=r.pensioner_id,
        name=r.name,
        national_id_masked=r.national_id_masked,
        birth_date=r.birth_date,
        region_code=r.region_code,
        residence_region_code=r.residence_region_code,
        period=r.period,
        state=r.state,
        record_status=r.record_status,
        certified_at=r.certified_at,
        valid_until=r.valid_until,
        due_by=r.due_by,
        failed_attempts=failed,
        tries_left=max(0, max_failed - failed),
        last_attempt_id=r.last_attempt_id,
        last_attempt_status=r.last_attempt_status,
        last_attempt_at=r.last_attempt_at,
        previous_valid_until=r.previous_valid_until,
    )


def caseload(
    db: Session,
    *,
    region_prefixes: Sequence[str] | None,
    now: dt.datetime,
    max_failed: int,
    state: str | None = None,
    query: str | None = None,
    limit: int = CASELOAD_PAGE_SIZE,
    offset: int = 0,
) -> CaseloadPage:
    """The cases of these regions (None: all), counted by state, one page of them listed.

    `period` of the page is the calendar year (the label most regions use); each case
    carries its own current period.
    """
    period = period_for(now)
    cases = (
        _cases(today=now.date(), max_failed=max_failed, fallback_period=period)
        .where(_region_filter(region_prefixes), Pensioner.enrolment_status != EnrolmentStatus.CLOSED)
    )
    if query:
        cases = cases.where(Pensioner.name.contains(query.strip(), autoescape=True))
    sub = cases.subquery()
    counts = {name: 0 for name in CASE_STATES}
    for name, count in db.execute(select(sub.c.state, func.count()).group_by(sub.c.state)):
        counts[name] = int(count)
    listing = select(sub)
    if state is not None:
        listing = listing.where(sub.c.state == state)
    listing = listing.order_by(sub.c.name, sub.c.pensioner_id).limit(limit).offset(offset)
    items = [_row(r, max_failed) for r in db.execute(listing)]
    total = counts.get(state, 0) if state is not None else sum(counts.values())
    return CaseloadPage(period=period, counts=counts, total=total, items=items)


def case_row(db: Session, *, pensioner_id: uuid.UUID, now: dt.datetime, max_failed: int) -> CaseRow | None:
    """One pensioner's case (state and counts as in the caseload)."""
    cases = _cases(today=now.date(), max_failed=max_failed, fallback_period=period_for(now))
    row = db.execute(cases.where(Pensioner.id == pensioner_id)).first()
    return _row(row, max_failed) if row is not None else None
