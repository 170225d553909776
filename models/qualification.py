"""The annual qualification record: one per pensioner, benefit scheme and period.

Every change to a record gets a new `change_seq` from one counter row that is locked
until the changing transaction commits (see models/changes.py), so sequence order is
commit order and the agencies' results feed can page by it without skipping or
repeating a row.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum, nonmember
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONValue, new_id, utcnow

__all__ = [
    "QualificationRecord",
    "RecordStatus",
    "Method",
    "Scheme",
    "PensionerScheme",
    "RecordEvent",
    "FeedCounter",
    "DEFAULT_SCHEME",
]

DEFAULT_SCHEME = "basic_pension"


class Scheme(StrEnum):
    """Benefits that each need the annual certification; one pass satisfies all of them."""

    BASIC_PENSION = "basic_pension"
    """Basic old-age pension (基本养老金)."""
    SURVIVORS = "survivors"
    """Survivors' benefits for dependants (供养亲属抚恤金)."""
    WORK_INJURY = "work_injury"
    """Work-injury benefits (工伤保险待遇)."""

    ALL = nonmember((BASIC_PENSION, SURVIVORS, WORK_INJURY))


class RecordStatus(StrEnum):
    DUE = "due"
    CERTIFIED = "certified"
    OVERDUE = "overdue"
    """The deadline passed without a certification: payments are to be suspended."""
    SUSPENDED = "suspended"
    """Payments are suspended; a later certification restores them (with back pay)."""
    RESTORED = "restored"
    """Certified after a suspension."""

    ALL = nonmember((DUE, CERTIFIED, OVERDUE, SUSPENDED, RESTORED))
    SATISFIED = nonmember(frozenset({CERTIFIED, RESTORED}))
    OPEN = nonmember(frozenset({DUE, OVERDUE, SUSPENDED}))


class Method(StrEnum):
    SELF = "self"
    ASSISTED = "assisted"
    REVIEW = "review"
    IN_PERSON = "in_person"
    DATA_MATCH = "data_match"
    DEATH_REPORTED = "death_reported"
    """Not a certification: the record is suspended because a death was reported
    (the death's life event is the record's `life_event_id`)."""

    ALL = nonmember((SELF, ASSISTED, REVIEW, IN_PERSON, DATA_MATCH, DEATH_REPORTED))


class PensionerScheme(Base):
    """A benefit a pensioner receives; each gets its own qualification record per period."""

    __tablename__ = "pensioner_schemes"
    __table_args__ = (UniqueConstraint("pensioner_id", "scheme"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    pensioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pensioners.id"), index=True)
    scheme: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class QualificationRecord(Base):
    __tablename__ = "qualification_records"
    __table_args__ = (UniqueConstraint("pensioner_id", "scheme", "period"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    pensioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pensioners.id"), index=True)
    scheme: Mapped[str] = mapped_column(String(32), default=DEFAULT_SCHEME)
    period: Mapped[str] = mapped_column(String(16), index=True)
    """"2026" (calendar year) or the first day of a rolling window, "2026-03-15"."""
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    due_by: Mapped[dt.date | None] = mapped_column(Date, index=True)
    """The last day to certify before the record becomes overdue (period end + grace)."""
    status: Mapped[str] = mapped_column(String(16), default=RecordStatus.DUE, index=True)
    certified_at: Mapped[dt.datetime | None]
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    method: Mapped[str | None] = mapped_column(String(16))
    attempt_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("attempts.id"))
    """The attempt that certified the record (None for data matching and in person)."""
    assisted_by: Mapped[str | None] = mapped_column(String(64))
    life_event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("life_events.id"))
    """The proof-of-life event that certified the record (method data_match), or the
    death report that suspended it (method death_reported)."""
    decided_by: Mapped[str | None] = mapped_column(String(64))
    """The reviewer (method review) or staff member (in_person) who decided."""

    decision: Mapped[str | None] = mapped_column(String(16))
    """The latest decided attempt's decision (passed / failed / review)."""
    reasons: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    last_attempt_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("attempts.id"))
    decided_at: Mapped[dt.datetime | None]
    overdue_at: Mapped[dt.datetime | None]
    suspended_at: Mapped[dt.datetime | None]

    change_seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), default=0, unique=True, index=True
    )
    """Position in the results feed: assigned in commit order on every change."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RecordEvent(Base):
    """What happened to a record (the outbox webhooks are sent from), in feed order."""

    __tablename__ = "record_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    change_seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), index=True
    )
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("qualification_records.id"), index=True)
    pensioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pensioners.id"))
    event: Mapped[str] = mapped_column(String(16))
    """due | certified | failed | review | overdue | suspended | restored"""
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)


class FeedCounter(Base):
    """Named counters (one row each); `records` numbers record changes in commit order."""

    __tablename__ = "feed_counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
