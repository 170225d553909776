"""Resumable, chunked uploads over HTTP on SQLite and PostgreSQL: chunks in any order and
repeated, clear 4xx codes for what is missing or wrong, size limits, resuming, the
longer upload deadline for recordings kept offline, and cleanup of abandoned uploads."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api import create_app
from models import Attempt, CertificationSession, Upload, UploadChunk
from service.nonce_guard import NonceGuard
from service.uploads import complete_upload, purge_abandoned_uploads
from tests import media

from .helpers import add_photo, create_pensioner, open_session, upload_video

CHUNK_BYTES = 16 * 1024
"""Small chunks, so a few-second test clip has many of them."""


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return media.synthetic_clip(tmp_path_factory.mktemp("chunked") / "clip.webm", seconds=3,
                                vcodec="libvpx", audio=True)


@pytest.fixture(params=["sqlite", "postgres"])
def services(request, services_factory):
    return services_factory(request.param, upload_chunk_bytes=CHUNK_BYTES, max_upload_bytes=2_000_000)


@pytest.fixture
def client(services):
    with TestClient(create_app(services=services), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def session(client, shared_data) -> dict:
    pensioner = create_pensioner(client)
    assert add_photo(client, pensioner["id"], (shared_data / "people/barack_obama/1.jpg").read_bytes()).status_code == 201
    response = open_session(client, pensioner["id"])
    assert response.status_code == 201
    return response.json()


def _nonce(session: dict) -> dict[str, str]:
    return {"X-Session-Nonce": session["nonce"]}


def _declare(client, session, data: bytes, **extra):
    body = {"size_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "content_type": "video/webm", **extra}
    return client.post(session["uploads_url"], json=body, headers=_nonce(session))


def _chunks(data: bytes, size: int = CHUNK_BYTES) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _put(client, session, upload, index: int, data: bytes, **headers):
    url = upload["chunk_url"].replace("{index}", str(index))
    return client.put(url, content=data, headers={**_nonce(session), "Content-Type": "application/octet-stream", **headers})


def _complete(client, session, upload):
    return client.post(upload["complete_url"], headers=_nonce(session))


def _chunk_files(services) -> list[Path]:
    root = services.settings.blob_dir / "uploads"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_chunks_out_of_order_and_repeated_make_one_attempt(client, services, session, clip):
    data = clip.read_bytes()
    declared = _declare(client, session, data)
    assert declared.status_code == 201, declared.text
    upload = declared.json()
    pieces = _chunks(data)
    assert upload["chunk_count"] == len(pieces) >= 3 and upload["chunk_bytes"] == CHUNK_BYTES
    assert upload["received"] == []

    order = list(reversed(range(len(pieces))))
    for index in order:
        response = _put(client, session, upload, index, pieces[index])
        assert response.status_code == 200, response.text
    again = _put(client, session, upload, 0, pieces[0])  # a retry after a lost response
    assert again.status_code == 200
    state = again.json()
    assert state["received"] == list(range(len(pieces))) and state["received_bytes"] == len(data)

    done = _complete(client, session, upload)
    assert done.status_code == 202, done.text
    attempt = done.json()
    assert attempt["status"] == "queued" and attempt["session_id"] == session["id"]
    with services.sessions() as db:
        row = db.get(Attempt, uuid.UUID(attempt["id"]))
        assert row.video_sha256 == hashlib.sha256(data).hexdigest()  # reassembled byte for byte
        assert row.video_bytes == len(data) and row.uploaded_late is False
        assert db.scalar(select(func.count()).select_from(UploadChunk)) == 0
    assert services.store.read(row.video_key) == data
    assert _chunk_files(services) == []
    assert services.queue.count == 1

    # completing again (a lost 202) answers with the same attempt; nothing new is made
    assert _complete(client, session, upload).json()["id"] == attempt["id"]
    redeclared = _declare(client, session, data)
    assert redeclared.status_code == 200 and redeclared.json()["attempt_id"] == attempt["id"]
    late_chunk = _put(client, session, upload, 0, pieces[0])
    assert (late_chunk.status_code, late_chunk.json()["error"]["code"]) == (409, "upload_complete")
    assert services.queue.count == 1


def test_missing_chunks_are_named_and_the_upload_resumes(client, services, session, clip):
    data = clip.read_bytes()
    upload = _declare(client, session, data).json()
    pieces = _chunks(data)
    for index in range(0, len(pieces), 2):  # every other chunk, as if the link dropped
        assert _put(client, session, upload, index, pieces[index]).status_code == 200
    missing = [i for i in range(len(pieces)) if i % 2]

    early = _complete(client, session, upload)
    assert early.status_code == 409
    error = early.json()["error"]
    assert error["code"] == "upload_incomplete" and error["missing"] == missing

    # the client comes back (new page load): declaring the same file resumes the upload
    resumed = _declare(client, session, data)
    assert resumed.status_code == 200 and resumed.json()["id"] == upload["id"]
    status = client.get(f"/v1/uploads/{upload['id']}", headers=_nonce(session)).json()
    assert status["received"] == list(range(0, len(pieces), 2))
    for index in missing:
        assert _put(client, session, upload, index, pieces[index]).status_code == 200
    assert _complete(client, session, upload).status_code == 202


def test_wrong_chunks_get_specific_errors(client, services, session, clip):
    data = clip.read_bytes()
    upload = _declare(client, session, data).json()
    pieces = _chunks(data)
    last = len(pieces) - 1

    cases = [
        (_put(client, session, upload, last + 1, pieces[0]), 422, "chunk_index_invalid"),
        (_put(client, session, upload, -1, pieces[0]), 422, "chunk_index_invalid"),
        (_put(client, session, upload, 0, pieces[0][:-1]), 422, "chunk_size_mismatch"),
        (_put(client, session, upload, 0, pieces[0] + b"x"), 413, "chunk_too_large"),
        (_put(client, session, upload, last, pieces[last] + b"x"), 413, "chunk_too_large"),
        (_put(client, session, upload, 0, pieces[0], **{"X-Chunk-Sha256": "0" * 64}), 422,
         "chunk_checksum_mismatch"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text

    assert _put(client, session, upload, 1, pieces[1]).status_code == 200
    conflict = _put(client, session, upload, 1, bytes(reversed(pieces[1])))
    assert (conflict.status_code, conflict.json()["error"]["code"]) == (409, "chunk_conflict")

    wrong_nonce = _put(client, dict(session, nonce="guess"), upload, 2, pieces[2])
    assert (wrong_nonce.status_code, wrong_nonce.json()["error"]["code"]) == (403, "nonce_mismatch")
    unknown = client.get(f"/v1/uploads/{uuid.uuid4()}", headers=_nonce(session))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "upload_not_found")

    different = _declare(client, session, data[:-10])
    assert (different.status_code, different.json()["error"]["code"]) == (409, "upload_mismatch")


def test_size_limits(client, services, session):
    limit = services.settings.max_upload_bytes
    too_big = client.post(session["uploads_url"], json={"size_bytes": limit + 1}, headers=_nonce(session))
    assert too_big.status_code == 413
    assert too_big.json()["error"] == {**too_big.json()["error"], "code": "upload_too_large", "limit_bytes": limit}
    empty = client.post(session["uploads_url"], json={"size_bytes": 0}, headers=_nonce(session))
    assert (empty.status_code, empty.json()["error"]["code"]) == (422, "empty_upload")
    bad_sha = client.post(session["uploads_url"], json={"size_bytes": 10, "sha256": "z" * 64},
                          headers=_nonce(session))
    assert (bad_sha.status_code, bad_sha.json()["error"]["code"]) == (422, "sha256_invalid")
    with services.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Upload)) == 0


def test_a_damaged_or_unusable_recording_leaves_nothing(client, services, session, clip):
    data = clip.read_bytes()
    # declared SHA-256 does not match the bytes that arrived
    upload = _declare(client, session, data, sha256=hashlib.sha256(b"other").hexdigest()).json()
    for index, piece in enumerate(_chunks(data)):
        _put(client, session, upload, index, piece)
    response = _complete(client, session, upload)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "upload_checksum_mismatch")
    assert _chunk_files(services) == []

    # random bytes are not a video: refused with the intake's code, session still usable
    junk = b"\x00\x01not a video at all" * 3000
    upload = _declare(client, session, junk).json()
    for index, piece in enumerate(_chunks(junk)):
        assert _put(client, session, upload, index, piece).status_code == 200
    response = _complete(client, session, upload)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "unreadable_video")
    with services.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Attempt)) == 0
        assert db.scalar(select(func.count()).select_from(Upload)) == 0
        assert db.get(CertificationSession, uuid.UUID(session["id"])).used_at is None
    assert _chunk_files(services) == []
    assert services.queue.count == 0


def test_offline_recording_may_arrive_until_the_upload_deadline(client, services, session, clip):
    data = clip.read_bytes()
    settings = services.settings
    real = services.clock
    try:
        # past the recording expiry: a direct upload is refused ...
        services.clock = lambda: real() + dt.timedelta(seconds=settings.session_ttl_s + 60)
        direct = upload_video(client, session, data, content_type="video/webm")
        assert (direct.status_code, direct.json()["error"]["code"]) == (410, "session_expired")
        # ... but the recording kept offline still arrives by resumable upload, flagged late
        upload = _declare(client, session, data).json()
        assert upload["upload_deadline"] == session["upload_deadline"]
        for index, piece in enumerate(_chunks(data)):
            assert _put(client, session, upload, index, piece).status_code == 200
        done = _complete(client, session, upload)
        assert done.status_code == 202, done.text
        with services.sessions() as db:
            assert db.get(Attempt, uuid.UUID(done.json()["id"])).uploaded_late is True
    finally:
        services.clock = real


def test_nothing_arrives_after_the_upload_deadline(client, services, session, clip):
    data = clip.read_bytes()
    upload = _declare(client, session, data).json()
    pieces = _chunks(data)
    assert _put(client, session, upload, 0, pieces[0]).status_code == 200
    real = services.clock
    try:
        services.clock = lambda: real() + dt.timedelta(seconds=services.settings.upload_window_s + 1)
        for response in (
            _put(client, session, upload, 1, pieces[1]),
            _complete(client, session, upload),
        ):
            assert (response.status_code, response.json()["error"]["code"]) == (410, "upload_deadline_passed")
        new = client.post(session["uploads_url"], json={"size_bytes": 10}, headers=_nonce(session))
        assert (new.status_code, new.json()["error"]["code"]) == (410, "upload_deadline_passed")

        # within the grace period the abandoned upload is kept; after it, it is purged
        assert purge_abandoned_uploads(services) == 0
        services.clock = lambda: real() + dt.timedelta(
            seconds=services.settings.upload_window_s + services.settings.abandoned_upload_grace_s + 5)
        assert purge_abandoned_uploads(services) == 1
    finally:
        services.clock = real
    with services.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Upload)) == 0
        assert db.scalar(select(func.count()).select_from(UploadChunk)) == 0
    assert _chunk_files(services) == []


def test_racing_completions_make_one_attempt(client, services, session, clip):
    data = clip.read_bytes()
    upload = _declare(client, session, data).json()
    for index, piece in enumerate(_chunks(data)):
        _put(client, session, upload, index, piece)
    results: list[object] = []

    def finish() -> None:
        try:
            results.append(complete_upload(services, upload_id=uuid.UUID(upload["id"]), nonce=session["nonce"],
                                           guard=NonceGuard.of(services, "test")).id)
        except Exception as exc:  # noqa: BLE001 - collected and checked below
            results.append(exc)

    threads = [threading.Thread(target=finish) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 3 and all(isinstance(r, uuid.UUID) for r in results), results
    assert len(set(results)) == 1
    with services.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Attempt)) == 1
    assert services.queue.count == 1
