"""The periodic housekeeping pass: outbox sweeper, stuck-attempt watchdog, abandoned
resumable uploads, retention purge, the statistics summaries (every
`stats_refresh_interval_s`).

`certify serve` runs it in a thread and `certify maintain` runs it on its own (one per
deployment is enough; several are harmless). A Redis lock lets only one process do a
pass at a time, so N API machines do not all sweep at once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from ..context import Services
from ..stats.summaries import refresh_summaries
from ..uploads import purge_abandoned_uploads
from .dispatch import enqueue_pending
from .retention import (
    purge_expired_job_files,
    purge_expired_videos,
    purge_old_probe_templates,
    purge_stale_spool,
)
from .watchdog import recover_stale_attempts

__all__ = [
    "MaintenanceReport",
    "run_maintenance_pass",
    "maintain_forever",
    "MAINTENANCE_LOCK",
    "RETENTION_STAMP",
    "STATS_STAMP",
    "refresh_stats_now",
]

log = logging.getLogger(__name__)

MAINTENANCE_LOCK = "certify:maintenance:lock"
"""Redis key held while one process runs a maintenance pass."""

RETENTION_STAMP = "certify:maintenance:retention-at"
"""Redis key with the time of the last retention purge (shared by every maintainer)."""


STATS_STAMP = "certify:maintenance:stats-at"
"""Redis key with the time of the last statistics refresh (shared by every maintainer)."""


@dataclass
class MaintenanceReport:
    enqueued: int = 0
    requeued: int = 0
    videos_purged: int = 0
    job_files_purged: int = 0
    uploads_purged: int = 0
    stats_refreshed: bool = False
    skipped: bool = False
    errors: list[str] = field(default_factory=list)


def _due(services: Services, stamp: str, interval_s: float, now_s: float) -> bool:
    """True (and the stamp moved to now) when `interval_s` passed since the shared stamp."""
    last = services.redis.get(stamp)
    if last is not None and now_s - float(last) < interval_s:
        return False
    services.redis.set(stamp, str(now_s))
    return True


def _retention_due(services: Services, now_s: float) -> bool:
    return _due(services, RETENTION_STAMP, services.settings.retention_interval_s, now_s)


def refresh_stats_now(services: Services) -> None:
    """Rebuild the statistics summaries and commit (the maintenance pass, `certify stats refresh`)."""
    with services.sessions() as db:
        refresh_summaries(db, now=services.clock())
        db.commit()


def _stats_due(services: Services, now_s: float) -> bool:
    return _due(services, STATS_STAMP, services.settings.stats_refresh_interval_s, now_s)


def run_maintenance_pass(services: Services, *, force_retention: bool = False) -> MaintenanceReport:
    """One pass; every step is independent, so one failing does not stop the others."""
    report = MaintenanceReport()
    settings = services.settings
    lock = None
    try:
        lock = services.redis.lock(MAINTENANCE_LOCK, timeout=max(60.0, settings.maintenance_interval_s * 4))
        if not lock.acquire(blocking=False):
            report.skipped = True
            return report
    except (RedisError, OSError) as exc:
        lock = None  # Redis is down: the sweeper still records nothing, but retention can run
        report.errors.append(f"lock: {exc}")
    try:
        try:
            report.enqueued = enqueue_pending(services, older_than_s=settings.maintenance_interval_s)
        except Exception as exc:  # noqa: BLE001 - keep the other steps going
            log.warning("outbox sweep failed: %s", exc)
            report.errors.append(f"sweep: {exc}")
        try:
            report.requeued = len(recover_stale_attempts(services).requeued)
        except Exception as exc:  # noqa: BLE001
            log.warning("watchdog pass failed: %s", exc)
            report.errors.append(f"watchdog: {exc}")
        try:
            report.uploads_purged = purge_abandoned_uploads(services)
        except Exception as exc:  # noqa: BLE001
            log.warning("abandoned-upload purge failed: %s", exc)
            report.errors.append(f"uploads: {exc}")
        try:
            now_s = services.clock().timestamp()
            due = force_retention
            if not due:
                try:
                    due = _retention_due(services, now_s)
                except (RedisError, OSError):
                    due = False
            if due:
                report.videos_purged = purge_expired_videos(services)
                report.job_files_purged = purge_expired_job_files(services)
                purge_stale_spool(services)
                purge_old_probe_templates(services)
        except Exception as exc:  # noqa: BLE001
            log.warning("retention purge failed: %s", exc)
            report.errors.append(f"retention: {exc}")
        try:
            if _stats_due(services, services.clock().timestamp()):
                refresh_stats_now(services)
                report.stats_refreshed = True
        except Exception as exc:  # noqa: BLE001
            log.warning("statistics refresh failed: %s", exc)
            report.errors.append(f"stats: {exc}")
    finally:
        if lock is not None:
            try:
                lock.release()
            except Exception:  # noqa: BLE001 - expired or Redis gone; it times out anyway
                pass
    if report.enqueued or report.requeued or report.videos_purged:
        log.info(
            "maintenance: %d enqueued, %d re-enqueued, %d videos purged",
            report.enqueued, report.requeued, report.videos_purged,
        )
    return report


def maintain_forever(services: Services, stop: threading.Event) -> None:
    """Run passes every `maintenance_interval_s` until `stop` is set."""
    interval = services.settings.maintenance_interval_s
    while not stop.wait(interval):
        started = time.monotonic()
        try:
            run_maintenance_pass(services)
        except Exception:  # noqa: BLE001 - never let the loop die
            log.exception("maintenance pass failed")
        log.debug("maintenance pass took %.2f s", time.monotonic() - started)
