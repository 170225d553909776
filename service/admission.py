"""Whether a pensioner may open a certification session or hand in a recording now.

One rule for every door (staff API, the pensioner's link, direct and resumable uploads):

    lockout      a self-service session or upload is refused while the pensioner is
                 locked out (423 pensioner_locked); assisted sessions are not locked
    one at a time  a pensioner has at most one undecided (queued or processing) attempt:
                 another session or upload waits for its result (409 attempt_in_progress);
                 a unique partial index on attempts backs this up against races
    tries        failed attempts and undecided ones count toward the period's tries;
                 none left: 409 attempts_exhausted

`admit` is called by service.certification when a session is opened and again when a
recording arrives for it (a session opened earlier may not be used to dodge the rules).
Data functions: they read, never write or commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Attempt, AttemptStatus, Channel

from .error_codes import ErrorCode
from .errors import ConflictError
from .lockout import LockoutPolicy, ensure_not_locked

__all__ = ["AdmissionRules", "admit", "undecided_attempt", "tries_used", "tries_left"]


@dataclass(frozen=True)
class AdmissionRules:
    max_failed_attempts: int
    lockout: LockoutPolicy

    @classmethod
    def of(cls, settings) -> AdmissionRules:
        return cls(settings.max_failed_attempts, LockoutPolicy.of(settings))


def undecided_attempt(db: Session, *, pensioner_id: uuid.UUID) -> uuid.UUID | None:
    """The pensioner's attempt that is queued or being processed, if any."""
    return db.scalar(
        select(Attempt.id)
        .where(Attempt.pensioner_id == pensioner_id, Attempt.status.in_(AttemptStatus.UNDECIDED))
        .limit(1)
    )


def tries_used(db: Session, *, pensioner_id: uuid.UUID, period: str) -> int:
    """Failed attempts of the period, plus the ones still waiting for their result."""
    return db.scalar(
        select(func.count())
        .select_from(Attempt)
        .where(
            Attempt.pensioner_id == pensioner_id,
            Attempt.period == period,
            Attempt.status.in_({AttemptStatus.FAILED, *AttemptStatus.UNDECIDED}),
        )
    ) or 0


def tries_left(db: Session, *, pensioner_id: uuid.UUID, period: str, limit: int) -> int:
    """How many more attempts this period before the pensioner is sent to staff."""
    return max(0, limit - tries_used(db, pensioner_id=pensioner_id, period=period))


def admit(
    db: Session,
    *,
    pensioner_id: uuid.UUID,
    period: str,
    channel: str,
    now: dt.datetime,
    rules: AdmissionRules,
) -> None:
    """Raise if the pensioner may not start (or hand in) an attempt now."""
    if channel == Channel.SELF:
        ensure_not_locked(db, pensioner_id=pensioner_id, now=now, policy=rules.lockout)
    if undecided_attempt(db, pensioner_id=pensioner_id) is not None:
        raise ConflictError(
            ErrorCode.ATTEMPT_IN_PROGRESS,
            "the last recording is still being checked; wait for its result",
        )
    if tries_left(db, pensioner_id=pensioner_id, period=period, limit=rules.max_failed_attempts) <= 0:
        raise ConflictError(
            ErrorCode.ATTEMPTS_EXHAUSTED,
            "no certification tries are left this period; community staff can help",
            period=period,
        )
