"""Rate-limit counters: in-process fallback when Redis fails, windows, budgets."""

from __future__ import annotations

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from service.infra.limits import Budget, RateLimiter


class _DeadRedis:
    def pipeline(self):
        raise RedisConnectionError("connection refused")


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_counts_in_process_when_redis_is_unreachable():
    clock = _Clock()
    limiter = RateLimiter(lambda: _DeadRedis(), clock=clock)
    budget = [Budget("ip", "10.0.0.1", 3, 60)]
    assert [limiter.hit(budget) for _ in range(3)] == [None, None, None]
    exceeded = limiter.hit(budget)
    assert exceeded is not None and exceeded.budget.scope == "ip"
    assert 1 <= exceeded.retry_after_s <= 61
    assert limiter.mode == "in_process"
    # another identity has its own budget; a new window starts afresh
    assert limiter.hit([Budget("ip", "10.0.0.2", 3, 60)]) is None
    clock.now += 60
    assert limiter.hit(budget) is None


def test_over_looks_without_counting():
    limiter = RateLimiter(lambda: _DeadRedis(), clock=_Clock())
    budget = [Budget("nonce_session", "s", 2, 600)]
    assert limiter.over(budget) is None
    limiter.hit(budget)
    assert limiter.over(budget) is None
    limiter.hit(budget)
    assert limiter.over(budget) is not None  # the next one would be the third
    assert limiter.over(budget) is not None


def test_no_redis_configured_is_an_outage_too():
    def unconfigured():
        raise RuntimeError("no Redis URL configured")

    limiter = RateLimiter(unconfigured, clock=_Clock())
    assert limiter.hit([Budget("ip", "x", 0, 60)]) is not None
    assert limiter.mode == "in_process"


@pytest.mark.parametrize("limit", [1, 5])
def test_the_first_exceeded_budget_is_named(limit):
    limiter = RateLimiter(lambda: _DeadRedis(), clock=_Clock())
    budgets = [Budget("ip", "a", 100, 60), Budget("token", "t", limit, 60)]
    for _ in range(limit):
        assert limiter.hit(budgets) is None
    assert limiter.hit(budgets).budget.scope == "token"
