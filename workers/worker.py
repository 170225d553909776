"""The worker entry point: load the face models once, then take jobs from the queue.

By default each job runs in a forked work horse (RQ's Worker): the models, loaded in the
parent before the first fork, are shared copy-on-write, and a crash inside a job (a bad
video that trips a native decoder) kills only the horse, never the worker.
"""

from __future__ import annotations

import logging
import socket
import uuid

from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer

from service.context import build_services
from service.dispatch import enqueue_pending
from service.settings import Settings
from service.sweep import schedule_next_sweep

from .runtime import install_services

__all__ = ["run_worker"]

log = logging.getLogger(__name__)


def run_worker(settings: Settings, *, burst: bool = False, simple: bool = False) -> bool:
    services = build_services(settings)
    install_services(services)
    services.face_backend()  # once per process, before any fork
    log.info("face models loaded; worker listening on queue %r", settings.queue_name)
    try:
        sent = enqueue_pending(services)
        if sent:
            log.info("enqueued %d attempts that had not reached the queue", sent)
    except Exception:  # noqa: BLE001 - the database may not be up yet; the API side retries too
        log.exception("could not re-send pending attempts at start-up")
    schedule_next_sweep(services)  # the records sweep runs on RQ's scheduler from now on
    worker_class = SimpleWorker if simple else Worker
    worker = worker_class(
        [services.queue],
        connection=services.redis,
        serializer=JSONSerializer,
        name=f"certify-{socket.gethostname()}-{uuid.uuid4().hex[:8]}",
    )
    return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
