"""Staff caseload: every state computed from real rows, only the staff member's region,
and the assisted flow recording who helped and on which device."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from models import Attempt, CertificationSession, QualificationRecord, RecordStatus
from service.accounts import create_api_key, create_staff
from service.rules.periods import period_for
from tests import media

from .helpers import OPERATOR, add_photo, create_pensioner, new_national_id, upload_video

PASSWORD = "correct horse battery"


@pytest.fixture
def staff(services):
    with services.sessions() as db:
        now = services.clock()
        wang = create_staff(db, username="wang.staff", password=PASSWORD, display_name="王社工",
                            role="staff", region_code="110105", now=now)
        create_staff(db, username="chen.staff", password=PASSWORD, display_name="陈社工",
                     role="staff", region_code="310104", now=now)
        _, key = create_api_key(db, agency="北京社保", scopes=["results:read"], regions=["110000"], now=now)
        db.commit()
        return {"wang": str(wang.id), "key": key}


def _login(client, username: str) -> dict[str, str]:
    response = client.post("/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": client.cookies["certify_csrf"]}


def _add_attempt(services, pensioner_id: str, status: str, *, reasons=(), minutes_ago: int = 0) -> uuid.UUID:
    """A past attempt as the worker would have left it (a session and its attempt row)."""
    with services.sessions() as db:
        now = services.clock() - dt.timedelta(minutes=minutes_ago)
        session = CertificationSession(
            id=uuid.uuid4(), pensioner_id=uuid.UUID(pensioner_id), nonce=uuid.uuid4().hex,
            challenge={"actions": ["blink", "nod"], "digits": None}, channel="self",
            created_at=now, expires_at=now + dt.timedelta(minutes=5), used_at=now,
        )
        attempt = Attempt(
            id=uuid.uuid4(), session_id=session.id, pensioner_id=session.pensioner_id,
            period=period_for(now), status=status, channel="self", video_key=None,
            video_sha256=uuid.uuid4().hex, video_bytes=1, video_content_type="video/webm",
            reasons=list(reasons), key_frame_keys=[], processing_runs=1, created_at=now,
            finished_at=now if status in ("passed", "failed", "review") else None,
        )
        db.add_all([session, attempt])
        db.commit()
        return attempt.id


def _set_record(services, pensioner_id: str, period: str, **values) -> None:
    with services.sessions() as db:
        record = db.scalar(select(QualificationRecord).where(
            QualificationRecord.pensioner_id == uuid.UUID(pensioner_id), QualificationRecord.period == period))
        if record is None:
            now = services.clock()
            record = QualificationRecord(id=uuid.uuid4(), pensioner_id=uuid.UUID(pensioner_id), scheme="basic_pension",
                                         period=period, status="due", created_at=now, updated_at=now)
            db.add(record)
        for name, value in values.items():
            setattr(record, name, value)
        db.commit()


def test_caseload_states_and_region_isolation(client, services, staff):
    now = services.clock()
    period = period_for(now)
    made = {
        name: create_pensioner(client, name=name)
        for name in ("赵一", "钱二", "孙三", "李四", "周五", "吴六", "郑七", "王八")
    }
    elsewhere = create_pensioner(client, name="冯九", region_code="310104", national_id=new_national_id("310104"))
    create_pensioner(client, name="陈十", region_code="310104", residence_region_code="110105",
                     national_id=new_national_id("310104"))

    _set_record(services, made["钱二"]["id"], period, status=RecordStatus.CERTIFIED, certified_at=now,
                valid_until=(now + dt.timedelta(days=365)).date(), method="self")
    _add_attempt(services, made["孙三"]["id"], "failed", reasons=["too_dark"])
    for minutes in (30, 20, 10):
        _add_attempt(services, made["李四"]["id"], "failed", reasons=["face_mismatch"], minutes_ago=minutes)
    _set_record(services, made["周五"]["id"], str(int(period) - 1), status=RecordStatus.CERTIFIED,
                valid_until=(now - dt.timedelta(days=3)).date())
    _set_record(services, made["周五"]["id"], period, status=RecordStatus.OVERDUE)  # as the sweep marks it
    _add_attempt(services, made["吴六"]["id"], "queued")
    _add_attempt(services, made["郑七"]["id"], "review", reasons=["match_uncertain"])
    _set_record(services, made["王八"]["id"], period, status=RecordStatus.SUSPENDED)
    _add_attempt(services, elsewhere["id"], "failed", reasons=["blurry"])

    _login(client, "wang.staff")
    page = client.get("/v1/cases", params={"limit": 200})
    assert page.status_code == 200, page.text
    body = page.json()
    states = {item["name"]: item["state"] for item in body["items"]}
    assert states == {
        "赵一": "due", "钱二": "certified", "孙三": "failed", "李四": "locked", "周五": "overdue",
        "吴六": "processing", "郑七": "review", "王八": "overdue", "陈十": "due",
    }
    assert "冯九" not in states  # another region's pensioner does not exist for this account
    assert body["counts"] == {"overdue": 2, "locked": 1, "failed": 1, "due": 2, "processing": 1,
                              "review": 1, "on_hold": 0, "certified": 1}
    assert body["total"] == 9 and body["period"] == period
    by_name = {item["name"]: item for item in body["items"]}
    assert by_name["李四"]["tries_left"] == 0 and by_name["孙三"]["tries_left"] == services.settings.max_failed_attempts - 1
    assert by_name["孙三"]["last_attempt_status"] == "failed"
    assert by_name["周五"]["previous_valid_until"] == str((now - dt.timedelta(days=3)).date())
    assert by_name["赵一"]["age"] >= 70

    overdue = client.get("/v1/cases", params={"state": "overdue"}).json()
    assert [i["name"] for i in overdue["items"]] == sorted(["周五", "王八"]) and overdue["total"] == 2
    first = client.get("/v1/cases", params={"limit": 4}).json()
    second = client.get("/v1/cases", params={"limit": 4, "offset": 4}).json()
    assert len(first["items"]) == 4 and not {i["pensioner_id"] for i in first["items"]} & {
        i["pensioner_id"] for i in second["items"]}
    search = client.get("/v1/cases", params={"q": "李"}).json()
    assert [i["name"] for i in search["items"]] == ["李四"]
    bad = client.get("/v1/cases", params={"state": "sleepy"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "state_invalid")

    hidden = client.get(f"/v1/cases/{elsewhere['id']}")
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "pensioner_not_found")
    detail = client.get(f"/v1/cases/{made['李四']['id']}").json()
    assert detail["case"]["state"] == "locked" and len(detail["attempts"]) == 3
    assert detail["attempts"][0]["reasons"] == ["face_mismatch"]

    # the Shanghai account sees Shanghai (including the pensioner living in Beijing), not Beijing
    client.cookies.clear()
    _login(client, "chen.staff")
    theirs = {i["name"] for i in client.get("/v1/cases", params={"limit": 200}).json()["items"]}
    assert theirs == {"冯九", "陈十"}

    client.cookies.clear()
    agency = client.get("/v1/cases", headers={"Authorization": f"Bearer {staff['key']}"})
    assert (agency.status_code, agency.json()["error"]["code"]) == (403, "forbidden")
    assert client.get("/v1/cases").status_code == 401
    everyone = client.get("/v1/cases", params={"limit": 200}, headers=OPERATOR).json()
    assert everyone["total"] == 10


def test_assisted_session_records_helper_device_and_consent(client, services, staff, shared_data, tmp_path):
    pensioner = create_pensioner(client, name="张桂兰")
    assert add_photo(client, pensioner["id"], (shared_data / "people/barack_obama/1.jpg").read_bytes()).status_code == 201
    csrf = _login(client, "wang.staff")
    response = client.post(f"/v1/pensioners/{pensioner['id']}/sessions",
                           json={"device_id": "tablet-7", "consent": True}, headers=csrf)
    assert response.status_code == 201, response.text
    session = response.json()
    assert session["consent_at"] is not None
    clip = media.synthetic_clip(tmp_path / "clip.mp4", seconds=3)
    uploaded = upload_video(client, session, clip)
    assert uploaded.status_code == 202
    with services.sessions() as db:
        attempt = db.get(Attempt, uuid.UUID(uploaded.json()["id"]))
        assert (attempt.channel, attempt.assisted_by, attempt.device_id) == ("assisted", staff["wang"], "tablet-7")
        assert attempt.consent_at is not None
    detail = client.get(f"/v1/cases/{pensioner['id']}").json()
    assert detail["case"]["state"] == "processing"
    shown = detail["attempts"][0]
    assert (shown["channel"], shown["assisted_by_name"], shown["device_id"]) == ("assisted", "王社工", "tablet-7")
    assert shown["consent_at"] is not None
