"""The scheduled records sweep: open new periods, mark overdue, suspend where configured.

Runs as an RQ job scheduled by RQ's own scheduler (the workers run it): each run
processes everything in batches, one transaction per batch, then schedules the next
run at the next interval boundary. The job id names the boundary and is enqueued with
`unique=True`, so however many workers or API processes schedule it, it runs once.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from redis.exceptions import RedisError

from models.db import session_scope

from ..audit import record_audit
from ..context import Services
from ..jobs import RECORDS_SWEEP, enqueue_job
from ..records import SWEEP_BATCH, mark_overdue, open_current_periods, suspend_overdue

__all__ = ["SweepReport", "run_sweep", "sweep_job_id", "schedule_next_sweep", "next_boundary"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SweepReport:
    opened: int
    overdue: int
    suspended: int

    def to_json(self) -> dict[str, int]:
        return {"opened": self.opened, "overdue": self.overdue, "suspended": self.suspended}


def run_sweep(services: Services, *, batch: int = SWEEP_BATCH) -> SweepReport:
    """One full pass over all records; commits once per batch."""
    now = services.clock()
    opened = overdue = suspended = 0
    after: uuid.UUID | None = None
    while True:
        with session_scope(services.sessions) as db:
            created, after = open_current_periods(db, now=now, after=after, limit=batch)
            db.commit()
        opened += created
        if after is None:
            break
    while True:
        with session_scope(services.sessions) as db:
            moved = mark_overdue(db, now=now, limit=batch)
            db.commit()
        overdue += moved
        if moved < batch:
            break
    after = None
    while True:
        with session_scope(services.sessions) as db:
            count, after = suspend_overdue(db, now=now, after=after, limit=batch)
            db.commit()
        suspended += count
        if after is None:
            break
    report = SweepReport(opened=opened, overdue=overdue, suspended=suspended)
    if overdue or suspended:
        # the per-record history is in record_events; the audit log keeps one line per run
        with session_scope(services.sessions) as db:
            record_audit(
                db, actor_type="system", actor_id="sweep", action="records.sweep", subject_type="records",
                subject_id=now.date().isoformat(), now=now, reason="deadline passed", details=report.to_json(),
            )
            db.commit()
    log.info("records sweep: %s", report.to_json())
    return report


def next_boundary(now: dt.datetime, interval_s: int) -> dt.datetime:
    """The first multiple of `interval_s` (since the epoch) after `now`."""
    seconds = int(now.timestamp()) // interval_s * interval_s + interval_s
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _boundary_key(at: dt.datetime) -> str:
    return f"{at:%Y%m%dT%H%M%S}"


def sweep_job_id(at: dt.datetime) -> str:
    return RECORDS_SWEEP.job_id(_boundary_key(at))


def schedule_next_sweep(services: Services) -> dt.datetime | None:
    """Schedule the sweep at the next interval boundary (once, whoever asks); returns when."""
    at = next_boundary(services.clock(), services.settings.records_sweep_interval_s)
    try:
        enqueue_job(services, RECORDS_SWEEP, key=_boundary_key(at), at=at)
    except (RedisError, OSError) as exc:
        log.warning("could not schedule the records sweep: %s", exc)
        return None
    return at
