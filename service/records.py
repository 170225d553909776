"""The qualification record lifecycle. Data functions; they never commit.

    due ──certify──▶ certified
     │
     └─deadline─▶ overdue ──certify──▶ certified (late)
                     │
                     └─agency or sweep─▶ suspended ──certify──▶ restored

One record per pensioner, scheme and period (a database constraint). One passed
certification satisfies every scheme of the person for the period, and also settles
the person's earlier open records (an overdue one becomes certified, a suspended one
restored, so the agency resumes payment with back pay).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models import (
    DEFAULT_SCHEME,
    Attempt,
    EnrolmentStatus,
    LifeEvent,
    LifeEventKind,
    Pensioner,
    PensionerScheme,
    QualificationRecord,
    RecordStatus,
    Scheme,
)

from .agencies import RecordRules, rules_for_region
from .deceased import check_not_deceased
from .error_codes import ErrorCode
from .errors import ConflictError, InvalidInputError
from .rules.periods import PeriodWindow, calendar_window, rolling_window, valid_until, window_for

__all__ = [
    "check_certifiable",
    "Certification",
    "check_schemes",
    "schemes_of",
    "set_schemes",
    "current_window",
    "window_of_label",
    "ensure_records",
    "certify_period",
    "note_decision",
    "open_current_periods",
    "mark_overdue",
    "suspend_overdue",
    "suspend_records",
    "SweepCounts",
    "SWEEP_BATCH",
]

SWEEP_BATCH = 500
"""Records (or pensioners) handled per transaction by the scheduled sweep."""


def check_certifiable(pensioner: Pensioner, *, closed_ok: bool = False) -> None:
    """Refuse to certify an enrolment on hold (409 `enrolment_on_hold`) or closed (409
    `enrolment_closed`, unless `closed_ok`: an attempt made before it was closed may
    still be settled). The answer names no other enrolment."""
    if pensioner.enrolment_status == EnrolmentStatus.ON_HOLD:
        raise ConflictError(
            ErrorCode.ENROLMENT_ON_HOLD, "this enrolment waits for a reviewer's check before it can be certified"
        )
    if pensioner.enrolment_status == EnrolmentStatus.CLOSED and not closed_ok:
        raise ConflictError(ErrorCode.ENROLMENT_CLOSED, "this enrolment is closed and is no longer certified")


def schemes_of(db: Session, pensioner_id: uuid.UUID) -> list[str]:
    """The benefit schemes of a pensioner (basic pension when none is recorded)."""
    schemes = db.scalars(
        select(PensionerScheme.scheme)
        .where(PensionerScheme.pensioner_id == pensioner_id)
        .order_by(PensionerScheme.scheme)
    ).all()
    return list(schemes) or [DEFAULT_SCHEME]


def check_schemes(schemes: Sequence[str]) -> list[str]:
    unknown = sorted(set(schemes) - set(Scheme.ALL))
    if unknown:
        raise InvalidInputError(ErrorCode.SCHEME_INVALID, f"unknown schemes {unknown}; known: {list(Scheme.ALL)}")
    if not schemes:
        raise InvalidInputError(ErrorCode.SCHEME_REQUIRED, "a pensioner receives at least one scheme")
    return sorted(set(schemes))


def set_schemes(
    db: Session, *, pensioner_id: uuid.UUID, schemes: Sequence[str], now: dt.datetime
) -> list[str]:
    """Record which schemes a pensioner receives (adds the missing ones)."""
    wanted = check_schemes(schemes)
    have = set(
        db.scalars(select(PensionerScheme.scheme).where(PensionerScheme.pensioner_id == pensioner_id))
    )
    for scheme in wanted:
        if scheme not in have:
            db.add(PensionerScheme(id=uuid.uuid4(), pensioner_id=pensioner_id, scheme=scheme, created_at=now))
    db.flush()
    return sorted(have | set(wanted))


def _anchor(pensioner: Pensioner) -> dt.date:
    return pensioner.created_at.date()


def current_window(
    db: Session, *, pensioner: Pensioner, now: dt.datetime, rules: RecordRules | None = None
) -> PeriodWindow:
    """The period a certification made `now` counts for, under the agency's rules."""
    rules = rules or rules_for_region(db, pensioner.region_code)
    return window_for(rules.period_kind, now.date(), anchor=_anchor(pensioner))


def window_of_label(label: str) -> PeriodWindow:
    """The window a period label names: "2026" or a rolling window's first day."""
    if len(label) == 4 and label.isdigit():
        return calendar_window(dt.date(int(label), 1, 1))
    start = dt.date.fromisoformat(label)
    return rolling_window(start, anchor=start)


