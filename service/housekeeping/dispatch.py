"""Putting attempts on the queue, and re-sending those the queue never received.

The attempts table is the outbox: an attempt is `queued` from the moment its video is
stored, and `enqueued_at` records when the job reached Redis. `enqueue_pending` sends
the ones that never arrived (Redis was down when they were uploaded).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from redis.exceptions import RedisError
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from models import Attempt, AttemptStatus
from models.db import session_scope

from ..context import Services
from ..jobs import CERTIFICATION, enqueue_job

__all__ = ["enqueue_attempt", "enqueue_pending"]

log = logging.getLogger(__name__)


def enqueue_attempt(services: Services, attempt_id: uuid.UUID, *, again: bool = False) -> bool:
    """Enqueue the attempt's job; False (and the attempt stays pending) if Redis is down.

    `again`: the attempt was enqueued before and its job was lost; `enqueued_at` is moved
    to now so the watchdog gives the new job its full time.
    """
    try:
        # an ended job hash under the attempt's job id is replaced (CERTIFICATION.replace_ended)
        enqueue_job(services, CERTIFICATION, key=attempt_id)
    except (RedisError, OSError) as exc:
        log.warning("attempt %s not enqueued yet (queue unavailable: %s)", attempt_id, exc)
        return False
    try:
        with session_scope(services.sessions) as db:
            query = update(Attempt).where(Attempt.id == attempt_id)
            if not again:
                query = query.where(Attempt.enqueued_at.is_(None))
            db.execute(query.values(enqueued_at=services.clock()))
            db.commit()
    except SQLAlchemyError as exc:
        # the job is on the queue; the sweeper will find the attempt again and the unique
        # job id makes that a no-op
        log.warning("attempt %s enqueued, but enqueued_at not saved: %s", attempt_id, exc)
    return True


def enqueue_pending(services: Services, *, older_than_s: float = 0.0, limit: int = 500) -> int:
    """Enqueue queued attempts that never reached the queue; returns how many were sent."""
    cutoff = services.clock() - dt.timedelta(seconds=older_than_s)
    with session_scope(services.sessions) as db:
        pending = db.scalars(
            select(Attempt.id)
            .where(
                Attempt.status == AttemptStatus.QUEUED,
                Attempt.enqueued_at.is_(None),
                Attempt.created_at <= cutoff,
            )
            .order_by(Attempt.created_at)
            .limit(limit)
        ).all()
    sent = 0
    for attempt_id in pending:
        if not enqueue_attempt(services, attempt_id):
            break
        sent += 1
    return sent
