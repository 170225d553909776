"""Life events imported by agencies: proof of life (certification by data matching,
无感认证) and deaths reported elsewhere (civil registry, hospital, funeral home, family)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum, nonmember
from typing import Any

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONValue, new_id, utcnow

__all__ = ["LifeEvent", "LifeEventKind", "DeathSuspension"]


class LifeEventKind(StrEnum):
    PROOF_OF_LIFE = "proof_of_life"
    """The pensioner was seen alive (a hospital visit, a card payment, ...)."""
    DEATH = "death"
    """Another authority reports that the pensioner died on `occurred_on`."""

    ALL = nonmember((PROOF_OF_LIFE, DEATH))


class LifeEvent(Base):
    __tablename__ = "life_events"
    __table_args__ = (UniqueConstraint("pensioner_id", "source", "reference"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    pensioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pensioners.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=LifeEventKind.PROOF_OF_LIFE,
                                      server_default=LifeEventKind.PROOF_OF_LIFE)
    source: Mapped[str] = mapped_column(String(32))
    """e.g. hospital_visit, card_payment, civil_affairs; for a death: civil_registry,
    hospital, funeral_home, family"""
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    """The day of the event (for a death: the date of death)."""
    reference: Mapped[str] = mapped_column(String(128))
    """The source system's id of the event (re-importing it changes nothing)."""
    imported_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    effects: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    """What a death report did when it was recorded: records suspended, certificates
    revoked, links and sessions closed (ids and counts)."""
    reversed_at: Mapped[dt.datetime | None]
    """A reviewer found the death report wrong (it stays, marked reversed)."""
    reversed_by: Mapped[str | None] = mapped_column(String(64))
    reversal_reason: Mapped[str | None] = mapped_column(String(200))


class DeathSuspension(Base):
    """A record a death report suspended, with what the record was before (so that a
    reversal of a wrong report puts it back as it was)."""

    __tablename__ = "death_suspensions"
    __table_args__ = (UniqueConstraint("life_event_id", "record_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    life_event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("life_events.id"), index=True)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("qualification_records.id"), index=True)
    prior_status: Mapped[str] = mapped_column(String(16))
    prior_method: Mapped[str | None] = mapped_column(String(16))
    prior_suspended_at: Mapped[dt.datetime | None]
    prior_life_event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("life_events.id"))
    suspended_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    restored_at: Mapped[dt.datetime | None]
