"""Proof-of-life events imported by agencies for certification by data matching (无感认证)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_id, utcnow

__all__ = ["LifeEvent"]


class LifeEvent(Base):
    __tablename__ = "life_events"
    __table_args__ = (UniqueConstraint("pensioner_id", "source", "reference"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    pensioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pensioners.id"), index=True)
    source: Mapped[str] = mapped_column(String(32))
    """e.g. hospital_visit, card_payment, civil_affairs"""
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(128))
    """The source system's id of the event (re-importing it changes nothing)."""
    imported_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
