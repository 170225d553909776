"""Accepting an uploaded video: check it, store it durably, record the attempt, enqueue it.

The order matters: the file is stored (fsynced) before the attempt row that names it is
committed, and the row is committed before the job is enqueued. If the queue is down the
attempt stays `queued` with no `enqueued_at`, and the dispatcher enqueues it later.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from certify import VideoError, VideoLimits, probe_video
from models import Attempt, CertificationSession, Channel
from models.db import session_scope

from .admission import AdmissionRules, undecided_attempt
from .certification import create_attempt, get_session_for_upload
from .context import Services
from .error_codes import ErrorCode
from .errors import ConflictError, InvalidInputError
from .housekeeping.dispatch import enqueue_attempt
from .infra.storage import copy_to
from .lockout import record_failure
from .nonce_guard import NonceGuard
from .settings import Settings

__all__ = ["accept_upload", "video_limits", "extension_for"]

log = logging.getLogger(__name__)


def video_limits(settings: Settings) -> VideoLimits:
    return VideoLimits(
        min_duration_s=settings.min_video_s,
        max_duration_s=settings.max_video_s,
        max_pixels=settings.max_video_pixels,
    )


def extension_for(container: str) -> str:
    """A file extension for a probed container name (PyAV's demuxer names)."""
    if "webm" in container or "matroska" in container:
        return ".webm"
    if "mp4" in container or "mov" in container:
        return ".mp4"
    return ".bin"


def accept_upload(
    services: Services,
    *,
    pensioner_id: uuid.UUID,
    session_id: uuid.UUID,
    nonce: str | None,
    upload_path: Path,
    content_type: str,
    guard: NonceGuard,
    late_ok: bool = False,
) -> Attempt:
    """Turn a spooled upload into a stored video and a queued attempt (commits).

    `late_ok`: a resumable upload, accepted until the session's upload deadline. A
    recording that is not a usable video counts toward the pensioner's lockout when the
    session is their own (self-service).
    """
    rules = AdmissionRules.of(services.settings)
    with session_scope(services.sessions) as db:
        # checked again here: the session may have been used while the body was arriving
        session = get_session_for_upload(
            db, session_id=session_id, pensioner_id=pensioner_id, nonce=nonce,
            now=services.clock(), late_ok=late_ok, guard=guard, rules=rules,
        )
        try:
            info = probe_video(upload_path, limits=video_limits(services.settings))
        except VideoError as exc:
            if session.channel == Channel.SELF:
                record_failure(
                    db, pensioner_id=session.pensioner_id, now=services.clock(),
                    policy=rules.lockout, reason=exc.reason.value,
                )
                db.commit()
            raise InvalidInputError(exc.reason.value, exc.message) from None
        attempt_id = uuid.uuid4()
        blob = copy_to(services.store, f"videos/{attempt_id}{extension_for(info.container)}", upload_path)
        try:
            attempt = create_attempt(
                db,
                session=session,
                attempt_id=attempt_id,
                blob=blob,
                content_type=content_type,
                info=info,
                now=services.clock(),
            )
            db.commit()
        except IntegrityError:
            _forget(db, services, blob.key)
            if undecided_attempt(db, pensioner_id=pensioner_id) is not None and _unused(db, session_id):
                raise ConflictError(  # another session's upload won the race
                    ErrorCode.ATTEMPT_IN_PROGRESS,
                    "the last recording is still being checked; wait for its result",
                ) from None
            raise ConflictError(
                ErrorCode.SESSION_USED, "a video was already uploaded for this session"
            ) from None
        except BaseException:
            # the database may be gone (OperationalError -> 503): the stored video must
            # not outlive the row that was never written
            _forget(db, services, blob.key)
            raise
    enqueue_attempt(services, attempt.id)
    return attempt


def _unused(db, session_id: uuid.UUID) -> bool:
    session = db.get(CertificationSession, session_id, populate_existing=True)
    return session is not None and session.used_at is None


def _forget(db, services: Services, key: str) -> None:
    """Roll back and delete the stored video, even when the rollback itself fails."""
    try:
        with contextlib.suppress(Exception):
            db.rollback()
    finally:
        services.store.delete(key)
