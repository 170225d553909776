"""Resumable, chunked uploads of a recording for one certification session.

A client declares the file's size (and SHA-256), sends fixed-size chunks by index in any
order and as often as it likes (a repeated chunk with the same bytes changes nothing),
then asks for completion: the chunks are reassembled and handed to the normal intake.
The chunk bytes live in the blob store under uploads/<upload id>/ until then.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_id, utcnow

__all__ = ["Upload", "UploadChunk", "UploadStatus"]


class UploadStatus(StrEnum):
    RECEIVING = "receiving"
    COMPLETE = "complete"
    """Reassembled and accepted: `attempt_id` names the attempt."""


class Upload(Base):
    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("certification_sessions.id"), unique=True
    )
    """One upload per session (a new declaration replaces an unfinished one)."""
    pensioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pensioners.id"), index=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    chunk_bytes: Mapped[int] = mapped_column(Integer)
    chunk_count: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    """The whole file's SHA-256 as declared by the client; checked on completion."""
    content_type: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=UploadStatus.RECEIVING, index=True)
    attempt_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("attempts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[dt.datetime | None]


class UploadChunk(Base):
    __tablename__ = "upload_chunks"

    upload_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("uploads.id", ondelete="CASCADE"), primary_key=True
    )
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
