"""Request and response bodies: XCreate for input, XPublic for output."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from models import Attempt, CertificationSession, FaceReference, Pensioner, QualificationRecord

__all__ = [
    "PensionerCreate",
    "PensionerPublic",
    "ReferencePublic",
    "SessionCreate",
    "SessionPublic",
    "ChallengePublic",
    "AttemptPublic",
    "QualificationPublic",
    "ActionPublic",
    "CleanText",
]

_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _storable(value: str) -> str:
    """Refuse control characters and lone surrogates: no database stores NUL, and no
    person's name or device id contains them."""
    if _UNSTORABLE.search(value):
        raise ValueError("contains control characters or invalid unicode")
    return value


CleanText = Annotated[str, AfterValidator(_storable)]
"""A text field that can be stored and shown as it was sent."""


class PensionerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: CleanText = Field(min_length=1, max_length=100)
    national_id: CleanText = Field(min_length=1, max_length=32, description="GB 11643 ID number")
    region_code: CleanText = Field(min_length=1, max_length=6, description="paying region (GB/T 2260)")
    phone: CleanText | None = Field(None, max_length=20, pattern=r"^\+?[0-9 -]{5,20}$")
    residence_region_code: CleanText | None = Field(None, max_length=6)
    schemes: list[Literal["basic_pension", "survivors", "work_injury"]] = Field(
        default_factory=lambda: ["basic_pension"],
        min_length=1,
        description="benefits that each need the annual certification (one pass satisfies all)",
    )
    external_ref: CleanText | None = Field(None, max_length=64, description="the agency's own reference")


class QualificationPublic(BaseModel):
    scheme: str
    period: str
    status: str
    certified_at: dt.datetime | None
    valid_until: dt.date | None
    method: str | None
    attempt_id: uuid.UUID | None
    due_by: dt.date | None = None
    decision: str | None = None
    reasons: list[str] = []

    @classmethod
    def of(cls, record: QualificationRecord) -> QualificationPublic:
        return cls(
            scheme=record.scheme,
            period=record.period,
            status=record.status,
            certified_at=record.certified_at,
            valid_until=record.valid_until,
            method=record.method,
            attempt_id=record.attempt_id,
            due_by=record.due_by,
            decision=record.decision,
            reasons=list(record.reasons or []),
        )


class ReferencePublic(BaseModel):
    id: uuid.UUID
    source: str
    status: str
    model_version: str
    face_box: list[int] | None
    quality_class: str
    """full, card or id_card: the match band certifications use against this photo."""
    width_px: int | None = None
    height_px: int | None = None
    quality_score: float | None = None
    taken_on: dt.date | None = None
    created_at: dt.datetime

    @classmethod
    def of(cls, reference: FaceReference) -> ReferencePublic:
        return cls(
            id=reference.id,
            source=reference.source,
            status=reference.status,
            model_version=reference.model_version,
            face_box=reference.face_box,
            quality_class=reference.quality_class or "full",
            width_px=reference.width_px,
            height_px=reference.height_px,
            quality_score=reference.quality_score,
            taken_on=reference.taken_on,
            created_at=reference.created_at,
        )


class PensionerPublic(BaseModel):
    id: uuid.UUID
    name: str
    national_id_masked: str
    region_code: str
    residence_region_code: str | None
    birth_date: dt.date
    enrolment_status: str
    """`active`; `on_hold` (waits for a reviewer: cannot be certified yet); `closed`."""
    references: list[ReferencePublic]
    created_at: dt.datetime

    @classmethod
    def of(cls, pensioner: Pensioner) -> PensionerPublic:
        return cls(
            id=pensioner.id,
            name=pensioner.name,
            national_id_masked=pensioner.national_id_masked,
            region_code=pensioner.region_code,
            residence_region_code=pensioner.residence_region_code,
            birth_date=pensioner.birth_date,
            enrolment_status=pensioner.enrolment_status,
            references=[ReferencePublic.of(r) for r in pensioner.references],
            created_at=pensioner.created_at,
        )


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["self", "assisted"] = "self"
    assisted_by: CleanText | None = Field(None, max_length=64)
    device_id: CleanText | None = Field(None, max_length=128)
    with_digits: bool | None = Field(None, description="also ask for 4 digits read aloud")
    consent: bool = Field(
        False,
        description="the pensioner agreed to the biometric check (recorded with the attempt)",
    )


class ChallengePublic(BaseModel):
    actions: list[str]
    digits: str | None


class SessionPublic(BaseModel):
    id: uuid.UUID
    pensioner_id: uuid.UUID
    challenge: ChallengePublic
    nonce: str
    expires_at: dt.datetime
    """Start recording before this."""
    upload_deadline: dt.datetime
    """The recording may arrive by resumable upload until this (kept offline meanwhile)."""
    consent_at: dt.datetime | None = None
    upload_url: str
    uploads_url: str
    """POST here to start a resumable, chunked upload of the recording."""

    @classmethod
    def of(cls, session: CertificationSession) -> SessionPublic:
        return cls(
            id=session.id,
            pensioner_id=session.pensioner_id,
            challenge=ChallengePublic(
                actions=list(session.challenge.get("actions", [])),
                digits=session.challenge.get("digits"),
            ),
            nonce=session.nonce,
            expires_at=session.expires_at,
            upload_deadline=session.upload_deadline or session.expires_at,
            consent_at=session.consent_at,
            upload_url=f"/v1/pensioners/{session.pensioner_id}/sessions/{session.id}/video",
            uploads_url=f"/v1/pensioners/{session.pensioner_id}/sessions/{session.id}/uploads",
        )


class ActionPublic(BaseModel):
    name: str
    t_ms: int
    strength: float


class AttemptPublic(BaseModel):
    """An attempt as its caller may see it. The attempt id alone (a result page without
    the pensioner's link pass) shows status, reasons, tries left and validity; the ids of
    other objects and the qualification record need the pass or a credential that sees
    the pensioner; the evidence needs evidence rights in the paying region."""

    id: uuid.UUID
    pensioner_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    status: str
    reasons: list[str]
    period: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    valid_until: dt.date | None = None
    """Until when a passed attempt certifies the pensioner."""
    qualification: QualificationPublic | None = None
    tries_left: int | None = None
    # evidence: only for operators
    match_distance: float | None = None
    actions: list[ActionPublic] | None = None
    scores: dict[str, float] | None = None
    timings_ms: dict[str, float] | None = None
    thresholds_version: str | None = None
    engine_version: str | None = None

    @classmethod
    def of(
        cls,
        attempt: Attempt,
        *,
        with_evidence: bool,
        qualification: QualificationRecord | None = None,
        tries_left: int | None = None,
        owner: bool = True,
    ) -> AttemptPublic:
        body: dict[str, Any] = {
            "id": attempt.id,
            "status": attempt.status,
            "reasons": list(attempt.reasons or []),
            "period": attempt.period,
            "created_at": attempt.created_at,
            "started_at": attempt.started_at,
            "finished_at": attempt.finished_at,
            "valid_until": qualification.valid_until if qualification else None,
            "tries_left": tries_left,
        }
        if owner:
            body.update(
                pensioner_id=attempt.pensioner_id,
                session_id=attempt.session_id,
                qualification=QualificationPublic.of(qualification) if qualification else None,
            )
        if with_evidence:
            result = attempt.result or {}
            body.update(
                match_distance=attempt.match_distance,
                actions=result.get("actions"),
                scores=result.get("scores"),
                timings_ms=result.get("timings_ms"),
                thresholds_version=attempt.thresholds_version,
                engine_version=attempt.engine_version,
            )
        return cls(**body)
