"""RQ jobs of the agency side: the records sweep, exports, webhooks, bulk enrolments.

Kept apart from workers/jobs.py so that scheduling them never imports the face engine.
Only ids arrive here (JSON serializer).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from models import DeliveryStatus, Webhook, WebhookDelivery
from models.db import session_scope
from service.exports import run_export_job
from service.housekeeping.sweep import run_sweep, schedule_next_sweep
from service.jobs import enqueue_delivery
from service.webhooks import WebhookDeliveryError, attempt_delivery, fan_out

from .runtime import current_services

__all__ = [
    "sweep_records",
    "export_results",
    "fan_out_events",
    "deliver_webhook",
    "on_delivery_failed",
    "enrol_from_csv",
    "record_deaths_from_csv",
    "UNSENT_DELIVERY_AGE_S",
]

log = logging.getLogger(__name__)

UNSENT_DELIVERY_AGE_S = 300
"""Deliveries older than this that never reached the queue are re-sent by the sweep."""


def sweep_records() -> dict[str, int]:
    """Open new periods, mark overdue records, suspend where configured, send webhooks;
    then schedule the next run."""
    services = current_services()
    try:
        report = run_sweep(services).to_json()
        report["deliveries"] = fan_out_events()
        report["resent"] = _resend_unsent_deliveries()
        report["jobs_requeued"] = _requeue_stuck_jobs()
    finally:
        schedule_next_sweep(services)
    return report


def export_results(job_id: str) -> str:
    return run_export_job(current_services(), uuid.UUID(job_id))


def fan_out_events() -> int:
    """Turn new record events into webhook deliveries and enqueue them; returns how many."""
    services = current_services()
    total = 0
    while True:
        with session_scope(services.sessions) as db:
            handled, delivery_ids = fan_out(db, now=services.clock())
            db.commit()
        if delivery_ids:
            sent = {i for i in delivery_ids if enqueue_delivery(services, i)}
            _mark_enqueued(sent)
        total += len(delivery_ids)
        if handled == 0:
            return total


def _mark_enqueued(delivery_ids: set[uuid.UUID]) -> None:
    if not delivery_ids:
        return
    services = current_services()
    with session_scope(services.sessions) as db:
        for delivery in db.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(list(delivery_ids)))):
            delivery.enqueued_at = services.clock()
        db.commit()


def _resend_unsent_deliveries() -> int:
    services = current_services()
    cutoff = services.clock() - dt.timedelta(seconds=UNSENT_DELIVERY_AGE_S)
    with session_scope(services.sessions) as db:
        unsent = db.scalars(
            select(WebhookDelivery.id).where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.enqueued_at.is_(None),
                WebhookDelivery.created_at < cutoff,
            ).limit(5000)
        ).all()
    sent = {i for i in unsent if enqueue_delivery(services, i)}
    _mark_enqueued(sent)
    return len(sent)


def _requeue_stuck_jobs() -> int:
    """Exports and enrolments still `queued` long after they were asked for (the queue was
    down when they were made) are enqueued again (their job ids make this idempotent)."""
    from models import EnrolmentJob, ExportJob, JobState
    from service.errors import UnavailableError
    from service.jobs import enqueue_bulk_job, enqueue_export

    services = current_services()
    cutoff = services.clock() - dt.timedelta(seconds=UNSENT_DELIVERY_AGE_S)
    with session_scope(services.sessions) as db:
        exports = db.scalars(select(ExportJob.id).where(ExportJob.state == JobState.QUEUED, ExportJob.created_at < cutoff)).all()
        enrolments = db.execute(select(EnrolmentJob.id, EnrolmentJob.kind).where(
            EnrolmentJob.state == JobState.QUEUED, EnrolmentJob.created_at < cutoff)).all()
    sent = 0
    try:
        for job_id in exports:
            enqueue_export(services, job_id)
            sent += 1
        for job_id, kind in enrolments:
            enqueue_bulk_job(services, job_id, kind=kind)
            sent += 1
    except UnavailableError:
        pass
    return sent


def deliver_webhook(delivery_id: str) -> str:
    """POST one delivery; raises WebhookDeliveryError so RQ retries with backoff."""
    services = current_services()
    with session_scope(services.sessions) as db:
        delivery = db.get(WebhookDelivery, uuid.UUID(delivery_id))
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return delivery.status if delivery else "missing"
        webhook = db.get(Webhook, delivery.webhook_id)
        if webhook is None or not webhook.active:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = "the webhook was removed"
            db.commit()
            return delivery.status
        with httpx.Client() as client:
            accepted = attempt_delivery(
                db, delivery=delivery, webhook=webhook, keyring=services.keyring, now=services.clock(),
                client=client, allow_private=services.settings.webhooks_may_reach_private,
                resolve=services.resolve,
            )
        error = delivery.last_error
        db.commit()
    if not accepted:
        raise WebhookDeliveryError(f"delivery {delivery_id} not accepted: {error}")
    return DeliveryStatus.DELIVERED


def on_delivery_failed(job: Any, connection: Any, exc_type: Any, exc: Any, tb: Any) -> None:
    """After the last retry, the delivery is marked failed (it stays in the log)."""
    if job.should_retry:
        return
    services = current_services()
    with session_scope(services.sessions) as db:
        delivery = db.get(WebhookDelivery, uuid.UUID(job.args[0]))
        if delivery is not None and delivery.status == DeliveryStatus.PENDING:
            delivery.status = DeliveryStatus.FAILED
            db.commit()
    log.warning("webhook delivery %s failed after every retry: %s", job.args[0], exc)


def enrol_from_csv(job_id: str) -> str:
    from service.bulk_enrolment import run_enrolment_job

    return run_enrolment_job(current_services(), uuid.UUID(job_id))


def record_deaths_from_csv(job_id: str) -> str:
    from service.death_reports import run_death_reports_job

    return run_death_reports_job(current_services(), uuid.UUID(job_id))
