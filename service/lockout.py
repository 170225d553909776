"""Locking a pensioner out of self-service after repeated failures, for a while.

Failures are the pensioner's own: failed certification results and uploads, made with
the right session nonce, that are not a usable video. `lockout_failures` of them within
`lockout_window_s` lock the pensioner's self-service for `lockout_s`: opening a session
or uploading answers 423 `pensioner_locked` with Retry-After, and the message sends them
to community staff, whose assisted sessions are not locked. Staff can also lift a lock.

A wrong nonce, an expired session or a session of someone else is the caller's failure,
not the pensioner's: it is counted per client and per session (service.nonce_guard) and
never here, so a stranger who learns an id cannot lock a pensioner out.

Failures and locks live in the database (models.lockouts): durable, the same for every
process, and not erased when Redis restarts. The checks are data functions (they never
commit) called by the use cases (service.certification), so every door has them.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import SelfServiceFailure, SelfServiceLock

from .error_codes import ErrorCode
from .errors import LockedError

__all__ = [
    "LockoutPolicy",
    "LockoutState",
    "record_failure",
    "lockout_state",
    "ensure_not_locked",
    "clear_lockout",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LockoutPolicy:
    failures: int
    window_s: int
    lock_s: int

    @classmethod
    def of(cls, settings) -> LockoutPolicy:
        return cls(settings.lockout_failures, settings.lockout_window_s, settings.lockout_s)


@dataclass(frozen=True)
class LockoutState:
    locked_until: dt.datetime | None
    """When the current lock ends; None when not locked."""
    recent_failures: int

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


def _lock_row(db: Session, pensioner_id: uuid.UUID, *, for_update: bool) -> SelfServiceLock | None:
    return db.get(SelfServiceLock, pensioner_id, with_for_update=for_update)


def _recent(db: Session, *, pensioner_id: uuid.UUID, since: dt.datetime) -> int:
    return db.scalar(
        select(func.count())
        .select_from(SelfServiceFailure)
        .where(SelfServiceFailure.pensioner_id == pensioner_id, SelfServiceFailure.at > since)
    ) or 0


def record_failure(
    db: Session,
    *,
    pensioner_id: uuid.UUID,
    now: dt.datetime,
    policy: LockoutPolicy,
    reason: str,
    attempt_id: uuid.UUID | None = None,
) -> dt.datetime | None:
    """Count one failure of the pensioner's; returns the lock's end when it starts a lock."""
    lock = _lock_row(db, pensioner_id, for_update=True)
    if lock is None:
        try:
            with db.begin_nested():  # two first failures at once: one row wins, both count
                db.add(SelfServiceLock(pensioner_id=pensioner_id, failures=0))
        except IntegrityError:
            pass
        lock = _lock_row(db, pensioner_id, for_update=True)
        assert lock is not None
    db.add(SelfServiceFailure(pensioner_id=pensioner_id, at=now, reason=reason[:64], attempt_id=attempt_id))
    db.flush()
    if lock.locked_until is not None and lock.locked_until > now:
        return None  # already locked; the failure is kept for the record
    since = now - dt.timedelta(seconds=policy.window_s)
    if lock.counts_since is not None and lock.counts_since > since:
        since = lock.counts_since
    count = _recent(db, pensioner_id=pensioner_id, since=since)
    if count < policy.failures:
        return None
    lock.locked_at = now
    lock.locked_until = now + dt.timedelta(seconds=policy.lock_s)
    lock.failures = count
    lock.counts_since = now
    lock.lifted_at = lock.lifted_by = None
    log.warning("pensioner %s locked out of self-service after %d failures", pensioner_id, count)
    return lock.locked_until


def lockout_state(
    db: Session, *, pensioner_id: uuid.UUID, now: dt.datetime, policy: LockoutPolicy
) -> LockoutState:
    lock = _lock_row(db, pensioner_id, for_update=False)
    until = lock.locked_until if lock is not None else None
    if until is not None and until <= now:
        until = None
    since = now - dt.timedelta(seconds=policy.window_s)
    if lock is not None and lock.counts_since is not None and lock.counts_since > since:
        since = lock.counts_since
    return LockoutState(until, _recent(db, pensioner_id=pensioner_id, since=since))


def ensure_not_locked(
    db: Session, *, pensioner_id: uuid.UUID, now: dt.datetime, policy: LockoutPolicy
) -> None:
    """Raise LockedError (423) while the pensioner's self-service is locked."""
    lock = _lock_row(db, pensioner_id, for_update=False)
    if lock is None or lock.locked_until is None or lock.locked_until <= now:
        return
    raise LockedError(
        ErrorCode.PENSIONER_LOCKED,
        "too many failed tries; wait, or ask community staff to help you certify",
        retry_after_s=max(1, round((lock.locked_until - now).total_seconds())),
        contact_staff=True,
    )


def clear_lockout(db: Session, *, pensioner_id: uuid.UUID, now: dt.datetime, lifted_by: str) -> None:
    """Lift the lock; failures before now stop counting toward the next one."""
    lock = _lock_row(db, pensioner_id, for_update=True)
    if lock is None:
        lock = SelfServiceLock(pensioner_id=pensioner_id, failures=0)
        db.add(lock)
    lock.locked_until = None
    lock.counts_since = now
    lock.lifted_at = now
    lock.lifted_by = lifted_by[:64]
    db.flush()
