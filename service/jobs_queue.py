"""Enqueueing the agency-side jobs (exports, bulk enrolments, webhook deliveries).

Only ids travel through Redis (JSON serializer); the job id is derived from the row id
with `unique=True`, so a repeated request never runs a job twice.
"""

from __future__ import annotations

import logging
import uuid

from redis.exceptions import RedisError
from rq import Retry
from rq.exceptions import DuplicateJobError

from .context import Services
from .errors import UnavailableError

__all__ = [
    "EXPORT_JOB",
    "ENROLMENT_JOB",
    "enqueue_export",
    "enqueue_enrolment",
    "JOB_TIMEOUT_S",
]

log = logging.getLogger(__name__)

EXPORT_JOB = "workers.records_jobs.export_results"
ENROLMENT_JOB = "workers.records_jobs.enrol_from_csv"
JOB_TIMEOUT_S = 4 * 3600
"""Exports of a whole province and enrolments of thousands of photos take long."""
RESULT_TTL_S = 24 * 3600


def _enqueue(services: Services, func: str, row_id: uuid.UUID, *, prefix: str, description: str) -> None:
    try:
        services.queue.enqueue_call(
            func, args=[str(row_id)], job_id=f"{prefix}-{row_id}", unique=True,
            timeout=JOB_TIMEOUT_S, result_ttl=RESULT_TTL_S, description=description,
            retry=Retry(max=2, interval=[30, 120]),
        )
    except DuplicateJobError:
        pass
    except (RedisError, OSError) as exc:
        log.error("could not enqueue %s %s: %s", prefix, row_id, exc)
        raise UnavailableError("queue_unavailable", "the job queue is not reachable; try again") from None


def enqueue_export(services: Services, job_id: uuid.UUID) -> None:
    _enqueue(services, EXPORT_JOB, job_id, prefix="export", description=f"export {job_id}")


def enqueue_enrolment(services: Services, job_id: uuid.UUID) -> None:
    _enqueue(services, ENROLMENT_JOB, job_id, prefix="enrolment", description=f"bulk enrolment {job_id}")


DELIVERY_JOB = "workers.records_jobs.deliver_webhook"
DELIVERY_FAILED_CALLBACK = "workers.records_jobs.on_delivery_failed"


def enqueue_delivery(services: Services, delivery_id: uuid.UUID) -> bool:
    """Enqueue one webhook delivery with RQ retries (backoff from settings); False if Redis is down."""
    from rq.callbacks import Callback

    intervals = list(services.settings.webhook_retry_intervals_s)
    try:
        services.queue.enqueue_call(
            DELIVERY_JOB, args=[str(delivery_id)], job_id=f"webhook-{delivery_id}", unique=True,
            timeout=60, result_ttl=RESULT_TTL_S, failure_ttl=7 * 24 * 3600,
            retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
            on_failure=Callback(DELIVERY_FAILED_CALLBACK), description=f"webhook delivery {delivery_id}",
        )
    except DuplicateJobError:
        return True
    except (RedisError, OSError) as exc:
        log.warning("webhook delivery %s not enqueued yet: %s", delivery_id, exc)
        return False
    return True
