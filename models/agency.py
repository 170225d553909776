"""Pension agencies: the paying body of a region, its period rules and its signing key."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum, nonmember

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONValue, new_id, utcnow

__all__ = ["Agency", "PeriodKind"]


class PeriodKind(StrEnum):
    CALENDAR_YEAR = "calendar_year"
    """Everyone certifies once per calendar year; the deadline is 31 December (+ grace)."""
    ROLLING_12_MONTHS = "rolling_12_months"
    """Each pensioner certifies once per 12 months from the anniversary of enrolment."""

    ALL = nonmember((CALENDAR_YEAR, ROLLING_12_MONTHS))


class Agency(Base):
    """The agency paying the pensions of one region (province, city or county code).

    A pensioner belongs to the agency with the longest region code covering the
    pensioner's paying region.
    """

    __tablename__ = "agencies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(String(6), unique=True)
    period_kind: Mapped[str] = mapped_column(String(24), default=PeriodKind.CALENDAR_YEAR)
    grace_days: Mapped[int] = mapped_column(Integer, default=0)
    """Days after the end of a period before an uncertified record becomes overdue."""
    suspend_after_days: Mapped[int | None] = mapped_column(Integer)
    """Days overdue before the sweep suspends a record itself; None: only the agency suspends."""
    data_match_sources: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    """Proof-of-life sources (e.g. "hospital_visit") that certify a record by data matching."""
    signing_key_id: Mapped[str] = mapped_column(String(32), unique=True)
    signing_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    """The Ed25519 private key (raw 32 bytes), AES-GCM encrypted."""
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    """The Ed25519 public key (raw 32 bytes); published for offline verification."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
