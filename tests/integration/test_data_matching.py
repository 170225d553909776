"""Certification by data matching (无感认证): imported proof-of-life events certify the
period with method data_match where the agency accepts the source; no video is asked."""

from __future__ import annotations

import datetime as dt

from service.agencies import create_agency
from service.rules.national_id import compose_national_id

from .agency_helpers import api_key, make_pensioner
from .helpers import OPERATOR


def test_accepted_sources_certify_and_are_the_evidence(client, services):
    services.clock = lambda: dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
    with services.sessions() as db:
        create_agency(db, keyring=services.keyring, name="成都市社保局", region_code="510100",
                      now=services.clock(), data_match_sources=["hospital_visit", "card_payment"])
        db.commit()
    key = api_key(services, regions=["510000"], scopes=["records:write", "results:read"])
    national_id = compose_national_id("510107", dt.date(1944, 2, 3), 77)
    created = client.post("/v1/pensioners", headers=OPERATOR, json={
        "name": "刘桂兰", "national_id": national_id, "region_code": "510107",
        "schemes": ["basic_pension", "survivors"]})
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    unaccepted = make_pensioner(services, region="510107")
    outsider = make_pensioner(services, region="110105")

    report = client.post("/v1/life-events", headers=key, json={"events": [
        {"national_id": national_id, "source": "hospital_visit", "occurred_on": "2026-05-20", "reference": "H-1"},
        {"pensioner_id": str(unaccepted), "source": "civil_affairs", "occurred_on": "2026-05-21", "reference": "C-1"},
        {"pensioner_id": str(outsider), "source": "hospital_visit", "occurred_on": "2026-05-21", "reference": "H-2"},
        {"pensioner_id": str(unaccepted), "source": "telepathy", "occurred_on": "2026-05-21", "reference": "T-1"},
        {"pensioner_id": str(unaccepted), "source": "card_payment", "occurred_on": "2026-07-01", "reference": "F-1"},
    ]})
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["accepted"], body["certified_records"], body["not_accepted_source"]) == (2, 2, 1)
    assert [(e["index"], e["code"]) for e in body["errors"]] == [
        (2, "pensioner_not_found"), (3, "source_invalid"), (4, "occurred_on_future")]

    rows = client.get("/v1/results", headers=key, params={"status": "certified"}).json()["results"]
    assert sorted(r["scheme"] for r in rows) == ["basic_pension", "survivors"]
    for row in rows:
        assert row["method"] == "data_match" and row["attempt_id"] is None and row["certificate_id"]
        event = client.get(row["evidence_url"], headers=key)
        assert event.status_code == 200
        assert (event.json()["source"], event.json()["occurred_on"]) == ("hospital_visit", "2026-05-20")

    # the same event again changes nothing; the pensioner is not asked for a video
    again = client.post("/v1/life-events", headers=key, json={"events": [
        {"national_id": national_id, "source": "hospital_visit", "occurred_on": "2026-05-20", "reference": "H-1"}]})
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 1)
    session = client.post(f"/v1/pensioners/{pid}/sessions", headers=OPERATOR, json={})
    assert (session.status_code, session.json()["error"]["code"]) == (409, "already_certified")

    # another region's key sees neither the event nor can it import for the pensioner
    beijing = api_key(services, regions=["110000"], scopes=["records:write", "results:read"])
    assert client.get(rows[0]["evidence_url"], headers=beijing).status_code == 404
    foreign = client.post("/v1/life-events", headers=beijing, json={"events": [
        {"pensioner_id": pid, "source": "card_payment", "occurred_on": "2026-05-22", "reference": "X"}]})
    assert foreign.json()["errors"][0]["code"] == "pensioner_not_found"


def test_in_person_certification_by_residence_region_staff(client, services):
    from sqlalchemy import select

    from models import AuditEvent, Certificate

    from .agency_helpers import login, staff_account

    staff_account(services, username="bj.staff", role="staff", region="110105")
    staff_account(services, username="sh.staff", role="staff", region="310104")
    commuter = make_pensioner(services, region="310104", residence="110105", schemes=("basic_pension", "work_injury"))
    csrf = login(client, "bj.staff")
    done = client.post("/v1/records/in-person", headers=csrf,
                       json={"pensioner_id": str(commuter), "note": "上门核验，本人在家"})
    assert done.status_code == 200, done.text
    rows = done.json()
    assert sorted(r["scheme"] for r in rows) == ["basic_pension", "work_injury"]
    assert {(r["status"], r["method"], r["region_code"]) for r in rows} == {("certified", "in_person", "310104")}
    with services.sessions() as db:
        assert len(db.scalars(select(Certificate).where(Certificate.pensioner_id == commuter)).all()) == 2
        audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "record.in_person")).one()
    assert audit.reason == "上门核验，本人在家" and audit.actor_type == "staff"
    # the certificate belongs to Shanghai: Beijing staff cannot read it
    assert client.get(f"/v1/certificates/{rows[0]['certificate_id']}").status_code == 404
    client.cookies.clear()
    csrf = login(client, "sh.staff")
    other = make_pensioner(services, region="110108")
    refused = client.post("/v1/records/in-person", headers=csrf, json={"pensioner_id": str(other), "note": "nope"})
    assert refused.status_code == 404
