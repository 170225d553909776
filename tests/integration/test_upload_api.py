"""Sessions and video uploads over HTTP: every refusal has a status and a code, and a
refused upload leaves nothing behind (no attempt row, no stored file, no job)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
import zlib
from pathlib import Path

import pytest
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from models import Attempt, CertificationSession
from service.infra.queue import job_id_for
from tests import media

from .helpers import add_photo, create_pensioner, open_session, upload_video


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("upload-clips")
    made = {
        "mp4": media.synthetic_clip(d / "ok.mp4", seconds=3, audio=True),
        "webm": media.synthetic_clip(d / "ok.webm", seconds=3, vcodec="libvpx", audio=True),
        "long": media.synthetic_clip(d / "long.mp4", seconds=25, size="64x48", fps=5),
        "huge": media.synthetic_clip(d / "8k.mp4", seconds=0.2, size="7680x4320", fps=5),
        "audio": media.audio_only(d / "voice.m4a"),
    }
    made["truncated"] = media.truncated_copy(made["mp4"], d / "cut.mp4", keep=0.3)
    return made


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _nothing_stored(services) -> None:
    with services.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Attempt)) == 0
    assert _files(services.settings.blob_dir / "videos") == []
    assert _files(services.settings.var_dir / "spool") == []
    assert services.queue.count == 0


def test_session_needs_a_reference_photo(client):
    pensioner = create_pensioner(client)
    response = open_session(client, pensioner["id"])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_reference_photo"


def test_session_issues_a_random_ordered_challenge(client, enrolled, services):
    first = open_session(client, enrolled["id"]).json()
    assert 2 <= len(first["challenge"]["actions"]) <= 3
    assert set(first["challenge"]["actions"]) <= {"blink", "turn_left", "turn_right", "nod", "open_mouth"}
    expires = dt.datetime.fromisoformat(first["expires_at"])
    left = (expires - services.clock()).total_seconds()
    assert services.settings.session_ttl_s - 5 < left <= services.settings.session_ttl_s
    nonces = {open_session(client, enrolled["id"]).json()["nonce"] for _ in range(5)}
    assert first["nonce"] not in nonces and len(nonces) == 5
    with_digits = open_session(client, enrolled["id"], with_digits=True).json()
    assert len(with_digits["challenge"]["digits"]) == 4


def test_unknown_pensioner_session_is_404(client):
    response = open_session(client, "00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404


def test_upload_is_accepted_stored_and_queued_once(client, enrolled, services, clips):
    session = open_session(client, enrolled["id"]).json()
    response = upload_video(client, session, clips["mp4"])
    assert response.status_code == 202, response.text
    attempt = response.json()
    assert attempt["status"] == "queued"
    with services.sessions() as db:
        row = db.get(Attempt, uuid.UUID(attempt["id"]))
        assert services.store.exists(row.video_key)
        assert row.enqueued_at is not None
        assert row.video_duration_ms and 2900 <= row.video_duration_ms <= 3100
    job = Job.fetch(job_id_for(attempt["id"]), connection=services.redis, serializer=JSONSerializer)
    assert job.args == [attempt["id"]]  # only the id travels through Redis
    raw = zlib.decompress(services.redis.hget(f"rq:job:{job.id}", "data"))  # RQ compresses
    assert json.loads(raw)[0] == "workers.jobs.certify_attempt"  # JSON, not pickle

    again = upload_video(client, session, clips["mp4"])  # a double submit
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "session_used"
    assert services.queue.count == 1


def test_raw_webm_body_is_accepted(client, enrolled, clips):
    session = open_session(client, enrolled["id"]).json()
    response = upload_video(client, session, clips["webm"], raw=True, content_type="video/webm")
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    ("clip", "status", "code"),
    [
        ("long", 422, "video_too_long"),
        ("huge", 422, "video_resolution_too_high"),
        ("audio", 422, "unreadable_video"),
        ("truncated", 422, "unreadable_video"),
    ],
)
def test_unusable_videos_are_refused_and_leave_nothing(client, enrolled, services, clips, clip, status, code):
    session = open_session(client, enrolled["id"]).json()
    response = upload_video(client, session, clips[clip])
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    _nothing_stored(services)
    # the session was not used up by a refused upload
    with services.sessions() as db:
        assert db.get(CertificationSession, uuid.UUID(session["id"])).used_at is None


@pytest.mark.parametrize(
    ("payload", "code"),
    [(b"", "empty_upload"), (b"\x00\x01not a video at all" * 1000, "unreadable_video")],
)
def test_empty_and_random_bytes(client, enrolled, services, payload, code):
    session = open_session(client, enrolled["id"]).json()
    response = upload_video(client, session, payload)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    _nothing_stored(services)


def test_oversized_upload_is_413(services_factory, shared_data, clips):
    from fastapi.testclient import TestClient

    from api import create_app

    small = services_factory("sqlite", max_upload_bytes=50_000)
    with TestClient(create_app(services=small)) as client:
        pensioner = create_pensioner(client)
        add_photo(client, pensioner["id"], (shared_data / "people/barack_obama/1.jpg").read_bytes())
        session = open_session(client, pensioner["id"]).json()
        response = upload_video(client, session, b"\x00" * 200_000)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "upload_too_large"
        raw = upload_video(client, session, b"\x00" * 200_000, raw=True)
        assert raw.status_code == 413
        _nothing_stored(small)


def test_session_checks(client, enrolled, services, clips):
    session = open_session(client, enrolled["id"]).json()
    other = create_pensioner(client)
    wrong_owner = dict(session, upload_url=session["upload_url"].replace(enrolled["id"], other["id"]))
    response = upload_video(client, wrong_owner, clips["mp4"])
    assert (response.status_code, response.json()["error"]["code"]) == (403, "session_pensioner_mismatch")

    response = upload_video(client, session, clips["mp4"], nonce="guess")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "nonce_mismatch")

    unknown = dict(session, upload_url=session["upload_url"].rsplit("/", 2)[0] + "/00000000-0000-4000-8000-000000000000/video")
    response = upload_video(client, unknown, clips["mp4"])
    assert (response.status_code, response.json()["error"]["code"]) == (404, "session_not_found")

    real_clock = services.clock
    services.clock = lambda: real_clock() + dt.timedelta(seconds=services.settings.session_ttl_s + 1)
    try:
        response = upload_video(client, session, clips["mp4"])
    finally:
        services.clock = real_clock
    assert (response.status_code, response.json()["error"]["code"]) == (410, "session_expired")
    _nothing_stored(services)


def test_attempt_not_found(client):
    response = client.get("/v1/attempts/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "attempt_not_found"
    assert client.get("/v1/attempts/not-a-uuid").status_code == 422
