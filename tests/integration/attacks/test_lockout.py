"""Locking pensioners out, and dodging the tries (issue 10, items 1, 2, 3 and 6).

    1  a stranger holding an attempt id read the pensioner's and session's ids from it
       and locked the pensioner out with five wrong nonces
    2  the phone (link) flow opened sessions and took uploads while the pensioner was locked
    3  one link holder queued 40 uploads in 0.9 s (a new session each); all were processed
    6  with Redis down nothing was limited, and a Redis restart erased the locks
"""

from __future__ import annotations

import hashlib
import uuid

from redis import Redis

from tests.integration.agency_helpers import decided_attempt
from tests.integration.conftest import run_worker_burst

from .conftest import OPERATOR, Target

UNUSABLE = b"\x00not a video" * 100


def _lock_by_unusable_uploads(target: Target, session: dict) -> None:
    """What really locks a pensioner: their own unusable uploads (with the right nonce)."""
    for _ in range(target.services.settings.lockout_failures):
        assert target.upload(session, UNUSABLE).status_code == 422


def test_an_attempt_id_alone_shows_the_result_but_no_ids(target: Target):
    pensioner = target.pensioner()
    attempt = decided_attempt(target.services, uuid.UUID(pensioner))
    stranger = target.http.get(f"/v1/attempts/{attempt}").json()
    assert stranger["status"] == "passed" and stranger["valid_until"]
    assert stranger["pensioner_id"] is None and stranger["session_id"] is None
    assert stranger["qualification"] is None
    assert pensioner not in target.http.get(f"/v1/attempts/{attempt}").text
    # the pensioner's own page (its link pass) and the operator see the rest
    own = target.http.get(f"/v1/attempts/{attempt}", headers=target.phone(pensioner)).json()
    assert own["pensioner_id"] == pensioner and own["qualification"]["attempt_id"] == str(attempt)
    assert target.http.get(f"/v1/attempts/{attempt}", headers=OPERATOR).json()["session_id"]


def test_wrong_nonces_never_lock_the_pensioner_out(target: Target):
    victim = target.pensioner()
    other = target.pensioner()
    used = target.operator_session(victim, channel="self")
    assert target.upload(used, target.clip()).status_code == 202
    run_worker_burst(target.services)  # decided: a failed result (another face), the victim's own failure
    others = target.operator_session(other, channel="self")
    # the probe's requests: wrong nonces on the victim's used session, and the victim's id
    # in the path of another pensioner's session
    for _ in range(6):
        assert target.upload(used, b"x" * 10, nonce="guessed").status_code == 403
        mismatch = target.http.post(f"/v1/pensioners/{victim}/sessions/{others['id']}/video", content=b"x",
                                    headers={"X-Session-Nonce": "guessed", "Content-Type": "video/mp4"})
        assert mismatch.status_code == 403
    lockout = target.http.get(f"/v1/pensioners/{victim}/lockout", headers=OPERATOR).json()
    assert lockout == {"locked": False, "locked_until": None, "recent_failures": 1}  # the failed result only
    fresh = target.operator_session(victim, channel="self")
    assert target.upload(fresh, target.clip()).status_code == 202


def test_wrong_nonces_are_limited_per_session_and_per_client(target_factory):
    target = target_factory(wrong_nonces_per_session=3, wrong_nonces_per_client=5)
    pensioner = target.pensioner()
    session = target.operator_session(pensioner, channel="self")
    codes = [target.upload(session, b"x", nonce=f"guess-{i}").status_code for i in range(4)]
    assert codes == [403, 403, 403, 429]
    spent = target.upload(session, b"x", nonce="guess")
    assert spent.json()["error"]["code"] == "too_many_wrong_nonces" and int(spent.headers["Retry-After"]) > 0
    # the same client guessing at other sessions runs out of its own budget
    second = target.operator_session(target.pensioner(), channel="self")
    codes = [target.upload(second, b"x", nonce=f"guess-{i}").status_code for i in range(3)]
    assert codes == [403, 403, 429]
    assert target.http.get(f"/v1/pensioners/{pensioner}/lockout", headers=OPERATOR).json()["locked"] is False


