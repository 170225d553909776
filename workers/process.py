"""Processing one attempt: gather inputs, run the certify engine, record the outcome.

Idempotent: an attempt that already has a final status is left alone, so a retried or
duplicated job changes nothing. The video is read from storage by id; the key frames are
stored durably before the database row that names them is committed.
"""

from __future__ import annotations

import io
import logging
import time
import uuid
from dataclasses import dataclass, replace

from certify import Assessment, Challenge, ProcessingReason, VideoError, assess, decode_video
from models import Attempt, AttemptStatus, Channel
from models.db import session_scope
from service.audit import record_audit
from service.certification import (
    Outcome,
    earlier_recording_like,
    earlier_upload_of_same_video,
    mark_processing,
    record_outcome,
)
from service.context import Services
from service.identity import name_other_pensioner, screen_attempt
from service.infra.metrics import record_job_metrics
from service.intake import video_limits
from service.lockout import LockoutPolicy, record_failure
from service.notify import announce_changes
from service.pensioners import active_embeddings, get_pensioner
from service.references import add_fresh_reference
from service.watch import WatchRules, watch_outcome

__all__ = ["process_attempt", "run_attempt"]

log = logging.getLogger(__name__)


def _assess_stored_video(
    services: Services,
    *,
    attempt_id: uuid.UUID,
    video_key: str,
    challenge: Challenge,
    references: list,
    assisted: bool = False,
) -> tuple[Outcome, Assessment | None]:
    try:
        with services.store.local_path(video_key) as path:
            video = decode_video(path, limits=video_limits(services.settings))
    except VideoError as exc:
        return Outcome(status=AttemptStatus.FAILED, reasons=[exc.reason.value], error=exc.message), None
    assessment = assess(
        video, challenge, references, backend=services.face_backend(), look_for_bystanders=assisted
    )
    keys = []
    for index, frame in enumerate(assessment.key_frames):
        key = f"keyframes/{attempt_id}/{index}.jpg"
        services.store.put(key, io.BytesIO(frame.jpeg))
        keys.append(key)
    outcome = Outcome(
        status=assessment.decision,
        reasons=[r.value for r in assessment.reasons],
        match_distance=assessment.match_distance,
        result=assessment.to_json(),
        thresholds_version=assessment.thresholds_version,
        engine_version=assessment.engine_version,
        fingerprint=assessment.fingerprint or None,
        key_frame_keys=keys,
        reference_class=_nearest_reference_class(assessment.signals.match_distances, references),
    )
    return outcome, assessment


def _nearest_reference_class(distances, references: list) -> str | None:
    """The class of the reference nearest the probe (distances follow the references'
    order); `fresh` for a reference kept from an earlier passed certification."""
    if not distances or len(distances) != len(references):
        return None
    nearest = references[min(range(len(distances)), key=distances.__getitem__)]
    if not getattr(nearest, "anchor", True):
        return "fresh"
    quality_class = getattr(nearest, "quality_class", "full")
    return str(getattr(quality_class, "value", quality_class))


def _unless_reused(db, *, attempt: Attempt, outcome: Outcome) -> Outcome:
    """Fail an attempt whose recording is an earlier recording of this pensioner sent again."""
    earlier = earlier_recording_like(db, attempt=attempt, fingerprint=outcome.fingerprint or "")
    if earlier is None:
        return outcome
    earlier_id, similarity = earlier
    result = dict(outcome.result or {})
    result["reused_from"] = {"attempt_id": str(earlier_id), "similarity": round(similarity, 3)}
    reasons = [ProcessingReason.VIDEO_REUSED.value, *(r for r in outcome.reasons if r != ProcessingReason.VIDEO_REUSED.value)]
    return replace(outcome, status=AttemptStatus.FAILED, reasons=reasons, result=result)


def process_attempt(services: Services, attempt_id: uuid.UUID) -> str:
    """Certify one attempt; returns its final status."""
    return run_attempt(services, attempt_id)[0]


@dataclass(frozen=True)
class _Work:
    """What processing one attempt needs, read while its row was locked."""

    attempt_id: uuid.UUID
    challenge: Challenge
    references: list
    video_key: str | None
    reused_from: uuid.UUID | None
    """An earlier attempt of the pensioner with byte-identical video, if any."""
    assisted: bool = False
    """Staff helped: the engine also looks for a second face (service/watch.py)."""


def run_attempt(services: Services, attempt_id: uuid.UUID) -> tuple[str, bool]:
    """Certify one attempt; returns its final status and whether this run recorded it.

    load (lock the row, mark it processing) -> assess (no transaction open while the
    engine works) -> record (the outcome and everything it implies, in one transaction)
    -> side effects (webhooks, metrics), only once the outcome is committed.
    """
    started = time.perf_counter()
    work = _load(services, attempt_id)
    if not isinstance(work, _Work):
        return work
    outcome, assessment = _assess(services, work)
    recorded = _record(services, work, outcome, assessment)
    if isinstance(recorded, str):
        return recorded, False  # a concurrent run finished first
    _after(services, attempt_id, recorded, started_s=started)
    return recorded.status, True


