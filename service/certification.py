"""Data functions for certification sessions, attempts and their outcomes. They never commit."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from certify import Challenge, ProcessingReason, VideoInfo, fingerprint_similarity
from certify.fingerprint import REUSE_MIN_SIMILARITY
from models import (
    Attempt,
    AttemptStatus,
    CertificationSession,
    Channel,
    FaceReference,
    Method,
    QualificationRecord,
    ReferenceStatus,
    ReviewKind,
)

from .admission import AdmissionRules, admit
from .audit import record_audit
from .certificates import issue_certificates
from .deaths import suspend_from_death
from .deceased import standing_death
from .error_codes import ErrorCode
from .errors import ConflictError, ForbiddenError, GoneError, InvalidInputError, NotFoundError
from .infra.crypto import Keyring
from .infra.storage import StoredBlob
from .life_events import certified_by_data_match
from .nonce_guard import NonceGuard
from .pensioners import get_pensioner
from .records import Certification, certify_period, check_certifiable, current_window, note_decision
from .reviews import open_review

__all__ = [
    "Outcome",
    "open_session",
    "get_session_for_upload",
    "create_attempt",
    "get_attempt",
    "mark_processing",
    "record_outcome",
    "earlier_upload_of_same_video",
    "earlier_recording_like",
    "RECENT_FINGERPRINTS",
]

RECENT_FINGERPRINTS = 50
"""How many of a pensioner's earlier recordings a new one is compared with for re-use."""

