"""A pensioner's self-service failures and lockout, kept in the database (durable: a
Redis restart or outage neither erases a lock nor stops one from being set)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_id, utcnow

__all__ = ["SelfServiceFailure", "SelfServiceLock"]


class SelfServiceFailure(Base):
    """One failure of the pensioner's own certification: a failed result, or an upload
    (made with the right session nonce) that is not a usable video. A wrong nonce is the
    caller's failure, not the pensioner's, and is never recorded here."""

    __tablename__ = "self_service_failures"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    pensioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pensioners.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(64))
    attempt_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("attempts.id"))


class SelfServiceLock(Base):
    """The current (or last) lock of a pensioner's self-service; one row per pensioner."""

    __tablename__ = "self_service_locks"

    pensioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pensioners.id"), primary_key=True)
    locked_at: Mapped[dt.datetime | None]
    locked_until: Mapped[dt.datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0)
    """Failures that set the lock."""
    counts_since: Mapped[dt.datetime | None]
    """Failures before this moment no longer count (the lock was set or lifted then)."""
    lifted_at: Mapped[dt.datetime | None]
    lifted_by: Mapped[str | None] = mapped_column(String(64))
