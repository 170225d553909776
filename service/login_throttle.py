"""Throttling of staff sign-ins: failed ones are counted in the audit log (durable, and
independent of Redis), per account and per client address.

Each counter has some free failures (typos); past them every further try waits a
backoff after the latest failure: `login_backoff_base_s`, doubling with each failure,
at most `login_backoff_max_s`. Tries refused for the wait are not counted and the
password is not checked, so guessing faster gains nothing, and once a guesser stops the
owner of the account waits at most `login_backoff_max_s`. A successful sign-in resets
its account's counter (not its address's: one valid account must not buy an address
more guesses at the others). Data functions: they never commit.

A process serialises sign-ins per account and per address (`KeyedLocks`), so that a
burst of parallel guesses cannot all pass the count before the first failure is written:
with several API processes a burst gets at most one guess past the count per process.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AuditEvent, StaffUser

from .audit import record_audit
from .error_codes import ErrorCode
from .errors import RateLimitedError
from .settings import Settings

__all__ = [
    "LOGIN_FAILED",
    "account_key",
    "backoff_s",
    "check_login_allowed",
    "record_login_failure",
    "KeyedLocks",
    "LOCK_TIMEOUT_S",
    "login_wait_s",
]

LOGIN_FAILED = "staff.login_failed"
"""The audit action of a failed sign-in (actor_id: the account name tried; ip)."""

LOCK_TIMEOUT_S = 10.0
"""A sign-in that cannot take its account's or address's turn within this is refused."""


def account_key(username: str) -> str:
    """The account name as sign-in matches it and the audit log records it."""
    return username.strip().lower()[:64]


def backoff_s(failures: int, *, free: int, base_s: float, max_s: float) -> float:
    """How long after the latest of `failures` failures the next try must wait."""
    if failures < free:
        return 0.0
    return float(min(max_s, base_s * 2 ** min(failures - free, 32)))


def _failures(db: Session, *, since: dt.datetime, **match: str) -> tuple[int, dt.datetime | None]:
    conditions = [AuditEvent.action == LOGIN_FAILED, AuditEvent.at > since]
    conditions += [getattr(AuditEvent, column) == value for column, value in match.items()]
    count, latest = db.execute(select(func.count(), func.max(AuditEvent.at)).where(*conditions)).one()
    return int(count), latest


def login_wait_s(
    db: Session, *, username: str, ip: str | None, now: dt.datetime, settings: Settings
) -> float:
    """Seconds this sign-in must still wait (0: it may be tried now)."""
    window_start = now - dt.timedelta(seconds=settings.login_failure_window_s)
    name = account_key(username)
    since = window_start
    last_login = db.scalar(select(StaffUser.last_login_at).where(StaffUser.username == name))
    if last_login is not None and last_login > since:
        since = last_login
    counters = [(_failures(db, since=since, actor_id=name), settings.login_account_free_failures)]
    if ip:
        counters.append((_failures(db, since=window_start, ip=ip), settings.login_ip_free_failures))
    wait = 0.0
    for (count, latest), free in counters:
        delay = backoff_s(
            count, free=free, base_s=settings.login_backoff_base_s, max_s=settings.login_backoff_max_s
        )
        if delay and latest is not None:
            wait = max(wait, delay - (now - latest).total_seconds())
    return wait


def check_login_allowed(
    db: Session, *, username: str, ip: str | None, now: dt.datetime, settings: Settings
) -> None:
    """Raise 429 `login_throttled` (with Retry-After) while this sign-in must wait."""
    wait = login_wait_s(db, username=username, ip=ip, now=now, settings=settings)
    if wait > 0:
        raise RateLimitedError(
            ErrorCode.LOGIN_THROTTLED, "too many failed sign-ins; wait before trying again",
            retry_after_s=wait,
        )


def record_login_failure(db: Session, *, username: str, ip: str | None, now: dt.datetime) -> None:
    record_audit(
        db, actor_type="anonymous", actor_id=account_key(username), action=LOGIN_FAILED,
        subject_type="staff", subject_id=username[:64], now=now, ip=ip,
    )


class KeyedLocks:
    """One lock per key (an account, an address), existing only while someone holds or
    waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    def _take(self, key: str) -> threading.Lock:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
            return lock

    def _drop(self, key: str) -> None:
        with self._guard:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    @contextmanager
    def hold(self, *keys: str, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
        """Hold every key's lock (taken in sorted order, so two holders never deadlock);
        raises 429 `login_throttled` when one is not free within `timeout_s`."""
        held: list[tuple[str, threading.Lock]] = []
        try:
            for key in sorted(set(keys)):
                lock = self._take(key)
                if not lock.acquire(timeout=timeout_s):
                    self._drop(key)
                    raise RateLimitedError(
                        ErrorCode.LOGIN_THROTTLED, "too many sign-ins at once; try again", retry_after_s=1
                    )
                held.append((key, lock))
            yield
        finally:
            for key, lock in reversed(held):
                lock.release()
                self._drop(key)

    def __len__(self) -> int:
        with self._guard:
            return len(self._locks)