def open_session(
    db: Session,
    *,
    pensioner_id: uuid.UUID,
    challenge: Challenge,
    ttl_s: int,
    rules: AdmissionRules,
    now: dt.datetime,
    channel: str = Channel.SELF,
    assisted_by: str | None = None,
    device_id: str | None = None,
    user_agent: str | None = None,
    device_family: str | None = None,
    upload_window_s: int | None = None,
    consent_at: dt.datetime | None = None,
    link_id: uuid.UUID | None = None,
) -> CertificationSession:
    """Issue a challenge to a pensioner who has a reference photo and may try now
    (service.admission: not locked out, no attempt undecided, tries left).

    `ttl_s` bounds when the recording may start; `upload_window_s` (from issue) bounds
    when that recording may still arrive by resumable upload (None: the same as ttl_s).
    """
    pensioner = get_pensioner(db, pensioner_id)
    check_certifiable(pensioner)  # 409 enrolment_on_hold / enrolment_closed
    if channel not in (Channel.SELF, Channel.ASSISTED):
        raise InvalidInputError(ErrorCode.CHANNEL_INVALID, "channel must be 'self' or 'assisted'")
    if channel == Channel.ASSISTED and not assisted_by:
        raise InvalidInputError(ErrorCode.ASSISTED_BY_REQUIRED, "an assisted session names the helper")
    period = current_window(db, pensioner=pensioner, now=now).label
    if certified_by_data_match(db, pensioner_id=pensioner.id, period=period):
        raise ConflictError(
            ErrorCode.ALREADY_CERTIFIED, "this period is already certified by data matching; no video is needed",
            period=period,
        )
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
            ErrorCode.NO_REFERENCE_PHOTO, "the pensioner has no enrolled reference photo yet"
        )
    admit(db, pensioner_id=pensioner.id, period=period, channel=channel, now=now, rules=rules)
    session = CertificationSession(
        id=uuid.uuid4(),
        pensioner_id=pensioner.id,
        nonce=secrets.token_urlsafe(24),
        challenge=challenge.to_json(),
        channel=channel,
        assisted_by=assisted_by,
        device_id=device_id,
        user_agent=user_agent[:200] if user_agent else None,
        device_family=device_family,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=ttl_s),
        upload_deadline=now + dt.timedelta(seconds=max(ttl_s, upload_window_s))
        if upload_window_s is not None
        else None,
        consent_at=consent_at,
        link_id=link_id,
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
    guard: NonceGuard,
    rules: AdmissionRules,
    late_ok: bool = False,
) -> CertificationSession:
    """The session a video is being uploaded for, if this upload may use it.

    The nonce is checked by `guard` (wrong ones count against the caller, never the
    pensioner); then the pensioner must still be admitted (service.admission), as when
    the session was opened. A direct upload must arrive before the recording expiry
    (`expires_at`); a resumable upload (`late_ok`) until the session's upload deadline.
    """
    session = db.get(CertificationSession, session_id)
    if session is None:
        raise NotFoundError(ErrorCode.SESSION_NOT_FOUND, "no such certification session")
    if session.pensioner_id != pensioner_id:
        guard.refuse_if_spent(session.id)
        guard.count_failure(session.id)
        raise ForbiddenError(
            ErrorCode.SESSION_PENSIONER_MISMATCH, "this session was issued to another pensioner"
        )
    guard.check(session_id=session.id, expected=session.nonce, given=nonce)
    if session.used_at is not None:
        raise ConflictError(ErrorCode.SESSION_USED, "a video was already uploaded for this session")
    if late_ok and session.upload_deadline is not None:
        if now > session.upload_deadline:
            raise GoneError(
                ErrorCode.UPLOAD_DEADLINE_PASSED,
                "this recording can no longer be uploaded; record again with a new challenge",
            )
    elif now > session.expires_at:
        raise GoneError(ErrorCode.SESSION_EXPIRED, "the challenge expired; start a new session")
    pensioner = get_pensioner(db, session.pensioner_id)
    admit(
        db, pensioner_id=session.pensioner_id, channel=session.channel, now=now, rules=rules,
        period=current_window(db, pensioner=pensioner, now=now).label,
    )
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
    claimed = cast(CursorResult, db.execute(
        update(CertificationSession)
        .where(CertificationSession.id == session.id, CertificationSession.used_at.is_(None))
        .values(used_at=now)
    )).rowcount
    if claimed != 1:
        raise ConflictError(ErrorCode.SESSION_USED, "a video was already uploaded for this session")
    pensioner = get_pensioner(db, session.pensioner_id)
    attempt = Attempt(
        id=attempt_id,
        session_id=session.id,
        pensioner_id=session.pensioner_id,
        period=current_window(db, pensioner=pensioner, now=now).label,
        status=AttemptStatus.QUEUED,
        channel=session.channel,
        assisted_by=session.assisted_by,
        device_id=session.device_id,
        user_agent=session.user_agent,
        device_family=session.device_family,
        consent_at=session.consent_at,
        uploaded_late=now > session.expires_at,
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
        raise NotFoundError(ErrorCode.ATTEMPT_NOT_FOUND, "no such attempt")
    return attempt


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
    reference_class: str | None = None
    """Class of the nearest reference (full, card, id_card; fresh for a certification's)."""


def record_outcome(
    db: Session,
    *,
    attempt: Attempt,
    outcome: Outcome,
    now: dt.datetime,
    validity_days: int,
    keyring: Keyring,
) -> list[QualificationRecord]:
    """Write the outcome on the attempt and on the period's qualification records.

    A pass certifies every scheme's record of the period (and settles earlier open
    ones), each with a signed certificate; a failure or a review shows on the records
    with its reason codes; a review also opens an item in the manual review queue.
    While a death report of the pensioner stands, every decided outcome becomes
    `review` with `certified_after_death` first among its reasons (never `passed`), an
    alert goes to the audit log, and the records the attempt touches stay suspended.
    Returns the records that changed; the attempt holds the outcome recorded.
    """
    outcome = _after_death(db, attempt=attempt, outcome=outcome, now=now)
    attempt.status = outcome.status
    attempt.reasons = list(outcome.reasons)
    attempt.match_distance = outcome.match_distance
    attempt.result = outcome.result
    attempt.thresholds_version = outcome.thresholds_version
    attempt.engine_version = outcome.engine_version
    attempt.fingerprint = outcome.fingerprint
    attempt.key_frame_keys = list(outcome.key_frame_keys)
    attempt.error = outcome.error
    attempt.reference_class = outcome.reference_class
    attempt.finished_at = now
    if outcome.status not in AttemptStatus.DECIDED:
        return []
    pensioner = get_pensioner(db, attempt.pensioner_id)
    if outcome.status == AttemptStatus.PASSED:
        changed = certify_period(
            db,
            pensioner=pensioner,
            period=attempt.period,
            how=Certification(
                method=Method.ASSISTED if attempt.channel == Channel.ASSISTED else Method.SELF,
                attempt_id=attempt.id,
                assisted_by=attempt.assisted_by,
            ),
            now=now,
            validity_days=validity_days,
        )
        issue_certificates(db, keyring=keyring, pensioner=pensioner, records=changed, now=now)
        return changed
    if outcome.status == AttemptStatus.REVIEW:
        open_review(db, attempt=attempt, kind=ReviewKind.ENGINE, now=now)
    changed = note_decision(db, pensioner=pensioner, attempt=attempt, now=now)
    death = standing_death(db, pensioner_id=pensioner.id) if _AFTER_DEATH in attempt.reasons else None
    if death is not None:  # a period opened since the report (the attempt's) is suspended too
        seen = {record.id for record in changed}
        changed += [r for r in suspend_from_death(db, death=death, pensioner=pensioner, now=now) if r.id not in seen]
    return changed


_AFTER_DEATH = ProcessingReason.CERTIFIED_AFTER_DEATH.value


def _after_death(db: Session, *, attempt: Attempt, outcome: Outcome, now: dt.datetime) -> Outcome:
    """The outcome to record: unchanged, or `review` with `certified_after_death` (and an
    alert in the audit log) when a death report of the pensioner stands. Whoever is in
    the video, a person decides: it is the 冒领 pattern, or the report was wrong."""
    if outcome.status not in AttemptStatus.DECIDED:
        return outcome
    death = standing_death(db, pensioner_id=attempt.pensioner_id)
    if death is None:
        return outcome
    record_audit(
        db, actor_type="system", actor_id="certify", action="alert.certified_after_death",
        subject_type="attempt", subject_id=str(attempt.id), now=now, reason=_AFTER_DEATH,
        details={
            "pensioner_id": str(attempt.pensioner_id), "life_event_id": str(death.id),
            "died_on": death.occurred_on.isoformat(), "death_source": death.source,
            "engine_decision": outcome.status, "engine_reasons": list(outcome.reasons),
            "recorded_on": attempt.created_at.date().isoformat(),
            "channel": attempt.channel, "assisted_by": attempt.assisted_by, "device_id": attempt.device_id,
        },
    )
    reasons = [_AFTER_DEATH, *(r for r in outcome.reasons if r != _AFTER_DEATH)]
    return replace(outcome, status=AttemptStatus.REVIEW, reasons=reasons)


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


def earlier_recording_like(
    db: Session, *, attempt: Attempt, fingerprint: str
) -> tuple[uuid.UUID, float] | None:
    """An earlier attempt of the same pensioner whose recording this one re-uses
    (perceptually the same pictures and motion, even re-encoded or trimmed)."""
    rows = db.execute(
        select(Attempt.id, Attempt.fingerprint)
        .where(
            Attempt.pensioner_id == attempt.pensioner_id,
            Attempt.id != attempt.id,
            Attempt.fingerprint.is_not(None),
            Attempt.created_at <= attempt.created_at,
        )
        .order_by(Attempt.created_at.desc())
        .limit(RECENT_FINGERPRINTS)
    ).all()
    for earlier_id, earlier in rows:
        assert earlier is not None  # the query keeps only attempts with a fingerprint
        try:
            similarity = fingerprint_similarity(fingerprint, earlier)
        except ValueError:
            continue  # a fingerprint of another format version
        if similarity >= REUSE_MIN_SIMILARITY:
            return earlier_id, similarity
    return None
