"""The manual review queue: attempts the engine sent to review, appeals after lockout, and
enrolments put on hold (for example a national ID already enrolled in another region)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum, nonmember

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_id, utcnow

__all__ = ["Review", "ReviewKind", "ReviewState"]


class ReviewKind(StrEnum):
    ENGINE = "engine"
    """The engine's decision was `review` (scores between the thresholds)."""
    APPEAL = "appeal"
    """The pensioner (or staff) asked for a person to look at a failed attempt."""
    DUPLICATE_ENROLMENT = "duplicate_enrolment"
    """An enrolment is on hold because its national ID is enrolled in another region:
    keep it (the person moved; the older enrolment is closed) or reject it."""
    DUPLICATE_IDENTITY = "duplicate_identity"
    """An enrolment is on hold because its reference face matches another pensioner's
    (identity search): keep it (two people after all; both stay) or reject it."""

    ATTEMPTS = nonmember(frozenset({ENGINE, APPEAL}))
    """Kinds about an attempt (the others are about an enrolment on hold)."""


class ReviewState(StrEnum):
    OPEN = "open"
    DECIDED = "decided"


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_state_region_code", "state", "region_code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    attempt_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("attempts.id"), unique=True)
    """One review per attempt: a second appeal of the same attempt is refused. None for
    a review of an enrolment on hold."""
    pensioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pensioners.id"), index=True)
    """The pensioner of the attempt, or the enrolment on hold."""
    other_pensioner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pensioners.id"))
    """For an enrolment on hold: the earlier enrolment it collides with."""
    region_code: Mapped[str | None] = mapped_column(String(6))
    """The paying region of `pensioner_id` when the item was opened (a copy, so the
    agency dashboard counts a region's queue without joining every pensioner)."""
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=ReviewState.OPEN, index=True)
    appeal_note: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None]
    decision: Mapped[str | None] = mapped_column(String(16))
    """passed | failed (an attempt); keep_new | reject_new (an enrolment on hold)"""
    reason: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
