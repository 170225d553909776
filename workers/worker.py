"""The worker entry point: load the face models once, then take jobs from the queues.

A worker listens to its lanes in priority order (service/jobs.py: certifications, then
webhooks, then bulk jobs) and always takes the next job of the most urgent queue that
has one. By default it listens to all of them; `lanes` dedicates it to some.

By default each job runs in a forked work horse (RQ's Worker): the models, loaded in the
parent before the first fork, are shared copy-on-write, and a crash inside a job (a bad
video that trips a native decoder) kills only the horse, never the worker.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Sequence

from rq import SimpleWorker, Worker
from rq.job import Job
from rq.serializers import JSONSerializer

from service.context import Services, build_services
from service.housekeeping.dispatch import enqueue_pending
from service.housekeeping.sweep import schedule_next_sweep
from service.identity import warm_identity_index
from service.jobs import LANES, Lane
from service.settings import Settings

from .runtime import install_services

__all__ = ["run_worker", "CertifyWorker"]

log = logging.getLogger(__name__)


class CertifyWorker(Worker):
    """RQ's forking Worker with a configurable heartbeat grace.

    RQ gives a running job `min(remaining, job_monitoring_interval) + 60` seconds before
    its entry in the StartedJobRegistry expires; after a worker dies (SIGKILL, a lost
    machine) that is how long its job waits before the registry cleanup retries it.
    `heartbeat_grace_s` replaces the fixed 60 s.
    """

    heartbeat_grace_s: int = 60
    services: Services | None = None
    """Set: the identity index of this worker is brought up to date before each job, so
    the work horse forked for it inherits it and reads only what is newer."""

    def execute_job(self, job: Job, queue) -> None:
        if self.services is not None:
            warm_identity_index(self.services)
        super().execute_job(job, queue)

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        interval = int(self.job_monitoring_interval)
        if job.timeout and job.timeout > 0:
            interval = int(max(1.0, min(job.timeout - working_time, interval)))
        return interval + int(self.heartbeat_grace_s)


def run_worker(
    settings: Settings, *, burst: bool = False, simple: bool = False, lanes: Sequence[Lane] = LANES,
) -> bool:
    """Run one worker on `lanes` (in priority order, whatever order they are given in)."""
    services = build_services(settings)
    install_services(services)
    lanes = [lane for lane in LANES if lane in set(lanes)]
    queues = [services.queue_for(lane) for lane in lanes]
    if set(lanes) - {Lane.NOTIFY}:  # certifications and bulk enrolments look at faces
        services.face_backend()  # once per process, before any fork
        log.info("face models loaded")
        warm_identity_index(services)  # rebuilt from the database, before any fork
    log.info("worker listening on %s (in this order)", ", ".join(repr(q.name) for q in queues))
    try:
        sent = enqueue_pending(services)
        if sent:
            log.info("enqueued %d attempts that had not reached the queue", sent)
    except Exception:  # noqa: BLE001 - the database may not be up yet; the API side retries too
        log.exception("could not re-send pending attempts at start-up")
    schedule_next_sweep(services)  # the records sweep runs on RQ's scheduler from now on
    worker_class = SimpleWorker if simple else CertifyWorker
    worker = worker_class(
        queues,
        connection=services.redis,
        serializer=JSONSerializer,
        name=f"certify-{socket.gethostname()}-{uuid.uuid4().hex[:8]}",
        job_monitoring_interval=settings.worker_heartbeat_interval_s,
        maintenance_interval=settings.worker_maintenance_interval_s,
    )
    if isinstance(worker, CertifyWorker):
        worker.heartbeat_grace_s = settings.worker_heartbeat_grace_s
        worker.services = services
    return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
