"""Certification sessions (an issued challenge) and attempts (one uploaded video each)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum, nonmember
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, JSONValue, new_id, utcnow

__all__ = ["CertificationSession", "Attempt", "AttemptStatus", "Channel"]


class Channel(StrEnum):
    SELF = "self"
    ASSISTED = "assisted"


class CertificationSession(Base):
    __tablename__ = "certification_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    pensioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pensioners.id"), index=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    challenge: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    """certify.Challenge.to_json(): actions in order, optional digits."""
    channel: Mapped[str] = mapped_column(String(16), default=Channel.SELF)
    assisted_by: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(128))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    """The browser that opened the session (User-Agent, cut to 200 characters)."""
    device_family: Mapped[str | None] = mapped_column(String(16))
    """The browser's device family from its User-Agent (service.rules.devices)."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    consent_at: Mapped[dt.datetime | None]
    upload_deadline: Mapped[dt.datetime | None]
    """Until when a recording made for this challenge may still be uploaded (resumable
    upload, recordings kept offline); None means `expires_at`."""
    link_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pensioner_links.id"))
    """The one-time link the pensioner opened the session with, if any."""

    attempt: Mapped[Attempt | None] = relationship(back_populates="session")


class AttemptStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    PASSED = "passed"
    FAILED = "failed"
    REVIEW = "review"
    ERROR = "error"
    """The system could not process the video (not the pensioner's fault; not counted)."""

    DECIDED = nonmember(frozenset({PASSED, FAILED, REVIEW}))
    FINAL = nonmember(frozenset({PASSED, FAILED, REVIEW, ERROR}))
    UNDECIDED = nonmember(frozenset({QUEUED, PROCESSING}))
    """Spoken for: they count toward the period's tries until decided, and a pensioner
    has at most one of them at a time (a unique partial index on attempts)."""


_UNDECIDED_SQL = text("status IN ('queued', 'processing')")


class Attempt(Base):
    __tablename__ = "attempts"
    __table_args__ = (
        Index(
            "uq_attempts_one_undecided", "pensioner_id", unique=True,
            sqlite_where=_UNDECIDED_SQL, postgresql_where=_UNDECIDED_SQL,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("certification_sessions.id"), unique=True
    )
    """One attempt per session: a double submit can never create two."""
    pensioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pensioners.id"), index=True)
    period: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), default=AttemptStatus.QUEUED, index=True)
    channel: Mapped[str] = mapped_column(String(16), default=Channel.SELF)
    assisted_by: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(128))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    """Copied from the session: with device_id, which device recorded it."""
    device_family: Mapped[str | None] = mapped_column(String(16))
    """Copied from the session: android, ios, harmonyos, windows, mac, linux, other."""
    reference_class: Mapped[str | None] = mapped_column(String(16))
    """Class of the nearest reference when decided: full, card, id_card, or fresh (a
    reference kept from an earlier passed certification)."""
    consent_at: Mapped[dt.datetime | None]
    """When the pensioner consented to the biometric check (copied from the session)."""
    uploaded_late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The video arrived after the challenge's recording expiry (kept offline, or a
    resumed upload): bound to the challenge all the same, flagged for reviewers."""

    video_key: Mapped[str | None] = mapped_column(String(255))
    """None once the raw video has been purged (the decision and key frames stay)."""
    video_sha256: Mapped[str] = mapped_column(String(64), index=True)
    video_bytes: Mapped[int] = mapped_column(Integer)
    video_content_type: Mapped[str] = mapped_column(String(100))
    video_duration_ms: Mapped[int | None] = mapped_column(Integer)
    video_width: Mapped[int | None] = mapped_column(Integer)
    video_height: Mapped[int | None] = mapped_column(Integer)

    reasons: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    match_distance: Mapped[float | None] = mapped_column(Float)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    """The engine's Assessment.to_json(): scores, actions, timings, thresholds version."""
    key_frame_keys: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    thresholds_version: Mapped[str | None] = mapped_column(String(32))
    engine_version: Mapped[str | None] = mapped_column(String(32))
    fingerprint: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    processing_runs: Mapped[int] = mapped_column(Integer, default=0)

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    enqueued_at: Mapped[dt.datetime | None]
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]

    session: Mapped[CertificationSession] = relationship(back_populates="attempt")
