"""Issue 10, item 10: bulk jobs starved certifications. A 100,000-row enrolment delayed a
certification by 134 s on one worker: exports, enrolments and webhooks shared the
certification queue (FIFO, timeouts up to 4 h). Certifications now have a queue of
their own that every worker takes first, and workers can be dedicated to it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from models import Attempt, AttemptStatus, EnrolmentJob, ExportJob, JobState
from service.rules.national_id import compose_national_id
from tests.integration.agency_helpers import api_key

from .conftest import METRICS_TOKEN

pytestmark = [pytest.mark.data, pytest.mark.slow]


def _bulk_enrolment(target, rows: int = 50) -> str:
    key = api_key(target.services, regions=["110000"], scopes=["pensioners:write"])
    lines = ["name,national_id,region_code,photo"] + [
        f"王{n},{compose_national_id('110105', dt.date(1950, 1, 1 + n % 28), n)},110105,p{n}.jpg"
        for n in range(rows)
    ]
    response = target.http.post("/v1/enrolments", headers=key,
                                files={"csv": ("people.csv", "\n".join(lines).encode(), "text/csv")})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def _export(target) -> str:
    key = api_key(target.services, regions=["110000"], scopes=["export:read"])
    response = target.http.post("/v1/exports", json={"format": "csv", "region": "110000"}, headers=key)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def _rows(target, attempt_id: str, enrolment_id: str, export_id: str | None = None):
    with target.services.sessions() as db:
        attempt = db.get(Attempt, uuid.UUID(attempt_id))
        enrolment = db.get(EnrolmentJob, uuid.UUID(enrolment_id))
        export = db.get(ExportJob, uuid.UUID(export_id)) if export_id else None
        db.expunge_all()
    return attempt, enrolment, export


def test_a_certification_queued_behind_bulk_jobs_is_taken_first(target):
    """Used to: one `certify worker` ran the enrolment and the export (queued first), then
    the certification. Now: the certification first, then the bulk jobs."""
    pensioner = target.pensioner()
    enrolment_id = _bulk_enrolment(target)
    export_id = _export(target)
    attempt_id = target.certify_clip(pensioner)

    metrics = target.http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    name = target.services.settings.queue_name
    assert f'certify_queue_jobs{{queue="{name}",state="queued"}} 1.0' in metrics
    assert f'certify_queue_jobs{{queue="{name}-bulk",state="queued"}} 2.0' in metrics
    assert f'certify_queue_jobs{{queue="{name}-notify",state="queued"}} 0.0' in metrics

    done = target.cli("worker", "--burst")
    assert done.returncode == 0, done.stderr[-3000:]
    attempt, enrolment, export = _rows(target, attempt_id, enrolment_id, export_id)
    assert attempt.status in AttemptStatus.FINAL, attempt.status
    assert enrolment.state == export.state == JobState.DONE
    assert attempt.finished_at <= enrolment.started_at and attempt.finished_at <= export.started_at, (
        attempt.finished_at, enrolment.started_at, export.started_at)


def test_a_worker_dedicated_to_certifications_leaves_bulk_jobs_alone(target):
    """Used to: `certify worker` had no way to listen to certifications only (one queue).
    Now: `certify worker --queues certify` decides the attempt and leaves the enrolment queued."""
    pensioner = target.pensioner()
    enrolment_id = _bulk_enrolment(target, rows=3)
    attempt_id = target.certify_clip(pensioner)

    done = target.cli("worker", "--burst", "--queues", "certify")
    assert done.returncode == 0, done.stderr[-3000:]
    attempt, enrolment, _ = _rows(target, attempt_id, enrolment_id)
    assert attempt.status in AttemptStatus.FINAL, attempt.status
    assert (enrolment.state, enrolment.started_at) == (JobState.QUEUED, None)

    refused = target.cli("worker", "--burst", "--queues", "everything")
    assert refused.returncode == 2 and "everything" in refused.stderr
