"""Retention: raw videos are purged some days after upload; the decision stays.

What is kept after the purge: the attempt row (status, reason codes, scores, match
distance, thresholds and engine versions, timings), its small key frames and the
qualification record. What goes: the raw video (`Attempt.video_key` becomes NULL).
Attempts still waiting for a person (`review`) or for a worker keep their video.
The protected live-face templates of the identity search go once it no longer looks at
them (`identity_probe_window_days`).

The blob is deleted before the row forgets it: a crash in between leaves a row naming a
missing blob, which the next pass clears; never an orphaned video nobody can find.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from sqlalchemy import delete, select, update

from models import (
    Attempt,
    AttemptStatus,
    EnrolmentJob,
    ExportJob,
    IdentityTemplate,
    JobState,
    TemplateKind,
)
from models.db import session_scope

from ..context import Services
from ..infra.storage import spool_directory

__all__ = [
    "purge_expired_videos",
    "purge_expired_job_files",
    "purge_stale_spool",
    "PURGEABLE_STATUSES",
    "SPOOL_MAX_AGE_S",
    "PURGE_BATCH",
    "purge_old_probe_templates",
]

log = logging.getLogger(__name__)

PURGEABLE_STATUSES = (AttemptStatus.PASSED, AttemptStatus.FAILED, AttemptStatus.ERROR)
"""Attempts whose raw video may go once it is old enough (not `review`: a person still
has to look at it)."""

PURGE_BATCH = 200
"""Videos deleted per database transaction."""

SPOOL_MAX_AGE_S = 6 * 3600
"""Spooled upload files older than this are leftovers of a crashed request."""


def purge_expired_videos(services: Services, *, now: dt.datetime | None = None) -> int:
    """Delete raw videos older than `video_retention_days`; returns how many went."""
    now = now or services.clock()
    cutoff = now - dt.timedelta(days=services.settings.video_retention_days)
    purged = 0
    while True:
        with session_scope(services.sessions) as db:
            rows = db.execute(
                select(Attempt.id, Attempt.video_key)
                .where(
                    Attempt.video_key.is_not(None),
                    Attempt.status.in_(PURGEABLE_STATUSES),
                    Attempt.created_at < cutoff,
                )
                .order_by(Attempt.created_at)
                .limit(PURGE_BATCH)
            ).all()
            if not rows:
                break
            for _, key in rows:
                services.store.delete(key)
            db.execute(
                update(Attempt)
                .where(Attempt.id.in_([attempt_id for attempt_id, _ in rows]))
                .values(video_key=None)
            )
            db.commit()
        purged += len(rows)
        if len(rows) < PURGE_BATCH:
            break
    if purged:
        log.info("retention: purged %d raw videos uploaded before %s", purged, cutoff.date())
    return purged


def _job_file_keys(job: ExportJob | EnrolmentJob) -> list[str]:
    if isinstance(job, ExportJob):
        return [job.blob_key] if job.blob_key else []
    return [key for key in (job.csv_key, job.photos_key) if key]


def purge_expired_job_files(services: Services, *, now: dt.datetime | None = None) -> int:
    """Delete the files of agency jobs that ended more than `job_file_retention_hours`
    ago: export downloads and bulk-enrolment uploads. Returns how many jobs were cleared.
    Blobs go first, then the row is stamped (a crash in between repeats a harmless delete)."""
    now = now or services.clock()
    cutoff = now - dt.timedelta(hours=services.settings.job_file_retention_hours)
    cleared = 0
    job_models: tuple[type[ExportJob] | type[EnrolmentJob], ...] = (ExportJob, EnrolmentJob)
    for model in job_models:
        while True:
            with session_scope(services.sessions) as db:
                # select() of a union of models is typed as their common base
                jobs = cast("Sequence[ExportJob | EnrolmentJob]", db.scalars(
                    select(model)
                    .where(
                        model.files_purged_at.is_(None),
                        model.state.in_([JobState.DONE, JobState.FAILED]),
                        model.finished_at < cutoff,
                    )
                    .order_by(model.finished_at)
                    .limit(PURGE_BATCH)
                ).all())
                for job in jobs:
                    for key in _job_file_keys(job):
                        services.store.delete(key)
                    job.files_purged_at = now
                    if isinstance(job, ExportJob):
                        job.blob_key = None
                db.commit()
            cleared += len(jobs)
            if len(jobs) < PURGE_BATCH:
                break
    if cleared:
        log.info("retention: deleted the files of %d agency jobs that ended before %s", cleared, cutoff)
    return cleared


def purge_stale_spool(services: Services, *, max_age_s: float = SPOOL_MAX_AGE_S) -> int:
    """Remove spooled upload files left behind by requests that died."""
    spool: Path = spool_directory(services.settings.var_dir)
    limit = time.time() - max_age_s
    removed = 0
    for path in spool.glob("*.upload"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def purge_old_probe_templates(services: Services, *, now: dt.datetime | None = None) -> int:
    """Delete the protected templates of certifications older than the identity search
    looks back (`identity_probe_window_days`); returns how many went."""
    now = now or services.clock()
    cutoff = now - dt.timedelta(days=services.settings.identity_probe_window_days)
    with session_scope(services.sessions) as db:
        gone = db.execute(
            delete(IdentityTemplate).where(
                IdentityTemplate.kind == TemplateKind.PROBE, IdentityTemplate.created_at < cutoff
            )
        )
        db.commit()
    return int(getattr(gone, "rowcount", 0) or 0)
