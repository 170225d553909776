"""Locking a pensioner out of self-service after repeated failures, for a while.

Failures are failed certification results, refused uploads (unusable video, expired
session) and wrong session nonces. `lockout_failures` of them within `lockout_window_s`
lock the pensioner's self-service for `lockout_s`: opening a session or uploading
answers 423 `pensioner_locked` with Retry-After, and the message sends them to community
staff, whose assisted sessions are not locked. Staff can also lift a lock.

The counters live in Redis (a sorted set of failure times and a lock key, both
expiring). Times come from the service clock, so tests can move past a lock. When Redis
is unreachable the lockout fails open: nobody is locked out by an outage, and uploads
go on into the outbox.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError

from .errors import LockedError

__all__ = ["LockoutPolicy", "LockoutState", "record_failure", "lockout_state", "ensure_not_locked", "clear_lockout"]

log = logging.getLogger(__name__)

_FAILURES = "certify:lockout:failures:{}"
_LOCK = "certify:lockout:until:{}"


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
    locked_until_s: float | None
    recent_failures: int

    def locked(self, now_s: float) -> bool:
        return self.locked_until_s is not None and self.locked_until_s > now_s


def record_failure(
    redis: Redis, *, pensioner_id: uuid.UUID, now_s: float, policy: LockoutPolicy, reason: str
) -> float | None:
    """Count one failure; returns the lock's end when this failure starts a lock."""
    key = _FAILURES.format(pensioner_id)
    try:
        with redis.pipeline() as pipe:
            pipe.zadd(key, {f"{now_s:.6f}:{uuid.uuid4().hex[:8]}:{reason[:40]}": now_s})
            pipe.zremrangebyscore(key, "-inf", now_s - policy.window_s)
            pipe.zcard(key)
            pipe.expire(key, policy.window_s + 60)
            count = pipe.execute()[2]
        if count < policy.failures:
            return None
        until = now_s + policy.lock_s
        with redis.pipeline() as pipe:
            pipe.set(_LOCK.format(pensioner_id), f"{until:.3f}", ex=policy.lock_s + 3600)
            pipe.delete(key)
            pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("lockout not recorded (Redis unavailable: %s)", exc)
        return None
    log.warning("pensioner %s locked out of self-service after %d failures", pensioner_id, count)
    return until


def lockout_state(redis: Redis, *, pensioner_id: uuid.UUID, now_s: float, policy: LockoutPolicy) -> LockoutState:
    try:
        with redis.pipeline() as pipe:
            pipe.get(_LOCK.format(pensioner_id))
            pipe.zcount(_FAILURES.format(pensioner_id), now_s - policy.window_s, "+inf")
            until_raw, recent = pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("lockout not checked (Redis unavailable: %s)", exc)
        return LockoutState(None, 0)
    until = float(until_raw) if until_raw is not None else None
    if until is not None and until <= now_s:
        until = None
    return LockoutState(until, int(recent or 0))


def ensure_not_locked(redis: Redis, *, pensioner_id: uuid.UUID, now_s: float, policy: LockoutPolicy) -> None:
    """Raise LockedError (423) while the pensioner's self-service is locked."""
    state = lockout_state(redis, pensioner_id=pensioner_id, now_s=now_s, policy=policy)
    if state.locked(now_s):
        assert state.locked_until_s is not None
        raise LockedError(
            "pensioner_locked",
            "too many failed tries; wait, or ask community staff to help you certify",
            retry_after_s=round(state.locked_until_s - now_s),
            contact_staff=True,
        )


def clear_lockout(redis: Redis, *, pensioner_id: uuid.UUID) -> None:
    redis.delete(_LOCK.format(pensioner_id), _FAILURES.format(pensioner_id))
