"""Staff sign-in, agency keys, region isolation and the append-only audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from models import AuditEvent
from service.accounts import create_api_key, create_staff

from .helpers import OPERATOR, add_photo, create_pensioner, new_national_id, open_session

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(services):
    with services.sessions() as db:
        now = services.clock()
        create_staff(db, username="wang.staff", password=PASSWORD, display_name="王社工",
                     role="staff", region_code="110105", now=now)
        create_staff(db, username="li.reviewer", password=PASSWORD, display_name="李审核",
                     role="reviewer", region_code="110000", now=now)
        _, results_key = create_api_key(db, agency="北京社保", scopes=["results:read"],
                                        regions=["110000"], now=now)
        _, evidence_key = create_api_key(db, agency="上海社保", scopes=["evidence:read"],
                                         regions=["310000"], now=now)
        db.commit()
    return {"results_key": results_key, "evidence_key": evidence_key}


def _login(client, username: str) -> dict[str, str]:
    response = client.post("/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": client.cookies["certify_csrf"]}


def test_wrong_password_is_refused_and_audited(client, services, accounts):
    response = client.post("/v1/auth/login", json={"username": "wang.staff", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "login_failed"
    with services.sessions() as db:
        actions = db.scalars(select(AuditEvent.action)).all()
    assert "staff.login_failed" in actions


def test_staff_work_in_their_region_only(client, services, accounts, shared_data):
    beijing = create_pensioner(client, region_code="110105")
    shanghai = create_pensioner(client, region_code="310104", national_id=new_national_id("310104"))
    csrf = _login(client, "wang.staff")
    assert client.get("/v1/auth/me").json()["regions"] == ["110105"]

    assert client.get(f"/v1/pensioners/{beijing['id']}").status_code == 200
    hidden = client.get(f"/v1/pensioners/{shanghai['id']}")
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "pensioner_not_found")

    body = {"name": "赵大爷", "national_id": new_national_id(), "region_code": "110105"}
    assert client.post("/v1/pensioners", json=body).status_code == 403  # no CSRF header
    assert client.post("/v1/pensioners", json=body, headers=csrf).status_code == 201
    other = {"name": "钱大妈", "national_id": new_national_id("310104"), "region_code": "310104"}
    refused = client.post("/v1/pensioners", json=other, headers=csrf)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "region_forbidden")

    # a photo taken by staff waits for a second person's approval
    photo = (shared_data / "people/barack_obama/1.jpg").read_bytes()
    pending = client.post(
        f"/v1/pensioners/{beijing['id']}/references",
        files={"photo": ("p.jpg", photo, "image/jpeg")}, headers=csrf,
    )
    assert pending.status_code == 201 and pending.json()["status"] == "pending"
    assert open_session(client, beijing["id"]).status_code == 409  # no active reference yet

    client.cookies.clear()
    assert add_photo(client, beijing["id"], photo).status_code == 201  # operator enrols
    csrf = _login(client, "wang.staff")
    session = client.post(f"/v1/pensioners/{beijing['id']}/sessions", json={}, headers=csrf)
    assert session.status_code == 201, session.text
    with services.sessions() as db:
        row = db.execute(text("select channel, assisted_by from certification_sessions")).one()
    assert row.channel == "assisted" and row.assisted_by


def test_agency_keys_are_limited_by_scope_and_region(client, services, accounts):
    results = {"Authorization": f"Bearer {accounts['results_key']}"}
    body = {"name": "孙大爷", "national_id": new_national_id(), "region_code": "110105"}
    refused = client.post("/v1/pensioners", json=body, headers=results)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    forged = {"Authorization": "Bearer " + accounts["results_key"][:-2] + "xx"}
    assert client.post("/v1/pensioners", json=body, headers=forged).status_code == 401


def test_audit_log_is_append_only(services, accounts):
    with services.sessions() as db:
        db.add(AuditEvent(at=services.clock(), actor_type="system", actor_id="t", action="x",
                          subject_type="t", subject_id="1"))
        db.commit()
        for statement in ("update audit_log set action = 'y'", "delete from audit_log"):
            with pytest.raises(DBAPIError):
                db.execute(text(statement))
            db.rollback()
        assert db.scalars(select(AuditEvent.action)).all() == ["x"]


def test_operator_token_still_works_and_bad_bearer_is_401(client):
    assert client.get("/v1/auth/me", headers=OPERATOR).json()["kind"] == "operator"
    response = client.get("/v1/auth/me", headers={"Authorization": "Bearer ck_nothing_here"})
    assert response.status_code == 401
    assert client.get("/v1/auth/me").status_code == 401
