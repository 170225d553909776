"""RQ jobs of the agency side: the records sweep, exports, webhooks, bulk enrolments.

Kept apart from workers/jobs.py so that scheduling them never imports the face engine.
Only ids arrive here (JSON serializer).
"""

from __future__ import annotations

import logging
import uuid

from service.exports import run_export_job
from service.sweep import run_sweep, schedule_next_sweep

from .runtime import current_services

__all__ = ["sweep_records", "export_results"]

log = logging.getLogger(__name__)


def sweep_records() -> dict[str, int]:
    """Open new periods, mark overdue records, suspend where configured; then reschedule."""
    services = current_services()
    try:
        report = run_sweep(services)
    finally:
        schedule_next_sweep(services)
    return report.to_json()


def export_results(job_id: str) -> str:
    return run_export_job(current_services(), uuid.UUID(job_id))
