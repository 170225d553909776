"""Every background job the service enqueues: one table of job kinds, one enqueue helper.

Jobs go to three queues, by priority (the names derive from `Settings.queue_name`):

    lane     queue (default)  jobs                                         who waits
    certify  certify          certifications                               a pensioner, for the result
    notify   certify-notify   webhook fan-out and deliveries               an agency's receiver
    bulk     certify-bulk     bulk enrolments, files of deaths, exports,   a clerk, minutes to hours
                              the records sweep

A worker listens to its queues in this order and always takes the first job of the
first queue that has one, so a free worker never starts an export while a pensioner's
video waits. A job that is already running is never interrupted: dedicate workers to
certifications (`certify worker --queues certify`) so that a four-hour export cannot hold
every worker.

Only ids travel through Redis (JSON serializer). A job with a key gets the job id
`<kind>-<key>` with `unique=True`, so a repeated request never makes a second job.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypedDict

from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.callbacks import Callback
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from .error_codes import ErrorCode
from .errors import UnavailableError

if TYPE_CHECKING:
    from .context import Services
    from .settings import Settings

__all__ = [
    "Lane",
    "LANES",
    "JobKind",
    "CERTIFICATION",
    "WEBHOOK_FAN_OUT",
    "WEBHOOK_DELIVERY",
    "EXPORT",
    "ENROLMENT",
    "DEATH_REPORTS",
    "RECORDS_SWEEP",
    "JOB_KINDS",
    "queue_name",
    "queue_names",
    "parse_lanes",
    "embedded_worker_lanes",
    "enqueue_job",
    "enqueue_export",
    "enqueue_enrolment",
    "enqueue_bulk_job",
    "enqueue_delivery",
]

log = logging.getLogger(__name__)


class Lane(StrEnum):
    """A queue by what its jobs are for; the order of LANES is the order of priority."""

    CERTIFY = "certify"
    NOTIFY = "notify"
    BULK = "bulk"


LANES: tuple[Lane, ...] = (Lane.CERTIFY, Lane.NOTIFY, Lane.BULK)
"""Every lane, the most urgent first: the order a worker listens in."""


def queue_name(base: str, lane: Lane) -> str:
    """The Redis queue of a lane: `base` itself for certifications (so deployments and
    tests that set `queue_name` keep their certification queue), `base-<lane>` otherwise."""
    return base if lane is Lane.CERTIFY else f"{base}-{lane.value}"


def parse_lanes(names: Iterable[str]) -> tuple[Lane, ...]:
    """Lanes from names such as `certify` or `notify,bulk`, in priority order (not in
    the order given: a worker always prefers the more urgent queue). ValueError names
    an unknown lane."""
    wanted: set[Lane] = set()
    for name in names:
        for part in name.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                wanted.add(Lane(part))
            except ValueError:
                known = ", ".join(lane.value for lane in LANES)
                raise ValueError(f"unknown queue {part!r} (known: {known})") from None
    if not wanted:
        raise ValueError("name at least one queue")
    return tuple(lane for lane in LANES if lane in wanted)


@dataclass(frozen=True, slots=True)
class JobKind:
    """How one kind of job is enqueued: where, for how long, and how it is retried."""

    name: str
    """Short name; with a key, the job id is `<name>-<key>`."""
    function: str
    """Dotted path of the job function (the API never imports the worker's modules)."""
    lane: Lane
    """The queue it goes to (see LANES for the priorities)."""
    timeout_s: int
    """How long one run may take before RQ stops it."""
    result_ttl_s: int
    """How long a finished job's hash (with its return value) stays in Redis."""
    failure_ttl_s: int
    """How long a failed job stays in the failed registry for inspection."""
    retry_intervals_s: tuple[int, ...] = ()
    """Waits between RQ retries after the job raised (none: it fails at once)."""
    timeout_setting: str | None = None
    """A Settings field that gives the timeout instead of `timeout_s`."""
    retry_setting: str | None = None
    """A Settings field that gives the retry intervals instead of `retry_intervals_s`."""
    on_failure: str | None = None
    """Dotted path of a callback run when the job fails (it checks `job.should_retry`)."""
    key_is_argument: bool = True
    """The job function receives the key (a row id) as its only argument."""
    replace_ended: bool = False
    """A job hash left under the same id by an earlier run that has ended (finished,
    failed, stopped) is deleted and the job enqueued afresh, instead of counting as a
    duplicate. For jobs whose processing is idempotent and whose callers enqueue only
    work that is not done yet."""

    def timeout(self, settings: Settings) -> int:
        return int(getattr(settings, self.timeout_setting)) if self.timeout_setting else self.timeout_s

    def retry_intervals(self, settings: Settings) -> tuple[int, ...]:
        if self.retry_setting:
            return tuple(getattr(settings, self.retry_setting))
        return self.retry_intervals_s

    def job_id(self, key: object) -> str:
        return f"{self.name}-{key}"


_HOUR_S = 3600
_WEEK_S = 7 * 24 * _HOUR_S

CERTIFICATION = JobKind(
    name="certify-attempt",
    function="workers.jobs.certify_attempt",
    lane=Lane.CERTIFY,
    timeout_s=300,
    timeout_setting="job_timeout_s",
    result_ttl_s=_HOUR_S,
    failure_ttl_s=_WEEK_S,
    retry_setting="job_retry_intervals_s",
    on_failure="workers.jobs.on_certification_job_failed",
    replace_ended=True,
)
"""One attempt's check (key: the attempt id). A crash is retried (`job_retry_intervals_s`);
after the last retry the callback marks the attempt `error`."""

WEBHOOK_FAN_OUT = JobKind(
    name="webhook-fan-out",
    function="workers.records_jobs.fan_out_events",
    lane=Lane.NOTIFY,
    timeout_s=600,
    result_ttl_s=600,
    failure_ttl_s=_WEEK_S,
)
"""Turns new record events into webhook deliveries (no key: any number may be queued; the
fan-out's compare-and-set cursor makes the extra ones no-ops)."""

WEBHOOK_DELIVERY = JobKind(
    name="webhook",
    function="workers.records_jobs.deliver_webhook",
    lane=Lane.NOTIFY,
    timeout_s=60,
    result_ttl_s=24 * _HOUR_S,
    failure_ttl_s=_WEEK_S,
    retry_setting="webhook_retry_intervals_s",
    on_failure="workers.records_jobs.on_delivery_failed",
)
"""One POST of one delivery (key: the delivery id), retried with the webhook backoff."""

EXPORT = JobKind(
    name="export",
    function="workers.records_jobs.export_results",
    lane=Lane.BULK,
    timeout_s=4 * _HOUR_S,
    result_ttl_s=24 * _HOUR_S,
    failure_ttl_s=_WEEK_S,
    retry_intervals_s=(30, 120),
)
"""A background export (key: the export job id); a whole province takes long."""

ENROLMENT = JobKind(
    name="enrolment",
    function="workers.records_jobs.enrol_from_csv",
    lane=Lane.BULK,
    timeout_s=4 * _HOUR_S,
    result_ttl_s=24 * _HOUR_S,
    failure_ttl_s=_WEEK_S,
    retry_intervals_s=(30, 120),
)
"""A bulk enrolment (key: the enrolment job id); thousands of photos take long."""

DEATH_REPORTS = JobKind(
    name="death-reports",
    function="workers.records_jobs.record_deaths_from_csv",
    lane=Lane.BULK,
    timeout_s=4 * _HOUR_S,
    result_ttl_s=24 * _HOUR_S,
    failure_ttl_s=_WEEK_S,
    retry_intervals_s=(30, 120),
)
"""A file of deaths (key: the bulk job id); rows already recorded are skipped on a retry."""

RECORDS_SWEEP = JobKind(
    name="records-sweep",
    function="workers.records_jobs.sweep_records",
    lane=Lane.BULK,
    timeout_s=_HOUR_S,
    result_ttl_s=24 * _HOUR_S,
    failure_ttl_s=_WEEK_S,
    key_is_argument=False,
)
"""The scheduled records sweep (key: the interval boundary it runs at, so it runs once
however many processes schedule it)."""

JOB_KINDS: tuple[JobKind, ...] = (
    CERTIFICATION, WEBHOOK_FAN_OUT, WEBHOOK_DELIVERY, EXPORT, ENROLMENT, DEATH_REPORTS, RECORDS_SWEEP,
)
"""The whole table."""

_ENDED = frozenset(
    {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, JobStatus.CREATED}
)
"""Job states that will not run again by themselves (replaceable under `replace_ended`)."""


class _EnqueueOptions(TypedDict):
    """The options `_put` passes to both `enqueue_call` and `enqueue_at`."""

    args: list[str]
    job_id: str | None
    unique: bool
    result_ttl: int
    failure_ttl: int
    retry: Retry | None
    on_failure: Callback | None
    description: str


def _put(queue: Queue, kind: JobKind, settings: Settings, *, key: object | None, at: dt.datetime | None,
         description: str) -> Job:
    intervals = list(kind.retry_intervals(settings))
    options = _EnqueueOptions(
        args=[str(key)] if key is not None and kind.key_is_argument else [],
        job_id=kind.job_id(key) if key is not None else None,
        unique=key is not None,
        result_ttl=kind.result_ttl_s,
        failure_ttl=kind.failure_ttl_s,
        retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
        on_failure=Callback(kind.on_failure) if kind.on_failure else None,
        description=description,
    )
    if at is not None:
        return queue.enqueue_at(at, kind.function, job_timeout=kind.timeout(settings), **options)
    return queue.enqueue_call(kind.function, timeout=kind.timeout(settings), **options)


def enqueue_job(
    services: Services, kind: JobKind, *, key: uuid.UUID | str | None = None, at: dt.datetime | None = None,
) -> Job:
    """Put one job of `kind` on its lane's queue (at `at`, if given, by RQ's scheduler);
    returns the job, or the one already there under the same key.

    Redis errors (RedisError, OSError) are raised: the caller decides what an unreachable
    queue means (an outbox row to send later, a 503, a log line).
    """
    queue = services.queue_for(kind.lane)
    description = f"{kind.name} {key}" if key is not None else kind.name
    for _ in range(3):
        try:
            job = _put(queue, kind, services.settings, key=key, at=at, description=description)
        except DuplicateJobError:
            try:
                job = Job.fetch(kind.job_id(key), connection=queue.connection, serializer=JSONSerializer)
            except NoSuchJobError:  # it ended and expired between the two calls
                continue
        if not kind.replace_ended or job.get_status(refresh=False) not in _ENDED:
            return job
        job.delete(remove_from_queue=True)
    raise RuntimeError(f"could not replace the ended job {kind.job_id(key)}")


def _enqueue_or_unavailable(services: Services, kind: JobKind, row_id: uuid.UUID) -> None:
    try:
        enqueue_job(services, kind, key=row_id)
    except (RedisError, OSError) as exc:
        log.error("could not enqueue %s: %s", kind.job_id(row_id), exc)
        raise UnavailableError(ErrorCode.QUEUE_UNAVAILABLE, "the job queue is not reachable; try again") from None


def enqueue_export(services: Services, job_id: uuid.UUID) -> None:
    """Enqueue a background export; 503 `queue_unavailable` when Redis is down (the row
    stays `queued` and the sweep enqueues it again later)."""
    _enqueue_or_unavailable(services, EXPORT, job_id)


def enqueue_enrolment(services: Services, job_id: uuid.UUID) -> None:
    """Enqueue a bulk enrolment; 503 `queue_unavailable` when Redis is down."""
    _enqueue_or_unavailable(services, ENROLMENT, job_id)


def enqueue_bulk_job(services: Services, job_id: uuid.UUID, *, kind: str) -> None:
    """Enqueue a bulk CSV job of either kind (models.BulkKind: `enrolment`, or `deaths`
    for a file of deaths); 503 `queue_unavailable` when Redis is down."""
    _enqueue_or_unavailable(services, DEATH_REPORTS if kind == "deaths" else ENROLMENT, job_id)


def enqueue_delivery(services: Services, delivery_id: uuid.UUID) -> bool:
    """Enqueue one webhook delivery; False when Redis is down (the sweep re-sends it)."""
    try:
        enqueue_job(services, WEBHOOK_DELIVERY, key=delivery_id)
    except (RedisError, OSError) as exc:
        log.warning("webhook delivery %s not enqueued yet: %s", delivery_id, exc)
        return False
    return True


def queue_names(base: str, lanes: Sequence[Lane] = LANES) -> list[str]:
    """The Redis queue names of `lanes`, in the order given."""
    return [queue_name(base, lane) for lane in lanes]


def embedded_worker_lanes(count: int) -> list[tuple[Lane, ...]]:
    """The lanes of the workers `certify serve --workers count` starts: one worker takes
    every queue in priority order; with two or more, the first is kept for certifications
    (a long export or enrolment then never holds every worker while a pensioner waits)."""
    if count <= 0:
        return []
    if count == 1:
        return [LANES]
    return [(Lane.CERTIFY,)] + [LANES] * (count - 1)