def _load(services: Services, attempt_id: uuid.UUID) -> _Work | tuple[str, bool]:
    """Lock the attempt and mark it processing; or the answer when there is nothing to do
    (missing, already final, or set aside after too many runs)."""
    with session_scope(services.sessions) as db:
        attempt = db.get(Attempt, attempt_id, with_for_update=True)
        if attempt is None:
            log.warning("attempt %s does not exist; nothing to do", attempt_id)
            return "missing", False
        if attempt.status in AttemptStatus.FINAL:
            return attempt.status, False
        if (attempt.processing_runs or 0) >= services.settings.max_processing_runs:
            record_outcome(
                db,
                attempt=attempt,
                outcome=Outcome(
                    status=AttemptStatus.ERROR,
                    reasons=[ProcessingReason.PROCESSING_CRASHED.value],
                    error=f"processing did not finish in {attempt.processing_runs} runs",
                ),
                now=services.clock(),
                validity_days=services.settings.period_validity_days,
                keyring=services.keyring,
            )
            db.commit()
            log.error("attempt %s set aside after %d runs", attempt_id, attempt.processing_runs)
            return AttemptStatus.ERROR, True
        mark_processing(db, attempt=attempt, now=services.clock())
        work = _Work(
            attempt_id=attempt_id,
            challenge=Challenge.from_json(attempt.session.challenge),
            references=active_embeddings(db, keyring=services.keyring, pensioner_id=attempt.pensioner_id),
            video_key=attempt.video_key,
            reused_from=earlier_upload_of_same_video(db, attempt=attempt),
            assisted=attempt.channel == Channel.ASSISTED,
        )
        db.commit()
    return work


def _assess(services: Services, work: _Work) -> tuple[Outcome, Assessment | None]:
    if work.reused_from is not None:
        return Outcome(
            status=AttemptStatus.FAILED,
            reasons=[ProcessingReason.VIDEO_REUSED.value],
            error=f"same video as attempt {work.reused_from}",
        ), None
    if work.video_key is None:
        return Outcome(status=AttemptStatus.ERROR, reasons=[], error="the video was purged"), None
    return _assess_stored_video(
        services,
        attempt_id=work.attempt_id,
        video_key=work.video_key,
        challenge=work.challenge,
        references=work.references,
        assisted=work.assisted,
    )


def _record(
    services: Services, work: _Work, outcome: Outcome, assessment: Assessment | None
) -> Outcome | str:
    """The outcome and what it implies, in one transaction: the attempt and its records, a
    fresh reference after a pass, the pensioner's failure toward the lockout, the audit row.
    Returns the outcome recorded (a re-used recording turns it into a failure), or the
    status a concurrent run already recorded."""
    with session_scope(services.sessions) as db:
        attempt = db.get(Attempt, work.attempt_id, with_for_update=True)
        assert attempt is not None
        if attempt.status in AttemptStatus.FINAL:
            return attempt.status
        if outcome.fingerprint:
            outcome = _unless_reused(db, attempt=attempt, outcome=outcome)
        now = services.clock()
        outcome = watch_outcome(  # flags of an assisted attempt: a pass goes to review
            db, attempt=attempt, pensioner=get_pensioner(db, attempt.pensioner_id), outcome=outcome,
            bystanders=assessment.bystanders if assessment is not None else None,
            keyring=services.keyring, rules=WatchRules.of(services.settings), now=now,
        )
        outcome, other_pensioner = screen_attempt(
            db, services=services, attempt=attempt, outcome=outcome, assessment=assessment, now=now
        )
        record_outcome(
            db,
            attempt=attempt,
            outcome=outcome,
            now=now,
            validity_days=services.settings.period_validity_days,
            keyring=services.keyring,
        )
        # the outcome as recorded (a standing death report turns it into a review)
        outcome = replace(outcome, status=attempt.status, reasons=list(attempt.reasons))
        name_other_pensioner(db, attempt=attempt, other_pensioner_id=other_pensioner)
        if outcome.status == AttemptStatus.PASSED and assessment is not None:
            add_fresh_reference(db, services=services, attempt=attempt, assessment=assessment, now=now)
        if outcome.status == AttemptStatus.FAILED and attempt.channel == Channel.SELF:
            record_failure(  # in the same transaction as the outcome: counted exactly once
                db, pensioner_id=attempt.pensioner_id, now=now, attempt_id=attempt.id,
                policy=LockoutPolicy.of(services.settings), reason="certification_failed",
            )
        if outcome.status in AttemptStatus.DECIDED:
            record_audit(
                db, actor_type="system", actor_id=f"engine:{outcome.engine_version or '-'}",
                action="attempt.decide", subject_type="attempt", subject_id=str(attempt.id), now=now,
                reason=",".join(outcome.reasons) or outcome.status,
                details={"decision": outcome.status, "thresholds_version": outcome.thresholds_version},
            )
        db.commit()
    return outcome


def _after(services: Services, attempt_id: uuid.UUID, outcome: Outcome, *, started_s: float) -> None:
    """Side effects of a committed outcome: webhooks for the changed records, metrics."""
    if outcome.status in AttemptStatus.DECIDED:
        announce_changes(services)
    log.info("attempt %s: %s %s", attempt_id, outcome.status, ",".join(outcome.reasons))
    timings = dict((outcome.result or {}).get("timings_ms") or {})
    timings["total"] = (time.perf_counter() - started_s) * 1000.0
    record_job_metrics(services.redis, timings_ms=timings, status=outcome.status, reasons=outcome.reasons)
