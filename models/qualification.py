"""The annual qualification record: one per pensioner, benefit scheme and period."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_id, utcnow

__all__ = ["QualificationRecord", "RecordStatus", "Method", "DEFAULT_SCHEME"]

DEFAULT_SCHEME = "basic_pension"


class RecordStatus:
    DUE = "due"
    CERTIFIED = "certified"
    OVERDUE = "overdue"
    SUSPENDED = "suspended"
    RESTORED = "restored"


class Method:
    SELF = "self"
    ASSISTED = "assisted"
    REVIEW = "review"
    IN_PERSON = "in_person"
    DATA_MATCH = "data_match"


class QualificationRecord(Base):
    __tablename__ = "qualification_records"
    __table_args__ = (UniqueConstraint("pensioner_id", "scheme", "period"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    pensioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pensioners.id"), index=True)
    scheme: Mapped[str] = mapped_column(String(32), default=DEFAULT_SCHEME)
    period: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), default=RecordStatus.DUE, index=True)
    certified_at: Mapped[dt.datetime | None]
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    method: Mapped[str | None] = mapped_column(String(16))
    attempt_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("attempts.id"))
    assisted_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
