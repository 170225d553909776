"""RQ job functions. Thin: parse the id, call the processing code. Only ids arrive here."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from models import Attempt, AttemptStatus
from models.db import session_scope

from .process import process_attempt
from .runtime import current_services

__all__ = ["certify_attempt", "on_certification_job_failed"]

log = logging.getLogger(__name__)


def certify_attempt(attempt_id: str) -> dict[str, str]:
    services = current_services()
    status = process_attempt(services, uuid.UUID(attempt_id))
    return {"attempt_id": attempt_id, "status": status}


def on_certification_job_failed(job: Any, connection: Any, exc_type: Any, exc: Any, tb: Any) -> None:
    """After the last retry of a crashed job, mark the attempt `error` (never leave it stuck)."""
    if job.should_retry:
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
