"""One-time pensioner links: hashed at rest, expiring, opened by one browser only, bound
to one pensioner, and the consent given on the page travels with the attempt."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid

from sqlalchemy import select

from models import Attempt, AuditEvent, CertificationSession, PensionerLink
from service.accounts import create_api_key, create_staff
from service.links import CONSENT_VERSION
from tests import media
from tests.conftest import REPO_ROOT

from .helpers import OPERATOR, add_photo, create_pensioner, new_national_id, upload_video

PASSWORD = "correct horse battery"


def _link(client, pensioner_id: str, **body) -> dict:
    response = client.post(f"/v1/pensioners/{pensioner_id}/links", json=body, headers=OPERATOR)
    assert response.status_code == 201, response.text
    return response.json()


def _redeem(client, token: str, page_pass: str | None = None):
    return client.post("/v1/links/redeem", json={"token": token, "page_pass": page_pass, "device_id": "phone-1"})


def _pass(page_pass: str) -> dict[str, str]:
    return {"X-Link-Pass": page_pass}


def _shift_clock(services, seconds: float):
    real = services.clock
    services.clock = lambda: real() + dt.timedelta(seconds=seconds)
    return real


def test_link_opens_once_and_only_in_the_browser_that_opened_it(client, services, enrolled):
    link = _link(client, enrolled["id"])
    assert link["url"].endswith(f"/l#{link['token']}")
    with services.sessions() as db:
        row = db.get(PensionerLink, uuid.UUID(link["id"]))
        assert row.token_hash != link["token"] and link["token"] not in row.token_hash

    opened = _redeem(client, link["token"])
    assert opened.status_code == 200, opened.text
    body = opened.json()
    page_pass = body["page_pass"]
    assert body["link"]["name_masked"] == "张*兰"
    assert body["link"]["tries_left"] == services.settings.max_failed_attempts
    assert body["link"]["consent_at"] is None
    assert body["link"]["consent_version"] == CONSENT_VERSION

    # another phone opening the same link (forwarded SMS) is refused
    again = _redeem(client, link["token"])
    assert (again.status_code, again.json()["error"]["code"]) == (409, "link_used")
    wrong = _redeem(client, link["token"], page_pass="not-the-pass")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (409, "link_used")
    # the browser that opened it comes back with its pass
    back = _redeem(client, link["token"], page_pass=page_pass)
    assert back.status_code == 200 and back.json()["page_pass"] == page_pass

    current = client.get("/v1/links/current", headers=_pass(page_pass))
    assert current.status_code == 200 and current.json()["link_id"] == link["id"]
    with services.sessions() as db:
        row = db.get(PensionerLink, uuid.UUID(link["id"]))
        assert row.pass_hash and page_pass not in row.pass_hash
        assert row.device_id == "phone-1" and row.redeemed_at is not None
        assert db.scalar(select(AuditEvent.id).where(AuditEvent.action == "link.redeem"))


def test_unknown_expired_and_revoked_links(client, services, enrolled):
    unknown = _redeem(client, "x" * 32)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "link_not_found")

    short = _link(client, enrolled["id"], ttl_days=1)
    opened = _redeem(client, short["token"]).json()
    real = _shift_clock(services, 86400 + 1)
    try:
        expired = _redeem(client, short["token"], page_pass=opened["page_pass"])
        assert (expired.status_code, expired.json()["error"]["code"]) == (410, "link_expired")
        current = client.get("/v1/links/current", headers=_pass(opened["page_pass"]))
        assert (current.status_code, current.json()["error"]["code"]) == (410, "link_expired")
    finally:
        services.clock = real

    revocable = _link(client, enrolled["id"])
    opened = _redeem(client, revocable["token"]).json()
    assert client.delete(f"/v1/links/{revocable['id']}", headers=OPERATOR).status_code == 200
    gone = client.get("/v1/links/current", headers=_pass(opened["page_pass"]))
    assert (gone.status_code, gone.json()["error"]["code"]) == (410, "link_revoked")

    missing = client.get("/v1/links/current")
    assert (missing.status_code, missing.json()["error"]["code"]) == (403, "link_pass_missing")
    bogus = client.get("/v1/links/current", headers=_pass("bogus"))
    assert (bogus.status_code, bogus.json()["error"]["code"]) == (403, "link_pass_invalid")


def test_consent_is_required_and_recorded_with_the_attempt(client, services, enrolled, tmp_path):
    page_pass = _redeem(client, _link(client, enrolled["id"])["token"]).json()["page_pass"]
    refused = client.post("/v1/links/current/sessions", json={}, headers=_pass(page_pass))
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "consent_required")
    no = client.post("/v1/links/current/consent", json={"version": CONSENT_VERSION, "agree": False},
                     headers=_pass(page_pass))
    assert (no.status_code, no.json()["error"]["code"]) == (409, "consent_required")
    stale = client.post("/v1/links/current/consent", json={"version": "1999-1", "agree": True},
                        headers=_pass(page_pass))
    assert (stale.status_code, stale.json()["error"]["code"]) == (422, "consent_version_unknown")

    agreed = client.post("/v1/links/current/consent", json={"version": CONSENT_VERSION, "agree": True},
                         headers=_pass(page_pass))
    assert agreed.status_code == 200 and agreed.json()["consent_at"]
    session = client.post("/v1/links/current/sessions", json={"device_id": "phone-1"},
                          headers=_pass(page_pass))
    assert session.status_code == 201, session.text
    session = session.json()
    assert session["pensioner_id"] == enrolled["id"]
    assert session["consent_at"] == agreed.json()["consent_at"]
    issued = dt.datetime.fromisoformat(session["expires_at"]) - dt.timedelta(
        seconds=services.settings.session_ttl_s)
    deadline = dt.datetime.fromisoformat(session["upload_deadline"])
    assert abs((deadline - issued).total_seconds() - services.settings.upload_window_s) < 2

    clip = media.synthetic_clip(tmp_path / "clip.mp4", seconds=3)
    response = upload_video(client, session, clip)
    assert response.status_code == 202, response.text
    with services.sessions() as db:
        attempt = db.get(Attempt, uuid.UUID(response.json()["id"]))
        row = db.get(CertificationSession, uuid.UUID(session["id"]))
        assert attempt.consent_at is not None and attempt.consent_at == row.consent_at
        assert str(row.link_id) == agreed.json()["link_id"]
        assert attempt.channel == "self" and attempt.device_id == "phone-1"
    current = client.get("/v1/links/current", headers=_pass(page_pass)).json()
    assert current["latest_attempt"]["id"] == response.json()["id"]


def test_a_link_is_bound_to_its_pensioner(client, services, enrolled, shared_data, tmp_path):
    other = create_pensioner(client, name="李秀英")
    assert add_photo(client, other["id"], (shared_data / "people/joe_biden/1.jpg").read_bytes()).status_code == 201
    page_pass = _redeem(client, _link(client, enrolled["id"])["token"]).json()["page_pass"]
    client.post("/v1/links/current/consent", json={"version": CONSENT_VERSION, "agree": True},
                headers=_pass(page_pass))
    session = client.post("/v1/links/current/sessions", headers=_pass(page_pass)).json()
    assert session["pensioner_id"] == enrolled["id"]
    # the session (and its nonce) cannot be used for another pensioner's upload
    clip = media.synthetic_clip(tmp_path / "clip.mp4", seconds=3)
    moved = dict(session, upload_url=session["upload_url"].replace(enrolled["id"], other["id"]))
    response = upload_video(client, moved, clip)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "session_pensioner_mismatch")
    chunked = client.post(
        session["uploads_url"].replace(enrolled["id"], other["id"]),
        json={"size_bytes": 1000}, headers={"X-Session-Nonce": session["nonce"]},
    )
    assert (chunked.status_code, chunked.json()["error"]["code"]) == (403, "session_pensioner_mismatch")
    # a page pass is not a staff credential
    staff_side = client.get(f"/v1/pensioners/{other['id']}", headers=_pass(page_pass))
    assert staff_side.status_code == 401
    assert client.post(f"/v1/pensioners/{other['id']}/sessions", headers=_pass(page_pass)).status_code == 401


def test_who_may_make_links(client, services, enrolled):
    shanghai = create_pensioner(client, region_code="310104", national_id=new_national_id("310104"))
    with services.sessions() as db:
        now = services.clock()
        create_staff(db, username="wang.staff", password=PASSWORD, display_name="王社工",
                     role="staff", region_code="110105", now=now)
        _, reader = create_api_key(db, agency="北京社保", scopes=["results:read"], regions=["110000"], now=now)
        _, enroler = create_api_key(db, agency="北京社保", scopes=["pensioners:write"], regions=["110000"], now=now)
        db.commit()
    refused = client.post(f"/v1/pensioners/{enrolled['id']}/links", headers={"Authorization": f"Bearer {reader}"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    letters = client.post(f"/v1/pensioners/{enrolled['id']}/links", headers={"Authorization": f"Bearer {enroler}"})
    assert letters.status_code == 201

    assert client.post("/v1/auth/login", json={"username": "wang.staff", "password": PASSWORD}).status_code == 200
    csrf = {"X-CSRF-Token": client.cookies["certify_csrf"]}
    made = client.post(f"/v1/pensioners/{enrolled['id']}/links", json={"ttl_days": 7}, headers=csrf)
    assert made.status_code == 201
    expires = dt.datetime.fromisoformat(made.json()["expires_at"])
    assert 6.9 < (expires - services.clock()).total_seconds() / 86400 <= 7
    listed = client.get(f"/v1/pensioners/{enrolled['id']}/links").json()
    assert {item["id"] for item in listed} >= {made.json()["id"]}
    assert all("token" not in item for item in listed)
    hidden = client.post(f"/v1/pensioners/{shanghai['id']}/links", json={}, headers=csrf)
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "pensioner_not_found")
    with services.sessions() as db:
        assert db.scalar(select(AuditEvent.id).where(AuditEvent.action == "link.create"))


def test_cli_makes_a_link(services, client, enrolled):
    s = services.settings
    env = dict(
        os.environ, DATABASE_URL=s.database_url, REDIS_URL=s.redis_url, CERTIFY_ENVIRONMENT="test",
        CERTIFY_VAR_DIR=str(s.var_dir), CERTIFY_SECRET_KEY=s.secret_key.get_secret_value(),
        CERTIFY_DATA_KEYS=s.data_keys.get_secret_value(), CERTIFY_API_TOKEN=s.api_token.get_secret_value(),
        CERTIFY_PUBLIC_BASE_URL="https://certify.example.cn",
    )
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "link", "create", "--pensioner", enrolled["id"], "--ttl-days", "3"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["url"].startswith("https://certify.example.cn/l#")
    token = printed["url"].split("#", 1)[1]
    assert _redeem(client, token).status_code == 200
