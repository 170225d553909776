"""Data functions for certification sessions, attempts and their outcomes. They never commit."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from certify import Challenge, VideoInfo
from models import (
    Attempt,
    AttemptStatus,
    CertificationSession,
    Channel,
    FaceReference,
    Method,
    QualificationRecord,
    RecordStatus,
    ReferenceStatus,
)

from .errors import ConflictError, ForbiddenError, GoneError, InvalidInputError, NotFoundError
from .periods import period_for, valid_until
from .pensioners import ensure_record, get_pensioner
from .storage import StoredBlob

__all__ = [
    "Outcome",
    "open_session",
    "get_session_for_upload",
    "create_attempt",
    "get_attempt",
    "failed_attempts",
    "tries_left",
    "mark_processing",
    "record_outcome",
    "REASON_VIDEO_REUSED",
    "earlier_upload_of_same_video",
]

REASON_VIDEO_REUSED = "video_reused"
"""The uploaded video is byte-for-byte one this pensioner uploaded before."""


def open_session(
    db: Session,
    *,
    pensioner_id: uuid.UUID,
    challenge: Challenge,
    ttl_s: int,
    max_failed_attempts: int,
    now: dt.datetime,
    channel: str = Channel.SELF,
    assisted_by: str | None = None,
    device_id: str | None = None,
) -> CertificationSession:
    """Issue a challenge to a pensioner who has a reference photo and tries left."""
    pensioner = get_pensioner(db, pensioner_id)
    if channel not in (Channel.SELF, Channel.ASSISTED):
        raise InvalidInputError("channel_invalid", "channel must be 'self' or 'assisted'")
    if channel == Channel.ASSISTED and not assisted_by:
        raise InvalidInputError("assisted_by_required", "an assisted session names the helper")
    has_reference = db.scalar(
        select(func.count())
        .select_from(FaceReference)
        .where(
            FaceReference.pensioner_id == pensioner.id,
            FaceReference.status == ReferenceStatus.ACTIVE,
        )
    )
    if not has_reference:
        raise ConflictError(
            "no_reference_photo", "the pensioner has no enrolled reference photo yet"
        )
    period = period_for(now)
    if tries_left(db, pensioner_id=pensioner.id, period=period, limit=max_failed_attempts) <= 0:
        raise ConflictError(
            "attempts_exhausted",
            "no certification tries are left this period; community staff can help",
            period=period,
        )
    session = CertificationSession(
        id=uuid.uuid4(),
        pensioner_id=pensioner.id,
        nonce=secrets.token_urlsafe(24),
        challenge=challenge.to_json(),
        channel=channel,
        assisted_by=assisted_by,
        device_id=device_id,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=ttl_s),
    )
    db.add(session)
    db.flush()
    return session


def get_session_for_upload(
    db: Session,
    *,
    session_id: uuid.UUID,
    pensioner_id: uuid.UUID,
    nonce: str | None,
    now: dt.datetime,
) -> CertificationSession:
    """The session a video is being uploaded for, if this upload may use it."""
    session = db.get(CertificationSession, session_id)
    if session is None:
        raise NotFoundError("session_not_found", "no such certification session")
    if session.pensioner_id != pensioner_id:
        raise ForbiddenError(
            "session_pensioner_mismatch", "this session was issued to another pensioner"
        )
    # compared as bytes: a non-ASCII header must be a wrong nonce, not a TypeError (500)
    if not nonce or not secrets.compare_digest(
        nonce.encode("utf-8", "surrogateescape"), session.nonce.encode()
    ):
        raise ForbiddenError("nonce_mismatch", "the session nonce is missing or wrong")
    if session.used_at is not None:
        raise ConflictError("session_used", "a video was already uploaded for this session")
    if now > session.expires_at:
        raise GoneError("session_expired", "the challenge expired; start a new session")
    return session


def create_attempt(
    db: Session,
    *,
    session: CertificationSession,
    attempt_id: uuid.UUID,
    blob: StoredBlob,
    content_type: str,
    info: VideoInfo,
    now: dt.datetime,
) -> Attempt:
    """Record an uploaded (already durably stored) video as a queued attempt.

    Marks the session used with a conditional update, so two racing uploads for one
    session cannot both succeed (the unique session_id on attempts backs this up).
    """
    claimed = db.execute(
        update(CertificationSession)
        .where(CertificationSession.id == session.id, CertificationSession.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        raise ConflictError("session_used", "a video was already uploaded for this session")
    attempt = Attempt(
        id=attempt_id,
        session_id=session.id,
        pensioner_id=session.pensioner_id,
        period=period_for(now),
        status=AttemptStatus.QUEUED,
        channel=session.channel,
        assisted_by=session.assisted_by,
        device_id=session.device_id,
        video_key=blob.key,
        video_sha256=blob.sha256,
        video_bytes=blob.size_bytes,
        video_content_type=content_type[:100],
        video_duration_ms=info.duration_ms,
        video_width=info.width,
        video_height=info.height,
        reasons=[],
        key_frame_keys=[],
        processing_runs=0,
        created_at=now,
    )
    db.add(attempt)
    db.flush()
    return attempt


def get_attempt(db: Session, attempt_id: uuid.UUID) -> Attempt:
    attempt = db.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFoundError("attempt_not_found", "no such attempt")
    return attempt


def failed_attempts(db: Session, *, pensioner_id: uuid.UUID, period: str) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(Attempt)
            .where(
                Attempt.pensioner_id == pensioner_id,
                Attempt.period == period,
                Attempt.status == AttemptStatus.FAILED,
            )
        )
        or 0
    )


def tries_left(db: Session, *, pensioner_id: uuid.UUID, period: str, limit: int) -> int:
    """How many more failed attempts this period before the pensioner is sent to staff."""
    return max(0, limit - failed_attempts(db, pensioner_id=pensioner_id, period=period))


def mark_processing(db: Session, *, attempt: Attempt, now: dt.datetime) -> None:
    attempt.status = AttemptStatus.PROCESSING
    attempt.started_at = now
    attempt.processing_runs = (attempt.processing_runs or 0) + 1


@dataclass(frozen=True)
class Outcome:
    """What processing decided for an attempt, ready to be recorded."""

    status: str
    reasons: Sequence[str]
    match_distance: float | None = None
    result: dict[str, Any] | None = None
    thresholds_version: str | None = None
    engine_version: str | None = None
    fingerprint: str | None = None
    key_frame_keys: Sequence[str] = field(default_factory=tuple)
    error: str | None = None


def record_outcome(
    db: Session, *, attempt: Attempt, outcome: Outcome, now: dt.datetime, validity_days: int
) -> QualificationRecord | None:
    """Write the outcome on the attempt; a pass certifies the period's qualification record."""
    attempt.status = outcome.status
    attempt.reasons = list(outcome.reasons)
    attempt.match_distance = outcome.match_distance
    attempt.result = outcome.result
    attempt.thresholds_version = outcome.thresholds_version
    attempt.engine_version = outcome.engine_version
    attempt.fingerprint = outcome.fingerprint
    attempt.key_frame_keys = list(outcome.key_frame_keys)
    attempt.error = outcome.error
    attempt.finished_at = now
    if outcome.status != AttemptStatus.PASSED:
        return None
    record = ensure_record(db, pensioner_id=attempt.pensioner_id, period=attempt.period, now=now)
    if record.status in (RecordStatus.CERTIFIED, RecordStatus.RESTORED) and record.certified_at:
        return record  # already certified this period by an earlier attempt; keep the first
    # a pensioner whose payments were suspended is restored (with back pay) by certifying
    was_suspended = record.status == RecordStatus.SUSPENDED
    record.status = RecordStatus.RESTORED if was_suspended else RecordStatus.CERTIFIED
    record.certified_at = now
    record.valid_until = valid_until(now, validity_days=validity_days)
    record.method = Method.ASSISTED if attempt.channel == Channel.ASSISTED else Method.SELF
    record.attempt_id = attempt.id
    record.assisted_by = attempt.assisted_by
    record.updated_at = now
    return record


def earlier_upload_of_same_video(db: Session, *, attempt: Attempt) -> uuid.UUID | None:
    """An earlier attempt of the same pensioner with byte-identical video, if any."""
    return db.scalar(
        select(Attempt.id)
        .where(
            Attempt.pensioner_id == attempt.pensioner_id,
            Attempt.video_sha256 == attempt.video_sha256,
            Attempt.id != attempt.id,
            Attempt.created_at <= attempt.created_at,
        )
        .limit(1)
    )
