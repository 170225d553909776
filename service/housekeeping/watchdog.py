"""Finding attempts that will never finish by themselves, and sending them round again.

An attempt can be left behind when the machinery around it fails:

- its worker died (SIGKILL, OOM, a lost machine): the job stays `started` in RQ's
  StartedJobRegistry until its heartbeat expires; RQ's registry cleanup then retries it
  (or fails it when its retries are used up);
- its job ended without an outcome (the database was down through every retry, a
  failure callback could not write);
- Redis lost the job (restarted without persistence).

`recover_stale_attempts` runs the registry cleanup, then looks at attempts that have been
`queued` or `processing` for longer than `stale_attempt_s`: if their job is still alive
it leaves them alone; otherwise it enqueues them again (an ended job hash under the same
unique job id is replaced). Attempts that ran too often are stopped by `process_attempt`
itself (`max_processing_runs`), so a video that crashes the decoder cannot loop for ever.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field

from rq.registry import StartedJobRegistry
from rq.scheduler import RQScheduler
from rq.serializers import JSONSerializer
from sqlalchemy import and_, or_, select

from models import Attempt, AttemptStatus
from models.db import session_scope

from ..context import Services
from ..infra.queue import LIVE_JOB_STATES, job_state
from .dispatch import enqueue_attempt

__all__ = [
    "RecoveryReport",
    "recover_stale_attempts",
    "cleanup_abandoned_jobs",
    "enqueue_due_retries",
    "STALE_BATCH",
]

log = logging.getLogger(__name__)

STALE_BATCH = 500
"""Attempts examined per watchdog pass (the oldest first)."""


@dataclass
class RecoveryReport:
    examined: int = 0
    alive: int = 0
    requeued: list[uuid.UUID] = field(default_factory=list)


def cleanup_abandoned_jobs(services: Services) -> None:
    """Let RQ retry (or fail) jobs whose worker stopped sending heartbeats, on every queue
    (a queue whose only workers died has nobody else to do it)."""
    for queue in services.queues.values():
        StartedJobRegistry(queue=queue).cleanup()


def enqueue_due_retries(services: Services) -> bool:
    """Move due retries and scheduled jobs (the records sweep) from RQ's scheduled
    registries to their queues when no worker's scheduler holds the queues' scheduler
    locks (their workers died); False if live schedulers own every one."""
    scheduler = RQScheduler(
        list(services.queues.values()), connection=services.redis, serializer=JSONSerializer,
        name=f"certify-maintenance-{uuid.uuid4().hex[:8]}",
        logging_level=logging.WARNING,
    )
    if not scheduler.acquire_locks():
        return False
    try:
        scheduler.enqueue_scheduled_jobs()
    finally:
        scheduler.release_locks()
    return True


def _started_ids(services: Services) -> set[str]:
    registry = StartedJobRegistry(queue=services.queue)
    return set(registry.get_job_ids(cleanup=False))


def recover_stale_attempts(services: Services, *, limit: int = STALE_BATCH) -> RecoveryReport:
    """Re-enqueue attempts stuck in `queued`/`processing` whose job will never run."""
    from ..infra.queue import job_id_for

    settings = services.settings
    cleanup_abandoned_jobs(services)
    enqueue_due_retries(services)
    cutoff = services.clock() - dt.timedelta(seconds=settings.stale_attempt_s)
    with session_scope(services.sessions) as db:
        stale = db.scalars(
            select(Attempt.id)
            .where(
                or_(
                    and_(
                        Attempt.status == AttemptStatus.QUEUED,
                        Attempt.enqueued_at.is_not(None),
                        Attempt.enqueued_at <= cutoff,
                    ),
                    and_(
                        Attempt.status == AttemptStatus.PROCESSING,
                        Attempt.started_at <= cutoff,
                    ),
                )
            )
            .order_by(Attempt.created_at)
            .limit(limit)
        ).all()
    report = RecoveryReport(examined=len(stale))
    if not stale:
        return report
    started = _started_ids(services)
    for attempt_id in stale:
        state = job_state(services.queue, attempt_id)
        running = state != "started" or job_id_for(attempt_id) in started
        if state in LIVE_JOB_STATES and running:
            report.alive += 1
            continue
        log.warning("attempt %s is stuck (job %s); enqueuing it again", attempt_id, state)
        if not enqueue_attempt(services, attempt_id, again=True):
            break  # Redis is down: the next pass tries again
        report.requeued.append(attempt_id)
    return report
