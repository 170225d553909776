"""Metrics that several processes on several machines add to: job durations per engine
stage and decisions by reason, kept as Redis hashes so that the API's /metrics shows the
whole deployment's workers, not one process's.

Workers call `record_job_metrics` after each recorded outcome (best effort: a Redis hiccup
loses a sample, never a job). The API's collector reads the hashes at scrape time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import cast

from redis import Redis
from redis.exceptions import RedisError

__all__ = [
    "STAGE_BUCKETS_MS",
    "STAGES_KEY",
    "DECISIONS_KEY",
    "record_job_metrics",
    "read_stage_histograms",
    "read_decisions",
]

log = logging.getLogger(__name__)

STAGE_BUCKETS_MS = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)
"""Histogram bucket upper bounds (milliseconds) for per-stage job durations."""

STAGES_KEY = "certify:metrics:stage_ms"
DECISIONS_KEY = "certify:metrics:decisions"


def record_job_metrics(
    redis: Redis, *, timings_ms: Mapping[str, float], status: str, reasons: Iterable[str]
) -> None:
    try:
        with redis.pipeline(transaction=False) as pipe:
            for stage, value in timings_ms.items():
                value = float(value)
                for bound in STAGE_BUCKETS_MS:
                    if value <= bound:
                        pipe.hincrby(STAGES_KEY, f"{stage}|{bound}", 1)
                pipe.hincrby(STAGES_KEY, f"{stage}|count", 1)
                pipe.hincrbyfloat(STAGES_KEY, f"{stage}|sum", value)
            reasons = list(reasons) or ["none"]
            for reason in reasons:
                pipe.hincrby(DECISIONS_KEY, f"{status}|{reason}", 1)
            pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("job metrics not recorded: %s", exc)


def _hash_fields(redis: Redis, key: str) -> dict[bytes, bytes]:
    # the clients are made without decode_responses, so Redis returns bytes
    return cast("dict[bytes, bytes]", redis.hgetall(key))


def read_stage_histograms(redis: Redis) -> dict[str, dict[str, float]]:
    """{stage: {"10": n, ..., "count": n, "sum": ms}} (bucket counts are cumulative)."""
    stages: dict[str, dict[str, float]] = {}
    for field, value in _hash_fields(redis, STAGES_KEY).items():
        stage, _, part = field.decode().rpartition("|")
        stages.setdefault(stage, {})[part] = float(value)
    return stages


def read_decisions(redis: Redis) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for field, value in _hash_fields(redis, DECISIONS_KEY).items():
        status, _, reason = field.decode().partition("|")
        out[(status, reason)] = int(value)
    return out
