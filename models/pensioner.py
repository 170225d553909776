"""Pensioners and their enrolled face references."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum, nonmember

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, JSONValue, new_id, utcnow

__all__ = [
    "Pensioner",
    "FaceReference",
    "ReferenceSource",
    "ReferenceStatus",
    "EnrolmentStatus",
    "HoldReason",
    "ClosedReason",
]


class EnrolmentStatus(StrEnum):
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    """Waits for a reviewer (`hold_reason` says why): it cannot be certified, has no
    qualification records and is not in the agencies' feeds until it is released."""
    CLOSED = "closed"
    """Ended (`closed_reason`): kept for the record, never certified again."""

    ALL = nonmember((ACTIVE, ON_HOLD, CLOSED))


class HoldReason(StrEnum):
    """Why an enrolment was put on hold (each opens a review item for reviewers)."""

    DUPLICATE_NATIONAL_ID = "duplicate_national_id"
    """The national ID number is already enrolled in a region the enroler does not see."""
    DUPLICATE_IDENTITY = "duplicate_identity"
    """A reference photo's face matches another pensioner's reference (identity search)."""


class ClosedReason(StrEnum):
    SUPERSEDED = "superseded"
    """A reviewer kept a newer enrolment of the same person (who moved) instead."""
    HOLD_REJECTED = "hold_rejected"
    """A reviewer rejected this enrolment while it was on hold."""


_ACTIVE_ONLY = text(f"enrolment_status = '{EnrolmentStatus.ACTIVE}'")


class Pensioner(Base):
    __tablename__ = "pensioners"
    __table_args__ = (
        Index(
            "uq_pensioners_active_national_id_hash", "national_id_hash", unique=True,
            sqlite_where=_ACTIVE_ONLY, postgresql_where=_ACTIVE_ONLY,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    national_id_hash: Mapped[str] = mapped_column(String(64), index=True)
    """Keyed hash of the national ID number, for lookups; unique among active enrolments
    (held and closed ones may repeat it)."""
    national_id_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    national_id_masked: Mapped[str] = mapped_column(String(18))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    phone_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    """Administrative division code (GB/T 2260) of the paying region."""
    residence_region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    """Where the pensioner lives when away from the paying region (cross-region)."""
    external_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    """The paying agency's own reference for the pensioner (its pension account number)."""
    enrolment_status: Mapped[str] = mapped_column(
        String(16), default=EnrolmentStatus.ACTIVE, server_default=EnrolmentStatus.ACTIVE
    )
    """active | on_hold | closed (EnrolmentStatus)."""
    hold_reason: Mapped[str | None] = mapped_column(String(32))
    """Why the enrolment was (or is) on hold (HoldReason), kept for reviewers."""
    closed_at: Mapped[dt.datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(String(32))
    """Why the enrolment was closed (ClosedReason)."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    references: Mapped[list[FaceReference]] = relationship(
        back_populates="pensioner", order_by="FaceReference.created_at"
    )


class ReferenceSource(StrEnum):
    """Where a reference photo came from. Every source but `certification` is an anchor:
    never retired by fresh references, and what a fresh reference must match."""

    ID_CARD = "id_card"
    """The resident ID card / population register photo (102 x 126 px, often old)."""
    SOCIAL_SECURITY_CARD = "social_security_card"
    """The social security card photo (358 x 441 px)."""
    UPLOAD = "upload"
    """Any other photo uploaded at enrolment (also every photo enrolled before sources
    were recorded)."""
    CERTIFICATION = "certification"
    """A fresh reference added from a passed certification (keeps ageing faces matching)."""
    STAFF_CAPTURE = "staff_capture"
    """Taken by community staff on a tablet; waits for a second person's approval."""

    UPLOADED = nonmember(frozenset({ID_CARD, SOCIAL_SECURITY_CARD, UPLOAD}))
    """What a caller may name when uploading a photo."""
    ANCHORS = nonmember(frozenset({ID_CARD, SOCIAL_SECURITY_CARD, UPLOAD, STAFF_CAPTURE}))


class ReferenceStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"
    """Captured by staff, waiting for approval by a second person."""
    REJECTED = "rejected"
    RETIRED = "retired"


class FaceReference(Base):
    __tablename__ = "face_references"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    pensioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pensioners.id"), index=True)
    embedding_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    """The 128-d float64 embedding, AES-GCM encrypted (context: reference id)."""
    model_version: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=ReferenceStatus.ACTIVE)
    photo_key: Mapped[str | None] = mapped_column(String(255))
    face_box: Mapped[list[int] | None] = mapped_column(JSONValue)
    quality: Mapped[dict[str, float] | None] = mapped_column(JSONValue)
    quality_class: Mapped[str] = mapped_column(String(16), default="full", server_default="full")
    """certify.references.ReferenceClass (full, card, id_card): the match band used."""
    width_px: Mapped[int | None] = mapped_column(Integer)
    height_px: Mapped[int | None] = mapped_column(Integer)
    quality_score: Mapped[float | None] = mapped_column(Float)
    """0-1 (certify.photo.photo_quality_score)."""
    taken_on: Mapped[dt.date | None] = mapped_column(Date)
    """When the photo was taken, where known (an ID card photo is often 10-20 years old)."""
    attempt_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("attempts.id"))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    added_outside_paying_region: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Added by someone who does not see the pensioner's paying region (staff of the
    region the pensioner lives in): only a reviewer of the paying region may approve it."""
    decided_by: Mapped[str | None] = mapped_column(String(64))
    """Who approved or rejected a pending (staff-captured) photo: never its creator."""
    decided_at: Mapped[dt.datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(String(200))

    pensioner: Mapped[Pensioner] = relationship(back_populates="references")
