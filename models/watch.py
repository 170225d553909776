"""What the watch on assisted captures found about one attempt (issue 13, section 3)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONValue, new_id, utcnow

__all__ = ["AttemptWatch"]


class AttemptWatch(Base):
    """One row per decided assisted attempt: the second face seen beside the pensioner's
    and the watch flags raised (service/watch.py). The staff account, device and time
    are the attempt's own columns."""

    __tablename__ = "attempt_watch"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    attempt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attempts.id"), unique=True)
    frames_checked: Mapped[int] = mapped_column(Integer, default=0)
    second_face_frames: Mapped[int] = mapped_column(Integer, default=0)
    second_face_embedding_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The helper's face embedding (certify.bystanders), encrypted like every embedding."""
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    """The paying region of the pensioner: lists are scoped by it."""
    flags: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    """Reason codes of the flags raised (service.watch.WatchFlag)."""
    details: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    """What each flag measured against its threshold."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
