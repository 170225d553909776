"""Telling the webhook pump that records changed (best effort; the sweep catches up)."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from .context import Services

__all__ = ["announce_changes", "FAN_OUT_JOB"]

log = logging.getLogger(__name__)

FAN_OUT_JOB = "workers.records_jobs.fan_out_events"
"""Turns new record events into webhook deliveries and enqueues them."""


def announce_changes(services: Services) -> None:
    """Enqueue the webhook fan-out after a commit that changed records."""
    try:
        services.queue.enqueue_call(FAN_OUT_JOB, timeout=600, result_ttl=600, description="webhook fan-out")
    except (RedisError, OSError, RuntimeError) as exc:
        log.warning("webhook fan-out not enqueued (the sweep will catch up): %s", exc)
