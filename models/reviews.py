"""The manual review queue: attempts the engine sent to review, and appeals after lockout."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_id, utcnow

__all__ = ["Review", "ReviewKind", "ReviewState"]


class ReviewKind:
    ENGINE = "engine"
    """The engine's decision was `review` (scores between the thresholds)."""
    APPEAL = "appeal"
    """The pensioner (or staff) asked for a person to look at a failed attempt."""


class ReviewState:
    OPEN = "open"
    DECIDED = "decided"


class Review(Base):
    __tablename__ = "reviews"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    attempt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attempts.id"), unique=True)
    """One review per attempt: a second appeal of the same attempt is refused."""
    pensioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pensioners.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=ReviewState.OPEN, index=True)
    appeal_note: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None]
    decision: Mapped[str | None] = mapped_column(String(16))
    """passed | failed"""
    reason: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
