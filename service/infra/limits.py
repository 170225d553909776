"""Fixed-window counters for rate limits: in Redis, shared by every process, and in this
process when Redis cannot be reached (limits then hold per process instead of failing
open; `/readyz` and `/metrics` say so).

    Budget        what is counted (scope + identity), how many per window, the window
    RateLimiter   hit(budgets) counts one request against each budget and names the
                  first one it exceeds; over(budgets) only looks

After Redis fails, the limiter stays on its own counters for `REDIS_RETRY_S` before it
tries Redis again, so an outage costs one failed connection per few seconds, not one per
request.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError

__all__ = ["Budget", "Exceeded", "RateLimiter", "REDIS_RETRY_S", "hashed"]

log = logging.getLogger(__name__)

REDIS_RETRY_S = 5.0
"""After a Redis failure, count in process for this long before trying Redis again."""

_KEY = "certify:rl:{scope}:{identity}:{window}"


def hashed(value: str) -> str:
    """A short digest for a credential used as a counter identity (never stored in clear)."""
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:32]


@dataclass(frozen=True)
class Budget:
    scope: str
    """What kind of identity is counted: ip, token, staff, nonce_ip, nonce_session ..."""
    identity: str
    limit: int
    """Requests allowed per window; the next one exceeds the budget."""
    window_s: int


@dataclass(frozen=True)
class Exceeded:
    budget: Budget
    retry_after_s: int


class RateLimiter:
    def __init__(self, redis: Callable[[], Redis], *, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}
        """key -> (count, when the window ends) for the in-process counters."""
        self._redis_down_until = 0.0
        self.in_process_since: float | None = None
        """Since when (monotonic) limits are counted in this process; None: in Redis."""

    @property
    def mode(self) -> str:
        return "redis" if self.in_process_since is None else "in_process"

    def hit(self, budgets: Sequence[Budget]) -> Exceeded | None:
        """Count one request against every budget; the first budget now exceeded, if any."""
        return self._count(budgets, increment=1)

    def over(self, budgets: Sequence[Budget]) -> Exceeded | None:
        """The first budget already used up (without counting this request)."""
        return self._count(budgets, increment=0)

    def _count(self, budgets: Sequence[Budget], *, increment: int) -> Exceeded | None:
        if not budgets:
            return None
        now = self._clock()
        keys = [self._key(b, now) for b in budgets]
        counts = self._redis_counts(budgets, keys, increment)
        if counts is None:
            counts = self._local_counts(budgets, keys, increment, now)
        for budget, count in zip(budgets, counts, strict=True):
            used = count if increment else count + 1
            if used > budget.limit:
                window_end = (int(now // budget.window_s) + 1) * budget.window_s
                return Exceeded(budget, max(1, int(window_end - now) + 1))
        return None

    @staticmethod
    def _key(budget: Budget, now: float) -> str:
        window = int(now // max(1, budget.window_s))
        return _KEY.format(scope=budget.scope, identity=budget.identity, window=window)

    def _redis_counts(self, budgets: Sequence[Budget], keys: list[str], increment: int) -> list[int] | None:
        if time.monotonic() < self._redis_down_until:
            return None
        try:
            with self._redis().pipeline() as pipe:
                for budget, key in zip(budgets, keys, strict=True):
                    if increment:
                        pipe.incrby(key, increment)
                        pipe.expire(key, budget.window_s + 5)
                    else:
                        pipe.get(key)
                results = pipe.execute()
        except (RedisError, OSError, RuntimeError) as exc:
            self._redis_down_until = time.monotonic() + REDIS_RETRY_S
            if self.in_process_since is None:
                self.in_process_since = time.monotonic()
                log.warning("rate limits counted in this process (Redis unavailable: %s)", exc)
            return None
        if self.in_process_since is not None:
            self.in_process_since = None
            log.warning("rate limits counted in Redis again")
        values = results[::2] if increment else results
        return [int(v or 0) for v in values]

    def _local_counts(
        self, budgets: Sequence[Budget], keys: list[str], increment: int, now: float
    ) -> list[int]:
        counts = []
        with self._lock:
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            for budget, key in zip(budgets, keys, strict=True):
                count, ends = self._counts.get(key, (0, 0.0))
                if ends <= now:
                    count, ends = 0, (int(now // budget.window_s) + 1) * budget.window_s
                count += increment
                if increment:
                    self._counts[key] = (count, ends)
                counts.append(count)
        return counts
