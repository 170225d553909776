"""RQ job functions. Thin: parse the id, call the processing code. Only ids arrive here."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from redis.exceptions import RedisError
from rq.exceptions import AbandonedJobError
from sqlalchemy.exc import InterfaceError, OperationalError

from models import Attempt, AttemptStatus
from models.db import session_scope
from service.infra.logs import log_context

from .process import run_attempt
from .runtime import current_services

__all__ = ["certify_attempt", "on_certification_job_failed"]

log = logging.getLogger(__name__)


def certify_attempt(attempt_id: str) -> dict[str, Any]:
    """Returns the attempt's status and whether this run recorded it (False: it was
    already decided, so a duplicated or retried job changed nothing)."""
    services = current_services()
    with log_context(attempt_id=attempt_id):
        status, recorded = run_attempt(services, uuid.UUID(attempt_id))
    return {"attempt_id": attempt_id, "status": status, "recorded": recorded}


def _is_infrastructure(exc_type: Any) -> bool:
    """The database or Redis was away, or the worker died: not the attempt's fault."""
    return isinstance(exc_type, type) and issubclass(
        exc_type, OperationalError | InterfaceError | RedisError | AbandonedJobError | OSError
    )


def on_certification_job_failed(job: Any, connection: Any, exc_type: Any, exc: Any, tb: Any) -> None:
    """After the last retry of a crashed job, mark the attempt `error` (never leave it stuck).

    Failures of the infrastructure (database or Redis down, the worker killed) do not
    make the attempt an error: the watchdog enqueues it again once things are back.
    """
    if job.should_retry:
        return
    if _is_infrastructure(exc_type):
        log.warning("job %s failed on infrastructure (%s); the watchdog will retry", job.id, exc_type)
        return
    attempt_id = uuid.UUID(job.args[0])
    services = current_services()
    with session_scope(services.sessions) as db:
        attempt = db.get(Attempt, attempt_id, with_for_update=True)
        if attempt is None or attempt.status in AttemptStatus.FINAL:
            return
        attempt.status = AttemptStatus.ERROR
        attempt.error = f"{getattr(exc_type, '__name__', exc_type)}: {exc}"[:2000]
        attempt.finished_at = services.clock()
        db.commit()
    log.error("attempt %s could not be processed: %s", attempt_id, exc)
