"""Faults on real parts: workers SIGKILLed mid-job, Redis gone while videos arrive,
PostgreSQL gone under the API and under the workers. At the end of each: every upload
has exactly one outcome, recorded once, and nothing half-written is left behind."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rq.job import Job
from rq.results import Result
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

import service.intake as intake
from api import create_app
from certify import parse_challenge
from models import Attempt, CertificationSession, FaceReference, QualificationRecord
from service.context import build_services
from service.housekeeping.maintenance import run_maintenance_pass
from service.housekeeping.watchdog import recover_stale_attempts
from service.infra.queue import job_id_for, job_state
from tests.media import cut_clip
from workers.process import process_attempt
from workers.runtime import install_services

from .conftest import make_test_settings, run_worker_burst
from .faults import (
    DatabaseSwitch,
    RedisServer,
    horse_pids,
    kill_worker,
    start_worker,
    stop_worker,
    wait_for,
)
from .helpers import add_photo, create_pensioner, frame_as_jpeg, open_session, upload_video

pytestmark = [pytest.mark.data, pytest.mark.slow, pytest.mark.postgres]

CLIP = "videos/frontal_mouth_open_m5.mp4"
CHALLENGE = "open_mouth,blink"
"""The cut below opens the mouth at ~0.6-1.7 s and blinks at ~1.6 s and ~4.7 s."""

FAST_RECOVERY = dict(
    worker_heartbeat_interval_s=1,
    worker_heartbeat_grace_s=3,
    worker_maintenance_interval_s=600,  # the test's own maintenance pass does the cleanup
    maintenance_interval_s=0.0,
    stale_attempt_s=0.0,
)


@pytest.fixture(scope="module")
def clip(shared_data, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fault-clips")
    return cut_clip(shared_data / CLIP, folder / "live.mp4", start_s=1.5)


@pytest.fixture(scope="module")
def reference_photo(shared_data, tmp_path_factory) -> bytes:
    folder = tmp_path_factory.mktemp("fault-photo")
    return frame_as_jpeg(shared_data / CLIP, 0.5, folder / "reference.jpg")


def _enrolled_session(client: TestClient, services, photo: bytes) -> tuple[dict, dict]:
    pensioner = create_pensioner(client)
    assert add_photo(client, pensioner["id"], photo).status_code == 201
    session = open_session(client, pensioner["id"]).json()
    with services.sessions() as db:
        row = db.get(CertificationSession, uuid.UUID(session["id"]))
        row.challenge = parse_challenge(CHALLENGE).to_json()
        db.commit()
    return pensioner, session


def _upload(client, services, photo, clip) -> uuid.UUID:
    _, session = _enrolled_session(client, services, photo)
    response = upload_video(client, session, clip)
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["id"])


def _attempt(services, attempt_id) -> Attempt:
    with services.sessions() as db:
        return db.get(Attempt, attempt_id)


def _snapshot(services, attempt_id: uuid.UUID) -> dict:
    """Everything processing writes for one attempt."""
    with services.sessions() as db:
        attempt = db.get(Attempt, attempt_id)
        record = db.scalar(
            select(QualificationRecord).where(QualificationRecord.pensioner_id == attempt.pensioner_id)
        )
        fresh = db.scalars(select(FaceReference.id).where(FaceReference.attempt_id == attempt_id)).all()
        return {
            "status": attempt.status,
            "reasons": list(attempt.reasons),
            "finished_at": attempt.finished_at,
            "runs": attempt.processing_runs,
            "key_frames": list(attempt.key_frame_keys),
            "record": (record.status, record.certified_at, record.attempt_id, record.updated_at),
            "fresh_references": sorted(map(str, fresh)),
        }


def _assert_one_outcome(services, attempt_id: uuid.UUID) -> dict:
    """A final, passed attempt whose outcome was written exactly once."""
    snap = _snapshot(services, attempt_id)
    assert snap["status"] == "passed", snap
    status, certified_at, record_attempt, _ = snap["record"]
    assert status == "certified" and record_attempt == attempt_id
    assert certified_at == snap["finished_at"]  # the one record update is this outcome's
    assert len(snap["fresh_references"]) == 1
    assert snap["key_frames"] and all(services.store.exists(k) for k in snap["key_frames"])
    job = Job.fetch(job_id_for(attempt_id), connection=services.redis, serializer=JSONSerializer)
    done = [r for r in job.results() if r.type == Result.Type.SUCCESSFUL]
    recorded = [r for r in done if (r.return_value or {}).get("recorded")]
    assert len(recorded) == 1, [r.return_value for r in done]
    return snap


@pytest.fixture
def pg_services(services_factory):
    return lambda **extra: services_factory("postgres", "server", **extra)


def test_processing_the_same_attempt_twice_changes_nothing(pg_services, reference_photo, clip):
    services = pg_services()
    with TestClient(create_app(services=services)) as client:
        attempt_id = _upload(client, services, reference_photo, clip)
    assert process_attempt(services, attempt_id) == "passed"
    first = _snapshot(services, attempt_id)
    stored = {k: services.store.read(k) for k in first["key_frames"]}
    assert process_attempt(services, attempt_id) == "passed"  # a duplicated job
    run_worker_burst(services)  # and the queued job itself, after the fact
    assert _snapshot(services, attempt_id) == first
    assert {k: services.store.read(k) for k in first["key_frames"]} == stored


def test_work_horse_killed_mid_job_is_retried_once(pg_services, reference_photo, clip, tmp_path):
    services = pg_services(job_retry_intervals_s=(1, 1), **FAST_RECOVERY)
    with TestClient(create_app(services=services)) as client:
        attempt_id = _upload(client, services, reference_photo, clip)
    worker = start_worker(services, tmp_path / "worker.log")
    try:
        wait_for(lambda: _attempt(services, attempt_id).status == "processing", timeout_s=120,
                 what="the job to start")
        horses = wait_for(lambda: horse_pids(worker), timeout_s=10, what="the work horse")
        for pid in horses:
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: _attempt(services, attempt_id).status == "passed", timeout_s=180,
                 interval_s=0.2, what="the retried job to pass")
    finally:
        stop_worker(worker)
    snap = _assert_one_outcome(services, attempt_id)
    assert snap["runs"] == 2  # killed once, finished once


def test_worker_killed_mid_job_is_recovered_by_the_watchdog(pg_services, reference_photo, clip, tmp_path):
    """The whole worker (parent and horse) dies: the job is abandoned in RQ's started
    registry; after its heartbeat expires the maintenance pass hands it to a new worker."""
    services = pg_services(job_retry_intervals_s=(0,), **FAST_RECOVERY)
    with TestClient(create_app(services=services)) as client:
        attempt_id = _upload(client, services, reference_photo, clip)
    first = start_worker(services, tmp_path / "first.log")
    second = None
    try:
        wait_for(lambda: _attempt(services, attempt_id).status == "processing", timeout_s=120,
                 what="the job to start")
        kill_worker(first)
        assert job_state(services.queue, attempt_id) == "started"  # abandoned, not finished
        second = start_worker(services, tmp_path / "second.log")

        def recovered() -> bool:
            run_maintenance_pass(services)
            return _attempt(services, attempt_id).status == "passed"

        wait_for(recovered, timeout_s=180, interval_s=1.0, what="the abandoned job to be redone")
    finally:
        stop_worker(second) if second else None
    snap = _assert_one_outcome(services, attempt_id)
    assert snap["runs"] == 2


def test_redis_down_during_upload_loses_nothing(services_factory, database_factory, face_backend,
                                                reference_photo, clip, tmp_path):
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    settings = make_test_settings(
        tmp_path / "svc", database_factory("postgres"), redis.url, **FAST_RECOVERY
    )
    services = build_services(settings)
    services._backend = face_backend  # noqa: SLF001
    install_services(services)
    try:
        with TestClient(create_app(services=services)) as client:
            _, session = _enrolled_session(client, services, reference_photo)
            redis.kill()
            response = upload_video(client, session, clip)
            assert response.status_code == 202, response.text  # accepted into the outbox
            outbox = uuid.UUID(response.json()["id"])
            row = _attempt(services, outbox)
            assert row.status == "queued" and row.enqueued_at is None
            assert services.store.exists(row.video_key)
            assert client.get(f"/v1/attempts/{outbox}").json()["status"] == "queued"
            assert run_maintenance_pass(services).enqueued == 0  # still down: nothing sent

            redis.start()  # back, empty
            assert run_maintenance_pass(services).enqueued == 1
            assert _attempt(services, outbox).enqueued_at is not None
            assert job_state(services.queue, outbox) == "queued"

            # a second upload reaches the queue, then Redis dies and loses the job
            lost = _upload(client, services, reference_photo, clip)
            assert _attempt(services, lost).enqueued_at is not None
            run_worker_burst(services)
            redis.kill()
            redis.start()
            assert job_state(services.queue, outbox) == "missing"
            lost2 = _upload(client, services, reference_photo, clip)
            redis.kill()
            redis.start()
            assert job_state(services.queue, lost2) == "missing"
            report = recover_stale_attempts(services)
            assert report.requeued == [lost2]  # the decided ones are left alone
            run_worker_burst(services)
            for attempt_id in (outbox, lost, lost2):
                assert _attempt(services, attempt_id).status == "passed"
    finally:
        services.close()
        redis.kill()


def test_ended_job_hash_does_not_block_a_new_run(pg_services, reference_photo, clip, pg_admin):
    """A job that failed for good while the database was away leaves its hash under the
    attempt's unique job id; the watchdog replaces it and the attempt is processed."""
    services = pg_services(**FAST_RECOVERY)  # no RQ retries
    with TestClient(create_app(services=services)) as client:
        attempt_id = _upload(client, services, reference_photo, clip)
    switch = DatabaseSwitch(pg_admin, services.settings.database_url)
    switch.down()
    try:
        run_worker_burst(services)
    finally:
        switch.up()
    assert job_state(services.queue, attempt_id) == "failed"
    row = _attempt(services, attempt_id)
    assert row.status == "queued" and row.processing_runs == 0  # not an `error`: infrastructure
    assert recover_stale_attempts(services).requeued == [attempt_id]
    assert job_state(services.queue, attempt_id) == "queued"
    run_worker_burst(services)
    _assert_one_outcome(services, attempt_id)


