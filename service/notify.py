"""Telling the webhook pump that records changed (best effort; the sweep catches up)."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from .context import Services
from .jobs import WEBHOOK_FAN_OUT, enqueue_job

__all__ = ["announce_changes"]

log = logging.getLogger(__name__)


def announce_changes(services: Services) -> None:
    """Enqueue the webhook fan-out after a commit that changed records."""
    try:
        enqueue_job(services, WEBHOOK_FAN_OUT)
    except (RedisError, OSError, RuntimeError) as exc:
        log.warning("webhook fan-out not enqueued (the sweep will catch up): %s", exc)