def ensure_records(
    db: Session,
    *,
    pensioner: Pensioner,
    window: PeriodWindow,
    now: dt.datetime,
    rules: RecordRules | None = None,
    schemes: Sequence[str] | None = None,
) -> list[QualificationRecord]:
    """The pensioner's records for a period, one per scheme, created as `due` if missing."""
    rules = rules or rules_for_region(db, pensioner.region_code)
    schemes = list(schemes) if schemes is not None else schemes_of(db, pensioner.id)
    existing = {
        r.scheme: r
        for r in db.scalars(
            select(QualificationRecord).where(
                QualificationRecord.pensioner_id == pensioner.id,
                QualificationRecord.period == window.label,
            )
        )
    }
    records = []
    for scheme in schemes:
        record = existing.get(scheme)
        if record is None:
            record = QualificationRecord(
                id=uuid.uuid4(),
                pensioner_id=pensioner.id,
                scheme=scheme,
                period=window.label,
                period_start=window.start,
                due_by=window.due_by(grace_days=rules.grace_days),
                status=RecordStatus.DUE,
                reasons=[],
                created_at=now,
                updated_at=now,
            )
            db.add(record)
        records.append(record)
    db.flush()
    return records


@dataclass(frozen=True, slots=True)
class Certification:
    """How a period was certified (what the records will say)."""

    method: str
    attempt_id: uuid.UUID | None = None
    assisted_by: str | None = None
    life_event_id: uuid.UUID | None = None
    decided_by: str | None = None


def certify_period(
    db: Session,
    *,
    pensioner: Pensioner,
    period: str,
    how: Certification,
    now: dt.datetime,
    validity_days: int,
) -> list[QualificationRecord]:
    """Certify every scheme's record for `period`, and settle earlier open records.

    Returns the records that changed (already satisfied ones keep their first
    certification and are not returned). Never for an enrolment on hold, nor (except
    to settle an attempt made before) for a closed one, nor while a death report of the
    pensioner stands (409 `pensioner_deceased`, service/deaths.py).
    """
    check_certifiable(pensioner, closed_ok=how.attempt_id is not None)
    check_not_deceased(db, pensioner_id=pensioner.id)
    window = window_of_label(period)
    current = ensure_records(db, pensioner=pensioner, window=window, now=now)
    earlier = db.scalars(
        select(QualificationRecord).where(
            QualificationRecord.pensioner_id == pensioner.id,
            QualificationRecord.status.in_(list(RecordStatus.OPEN)),
            QualificationRecord.period != window.label,
            QualificationRecord.period_start < window.start,
        )
    ).all()
    changed = []
    for record in [*current, *earlier]:
        if record.status in RecordStatus.SATISFIED:
            continue
        record.status = (
            RecordStatus.RESTORED if record.status == RecordStatus.SUSPENDED else RecordStatus.CERTIFIED
        )
        record.certified_at = now
        record.valid_until = valid_until(now, validity_days=validity_days)
        record.method = how.method
        record.attempt_id = how.attempt_id
        record.assisted_by = how.assisted_by
        record.life_event_id = how.life_event_id
        record.decided_by = how.decided_by
        record.decision = "passed"
        record.reasons = []
        if how.attempt_id is not None:
            record.last_attempt_id = how.attempt_id
        record.decided_at = now
        record.updated_at = now
        changed.append(record)
    db.flush()
    return changed


def note_decision(
    db: Session, *, pensioner: Pensioner, attempt: Attempt, now: dt.datetime
) -> list[QualificationRecord]:
    """A failed or review decision shows on the period's open records (feed, webhooks)."""
    records = ensure_records(db, pensioner=pensioner, window=window_of_label(attempt.period), now=now)
    changed = []
    for record in records:
        if record.status in RecordStatus.SATISFIED:
            continue
        record.decision = attempt.status
        record.reasons = list(attempt.reasons or [])
        record.last_attempt_id = attempt.id
        record.decided_at = now
        record.updated_at = now
        changed.append(record)
    db.flush()
    return changed


@dataclass(frozen=True, slots=True)
class SweepCounts:
    opened: int = 0
    overdue: int = 0
    suspended: int = 0