def test_workers_retry_while_the_database_is_down(pg_services, reference_photo, clip, pg_admin, tmp_path):
    services = pg_services(job_retry_intervals_s=(2, 2, 2, 2), **FAST_RECOVERY)
    with TestClient(create_app(services=services)) as client:
        attempt_id = _upload(client, services, reference_photo, clip)
    switch = DatabaseSwitch(pg_admin, services.settings.database_url)
    switch.down()
    worker = start_worker(services, tmp_path / "worker.log")
    try:
        wait_for(lambda: Job.fetch(job_id_for(attempt_id), connection=services.redis,
                                   serializer=JSONSerializer).retries_left < 4,
                 timeout_s=120, interval_s=0.2, what="a failed first run")
        switch.up()
        wait_for(lambda: _attempt(services, attempt_id).status == "passed", timeout_s=180,
                 interval_s=0.3, what="the retried job to pass")
    finally:
        switch.up()
        stop_worker(worker)
    _assert_one_outcome(services, attempt_id)


def test_database_down_answers_503_and_writes_nothing(pg_services, reference_photo, clip, pg_admin,
                                                      monkeypatch):
    services = pg_services()
    switch = DatabaseSwitch(pg_admin, services.settings.database_url)
    with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
        pensioner, session = _enrolled_session(client, services, reference_photo)
        switch.down()
        try:
            for response in (
                client.get(f"/v1/attempts/{uuid.uuid4()}"),
                open_session(client, pensioner["id"]),
                upload_video(client, session, clip),
            ):
                assert response.status_code == 503, response.text
                assert response.headers["Retry-After"].isdigit()
                assert response.json()["error"]["code"] == "database_unavailable"
        finally:
            switch.up()

        # the database goes away after the video is stored, before the row is committed
        real_copy = intake.copy_to

        def store_then_fail(store, key, path):
            blob = real_copy(store, key, path)
            switch.down()
            return blob

        monkeypatch.setattr(intake, "copy_to", store_then_fail)
        try:
            response = upload_video(client, session, clip)
        finally:
            switch.up()
            monkeypatch.setattr(intake, "copy_to", real_copy)
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "database_unavailable"
        with services.sessions() as db:
            assert db.scalar(select(func.count()).select_from(Attempt)) == 0
            assert db.get(CertificationSession, uuid.UUID(session["id"])).used_at is None
        blobs = services.settings.blob_dir / "videos"
        assert not blobs.exists() or not any(p.is_file() for p in blobs.rglob("*"))
        assert not any((services.settings.var_dir / "spool").glob("*"))
        # and once it is back, the same session works
        assert upload_video(client, session, clip).status_code == 202


def test_a_crash_looping_attempt_is_set_aside(pg_services, reference_photo, clip):
    """An attempt whose processing keeps dying is marked `error` instead of looping."""
    services = pg_services(max_processing_runs=2)
    with TestClient(create_app(services=services)) as client:
        attempt_id = _upload(client, services, reference_photo, clip)
    with services.sessions() as db:  # two earlier runs died before recording anything
        db.get(Attempt, attempt_id).processing_runs = 2
        db.commit()
    assert process_attempt(services, attempt_id) == "error"
    row = _attempt(services, attempt_id)
    assert row.reasons == ["processing_crashed"] and row.finished_at is not None
