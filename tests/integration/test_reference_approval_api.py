"""A reference photo taken by community staff is used for matching only after a
different person approves it; the taker can never approve their own photo."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from models import AuditEvent, FaceReference
from service.accounts import create_staff

from .helpers import OPERATOR, add_photo, create_pensioner, new_national_id, open_session

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(services):
    with services.sessions() as db:
        now = services.clock()
        ids = {}
        for username, role, region in (
            ("wang.staff", "staff", "110105"), ("zhao.staff", "staff", "110105"),
            ("li.reviewer", "reviewer", "110000"), ("chen.staff", "staff", "310104"),
        ):
            ids[username] = str(create_staff(db, username=username, password=PASSWORD, display_name=username,
                                             role=role, region_code=region, now=now).id)
        db.commit()
    return ids


def _login(client, username: str) -> dict[str, str]:
    client.cookies.clear()
    response = client.post("/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": client.cookies["certify_csrf"]}


def _capture(client, pensioner_id: str, photo: bytes):
    return client.post(f"/v1/pensioners/{pensioner_id}/references",
                       files={"photo": ("capture.jpg", photo, "image/jpeg")},
                       headers={"X-CSRF-Token": client.cookies["certify_csrf"]})


def test_second_person_approves_a_staff_photo(client, services, accounts, shared_data):
    pensioner = create_pensioner(client)
    obama = shared_data / "people/barack_obama"
    assert add_photo(client, pensioner["id"], (obama / "1.jpg").read_bytes()).status_code == 201

    _login(client, "wang.staff")
    captured = _capture(client, pensioner["id"], (obama / "2.jpg").read_bytes())
    assert captured.status_code == 201, captured.text
    reference = captured.json()
    assert reference["status"] == "pending"

    pending = client.get("/v1/references").json()
    assert [p["reference"]["id"] for p in pending] == [reference["id"]]
    assert pending[0]["mine"] is True and pending[0]["reference"]["created_by_name"] == "wang.staff"
    assert pending[0]["distance_to_active"] is not None and pending[0]["distance_to_active"] < 0.5
    assert pending[0]["likeness"] in {"same", "unsure"}
    assert len(pending[0]["active_photo_urls"]) == 1
    own = client.post(f"/v1/references/{reference['id']}/approve", headers={"X-CSRF-Token": client.cookies["certify_csrf"]})
    assert (own.status_code, own.json()["error"]["code"]) == (403, "approver_is_creator")

    image = client.get(f"/v1/references/{reference['id']}/photo")
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"
    assert image.headers["cache-control"] == "private, no-store"

    # another region's staff cannot even see it
    _login(client, "chen.staff")
    assert client.get("/v1/references").json() == []
    hidden = client.post(f"/v1/references/{reference['id']}/approve", headers={"X-CSRF-Token": client.cookies["certify_csrf"]})
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "reference_not_found")

    csrf = _login(client, "zhao.staff")
    assert client.get("/v1/references").json()[0]["mine"] is False
    approved = client.post(f"/v1/references/{reference['id']}/approve", headers=csrf)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active"
    assert approved.json()["decided_by"] == accounts["zhao.staff"]
    assert approved.json()["created_by"] == accounts["wang.staff"]
    twice = client.post(f"/v1/references/{reference['id']}/approve", headers=csrf)
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "reference_not_pending")
    assert client.get("/v1/references").json() == []

    with services.sessions() as db:
        row = db.get(FaceReference, uuid.UUID(reference["id"]))
        assert row.status == "active" and row.decided_at is not None
        actions = db.scalars(select(AuditEvent.action)).all()
        assert "reference.approve" in actions and "reference.photo_read" in actions


def test_a_pending_photo_is_not_used_and_can_be_rejected(client, services, accounts, shared_data):
    pensioner = create_pensioner(client, national_id=new_national_id())
    _login(client, "wang.staff")
    photo = (shared_data / "people/barack_obama/1.jpg").read_bytes()
    reference = _capture(client, pensioner["id"], photo).json()
    # a pending photo does not count as a reference: no session can be opened yet
    refused = open_session(client, pensioner["id"])
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "no_reference_photo")
    pending = client.get("/v1/references").json()
    assert pending[0]["distance_to_active"] is None and pending[0]["active_photo_urls"] == []
    assert pending[0]["likeness"] == "no_enrolled"

    csrf = _login(client, "li.reviewer")
    no_reason = client.post(f"/v1/references/{reference['id']}/reject", json={"reason": " "}, headers=csrf)
    assert (no_reason.status_code, no_reason.json()["error"]["code"]) == (422, "reason_required")
    rejected = client.post(f"/v1/references/{reference['id']}/reject", json={"reason": "照片模糊"}, headers=csrf)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_reason"] == "照片模糊"
    still = open_session(client, pensioner["id"])
    assert still.status_code == 409

    unknown = client.post(f"/v1/references/{uuid.uuid4()}/approve", headers=OPERATOR)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "reference_not_found")