def open_current_periods(
    db: Session, *, now: dt.datetime, after: uuid.UUID | None, limit: int = SWEEP_BATCH
) -> tuple[int, uuid.UUID | None]:
    """Open the current period's records for the next `limit` pensioners after `after`.

    Returns (records created, last pensioner id seen or None when done).
    """
    query = (
        select(Pensioner)
        .where(Pensioner.enrolment_status == EnrolmentStatus.ACTIVE)  # held: no records until released
        .where(~exists().where(  # a death stands: no new period (a reversal lets the next sweep open it)
            LifeEvent.pensioner_id == Pensioner.id, LifeEvent.kind == LifeEventKind.DEATH,
            LifeEvent.reversed_at.is_(None)))
        .order_by(Pensioner.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(Pensioner.id > after)
    pensioners = db.scalars(query).all()
    if not pensioners:
        return 0, None
    rules_cache: dict[str, RecordRules] = {}
    scheme_rows = db.execute(
        select(PensionerScheme.pensioner_id, PensionerScheme.scheme).where(
            PensionerScheme.pensioner_id.in_([p.id for p in pensioners])
        )
    ).all()
    schemes: dict[uuid.UUID, list[str]] = {}
    for pensioner_id, scheme in scheme_rows:
        schemes.setdefault(pensioner_id, []).append(scheme)
    wanted: dict[uuid.UUID, tuple[Pensioner, PeriodWindow, RecordRules]] = {}
    for pensioner in pensioners:
        rules = rules_cache.get(pensioner.region_code)
        if rules is None:
            rules = rules_cache[pensioner.region_code] = rules_for_region(db, pensioner.region_code)
        wanted[pensioner.id] = (pensioner, current_window(db, pensioner=pensioner, now=now, rules=rules), rules)
    have = set(
        db.execute(
            select(QualificationRecord.pensioner_id, QualificationRecord.scheme, QualificationRecord.period).where(
                QualificationRecord.pensioner_id.in_(list(wanted)),
                QualificationRecord.period.in_({w.label for _, w, _ in wanted.values()}),
            )
        ).all()
    )
    created = 0
    for pensioner_id, (_pensioner, window, rules) in wanted.items():
        for scheme in sorted(schemes.get(pensioner_id) or [DEFAULT_SCHEME]):
            if (pensioner_id, scheme, window.label) in have:
                continue
            db.add(
                QualificationRecord(
                    id=uuid.uuid4(), pensioner_id=pensioner_id, scheme=scheme, period=window.label,
                    period_start=window.start, due_by=window.due_by(grace_days=rules.grace_days),
                    status=RecordStatus.DUE, reasons=[], created_at=now, updated_at=now,
                )
            )
            created += 1
    db.flush()
    return created, pensioners[-1].id


def mark_overdue(db: Session, *, now: dt.datetime, limit: int = SWEEP_BATCH) -> int:
    """Move up to `limit` due records whose deadline has passed to `overdue`."""
    records = db.scalars(
        select(QualificationRecord)
        .where(QualificationRecord.status == RecordStatus.DUE, QualificationRecord.due_by < now.date())
        .order_by(QualificationRecord.due_by, QualificationRecord.id)
        .limit(limit)
    ).all()
    for record in records:
        record.status = RecordStatus.OVERDUE
        record.overdue_at = now
        record.updated_at = now
    db.flush()
    return len(records)


def suspend_overdue(db: Session, *, now: dt.datetime, after: uuid.UUID | None, limit: int = SWEEP_BATCH) -> tuple[int, uuid.UUID | None]:
    """Suspend overdue records of agencies that suspend automatically after N days.

    Walks overdue records by id after `after`; returns (suspended, last id or None when done).
    """
    query = (
        select(QualificationRecord, Pensioner.region_code)
        .join(Pensioner, Pensioner.id == QualificationRecord.pensioner_id)
        .where(QualificationRecord.status == RecordStatus.OVERDUE)
        .order_by(QualificationRecord.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(QualificationRecord.id > after)
    rows = db.execute(query).all()
    if not rows:
        return 0, None
    rules_cache: dict[str, RecordRules] = {}
    suspended = 0
    for record, region_code in rows:
        rules = rules_cache.get(region_code)
        if rules is None:
            rules = rules_cache[region_code] = rules_for_region(db, region_code)
        if rules.suspend_after_days is None or record.due_by is None:
            continue
        if record.due_by + dt.timedelta(days=rules.suspend_after_days) < now.date():
            record.status = RecordStatus.SUSPENDED
            record.suspended_at = now
            record.updated_at = now
            suspended += 1
    db.flush()
    return suspended, rows[-1][0].id


def suspend_records(
    db: Session, *, records: Iterable[QualificationRecord], now: dt.datetime
) -> list[QualificationRecord]:
    """The agency suspends payment for overdue records (the suspension list it acted on)."""
    changed = []
    for record in records:
        if record.status == RecordStatus.SUSPENDED:
            continue
        if record.status != RecordStatus.OVERDUE:
            raise ConflictError(
                ErrorCode.RECORD_NOT_OVERDUE, "only overdue records can be suspended",
                record_id=str(record.id), status=record.status,
            )
        record.status = RecordStatus.SUSPENDED
        record.suspended_at = now
        record.updated_at = now
        changed.append(record)
    db.flush()
    return changed