def test_the_lockout_holds_on_the_phone_flow(target: Target):
    pensioner = target.pensioner()
    phone = target.phone(pensioner)
    opened = [target.http.post("/v1/links/current/sessions", json={}, headers=phone) for _ in range(2)]
    assert [r.status_code for r in opened] == [201, 201]
    early, failing = (r.json() for r in opened)
    # a resumable upload started before the lock ...
    data = target.clip()
    started = target.http.post(f"/v1/pensioners/{pensioner}/sessions/{early['id']}/uploads", json={
        "size_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "content_type": "video/mp4"},
        headers={"X-Session-Nonce": early["nonce"]})
    assert started.status_code == 201, started.text
    upload = started.json()
    chunk = target.services.settings.upload_chunk_bytes
    for index in range(upload["chunk_count"]):
        put = target.http.put(f"/v1/uploads/{upload['id']}/chunks/{index}", content=data[index * chunk:(index + 1) * chunk],
                              headers={"X-Session-Nonce": early["nonce"], "Content-Type": "application/octet-stream"})
        assert put.status_code == 200, put.text
    _lock_by_unusable_uploads(target, failing)
    # ... is not accepted while the pensioner is locked, and no new session opens
    completed = target.http.post(f"/v1/uploads/{upload['id']}/complete", headers={"X-Session-Nonce": early["nonce"]})
    assert (completed.status_code, completed.json()["error"]["code"]) == (423, "pensioner_locked")
    refused = target.http.post("/v1/links/current/sessions", json={}, headers=phone)
    assert (refused.status_code, refused.json()["error"]["code"]) == (423, "pensioner_locked")
    assert target.upload(early, data).status_code == 423
    # staff still help (assisted sessions are not locked)
    assert target.operator_session(pensioner, channel="assisted", assisted_by="staff-1")["id"]


def test_one_link_holder_cannot_queue_more_than_one_attempt(target: Target):
    pensioner = target.pensioner()
    phone = target.phone(pensioner)
    data = target.clip()
    # sessions opened first, then all uploaded: only one attempt waits for its result
    sessions = [target.http.post("/v1/links/current/sessions", json={}, headers=phone).json() for _ in range(3)]
    answers = [target.upload(s, data) for s in sessions]
    assert [a.status_code for a in answers] == [202, 409, 409]
    assert {a.json()["error"]["code"] for a in answers[1:]} == {"attempt_in_progress"}
    # and no further session while it is undecided
    more = target.http.post("/v1/links/current/sessions", json={}, headers=phone)
    assert (more.status_code, more.json()["error"]["code"]) == (409, "attempt_in_progress")
    with target.services.sessions() as db:
        from models import Attempt

        assert db.query(Attempt).filter(Attempt.pensioner_id == uuid.UUID(pensioner)).count() == 1


def test_undecided_attempts_count_toward_the_tries(target: Target):
    pensioner = target.pensioner()
    for _ in range(target.services.settings.max_failed_attempts - 1):
        decided_attempt(target.services, uuid.UUID(pensioner), status="failed", reasons=["no_blink"])
    phone = target.phone(pensioner)
    session = target.http.post("/v1/links/current/sessions", json={}, headers=phone).json()
    queued = target.upload(session, target.clip())
    assert queued.status_code == 202
    assert target.http.get(f"/v1/attempts/{queued.json()['id']}").json()["tries_left"] == 0
    assert target.http.get("/v1/links/current", headers=phone).json()["tries_left"] == 0


def test_limits_and_locks_hold_when_redis_is_down_or_restarted(target_factory):
    target = target_factory(wrong_nonces_per_client=5)
    pensioner = target.pensioner()
    session = target.operator_session(pensioner, channel="self")
    _lock_by_unusable_uploads(target, session)
    # Redis restarts empty: the lock is still there
    Redis.from_url(target.services.settings.redis_url).flushdb()
    assert target.upload(session, target.clip()).status_code == 423
    # Redis unreachable: wrong nonces are still limited, per process
    target.services.__dict__["redis"] = Redis.from_url("redis://127.0.0.1:1/0")
    try:
        assert target.upload(session, target.clip()).status_code == 423
        other = target.operator_session(target.pensioner(), channel="self")
        codes = [target.upload(other, b"x", nonce=f"guess-{i}").status_code for i in range(7)]
        ready = target.http.get("/readyz").json()
    finally:
        target.services.__dict__.pop("redis", None)
    assert codes[:5] == [403] * 5 and set(codes[5:]) == {429}
    assert ready["rate_limits"] == "in_process"
