"""Long agency jobs with progress: result exports and bulk enrolments."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONValue, new_id, utcnow

__all__ = ["JobState", "BulkKind", "ExportJob", "EnrolmentJob", "EnrolmentRow"]


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BulkKind(StrEnum):
    """What a bulk CSV job does with its rows (one job table, one row table for both)."""

    ENROLMENT = "enrolment"
    """Pensioners to enrol (service/bulk_enrolment.py)."""
    DEATHS = "deaths"
    """Deaths reported by a civil registry's file (service/death_reports.py)."""


class ExportJob(Base):
    __tablename__ = "export_jobs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    requested_by: Mapped[str] = mapped_column(String(64), index=True)
    principal_regions: Mapped[list[str]] = mapped_column(JSONValue)
    """The requester's regions when asked: the export never holds rows outside them."""
    filters: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    format: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    blob_key: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    cursor: Mapped[str | None] = mapped_column(String(64))
    """The feed cursor at the export's snapshot: continue the feed from here."""
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    files_purged_at: Mapped[dt.datetime | None]
    """When retention deleted the job's files (the job row and its counts stay)."""


class EnrolmentJob(Base):
    __tablename__ = "enrolment_jobs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16), default=BulkKind.ENROLMENT, server_default=BulkKind.ENROLMENT)
    """A bulk enrolment or a file of death reports (BulkKind)."""
    requested_by: Mapped[str] = mapped_column(String(64), index=True)
    principal_regions: Mapped[list[str]] = mapped_column(JSONValue)
    csv_key: Mapped[str] = mapped_column(String(255))
    photos_key: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_created: Mapped[int] = mapped_column(Integer, default=0)
    rows_failed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    files_purged_at: Mapped[dt.datetime | None]
    """When retention deleted the job's files (the job row and its counts stay)."""


class EnrolmentRow(Base):
    """The outcome of one CSV row: the pensioner made (or the death recorded), or the
    reasons it was refused."""

    __tablename__ = "enrolment_rows"
    __table_args__ = (UniqueConstraint("job_id", "line"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrolment_jobs.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    """Line number in the CSV file (the header is line 1)."""
    pensioner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pensioners.id"))
    life_event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("life_events.id"))
    """For a file of deaths: the death report the row recorded (or found already there)."""
    errors: Mapped[list[dict[str, str]]] = mapped_column(JSONValue, default=list)
    """[{"field": ..., "code": ..., "message": ...}]"""
