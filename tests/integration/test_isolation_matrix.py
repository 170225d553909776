"""Region isolation: every role sees only its region and nothing else.

Beijing (110000) and Shanghai (310000) each have an agency key, a pensioner with a
certificate, a review with key frames, a proof-of-life event, a death report, a file of
deaths, an export, a bulk enrolment and a webhook. Each principal asks for the other region's things and gets
403 (when it names the region) or 404 (when it names a resource), never data; the
same requests for its own region succeed, so the refusals are not vacuous. A
Shanghai pensioner living in Beijing can be assisted by Beijing staff, who still see
none of the result's evidence or certificate. Runs on PostgreSQL and SQLite.
"""

from __future__ import annotations

import datetime as dt
import io

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api import create_app
from models import Attempt, Certificate, FaceReference, LifeEvent, Pensioner, QualificationRecord
from service.agencies import create_agency
from service.housekeeping.maintenance import refresh_stats_now

from .agency_helpers import _JPEG, api_key, decided_attempt, login, make_pensioner, staff_account
from .conftest import run_worker_burst
from .watch_helpers import assisted_attempt


def _region_world(services, client, region: str, county: str, key: dict) -> dict:
    """One region's things, made through the API where an agency would make them."""
    pid = make_pensioner(services, region=county)
    passed = decided_attempt(services, pid, status="passed", key_frames=1)
    reviewed = decided_attempt(services, make_pensioner(services, region=county), status="review", key_frames=2)
    with services.sessions() as db:
        record = db.scalars(select(QualificationRecord).where(QualificationRecord.pensioner_id == pid)).one()
        certificate = db.scalar(select(Certificate).where(Certificate.record_id == record.id))
        reference = FaceReference(pensioner_id=pid, embedding_encrypted=b"x", model_version="m", source="upload",
                                  status="active", photo_key=f"references/{pid}/ref.jpg")
        services.store.put(reference.photo_key, io.BytesIO(_JPEG))
        db.add(reference)
        db.commit()
        reference_id = reference.id
    event = client.post("/v1/life-events", headers=key, json={"events": [
        {"pensioner_id": str(pid), "source": "hospital_visit", "occurred_on": "2026-01-05", "reference": "E1"}]})
    assert event.json()["accepted"] == 1, event.text
    with services.sessions() as db:
        event_id = db.scalar(select(LifeEvent.id).where(LifeEvent.pensioner_id == pid))
    deceased = make_pensioner(services, region=county)
    death = client.post("/v1/life-events", headers=key, json={"events": [
        {"kind": "death", "pensioner_id": str(deceased), "source": "civil_registry", "occurred_on": "2026-02-01",
         "reference": "D1"}]})
    assert death.json()["deaths_recorded"] == 1, death.text
    with services.sessions() as db:
        death_id = db.scalar(select(LifeEvent.id).where(LifeEvent.pensioner_id == deceased))
    deaths = client.post("/v1/life-events/deaths", headers=key, files={
        "csv": ("d.csv", b"national_id,died_on,reference\n", "text/csv")}).json()
    export = client.post("/v1/exports", headers=key, json={"region": region}).json()
    enrolment = client.post("/v1/enrolments", headers=key, files={
        "csv": ("p.csv", b"name,national_id,region_code\n", "text/csv")}).json()
    webhook = client.post("/v1/webhooks", headers=key, json={"url": "http://127.0.0.1:9/hook", "region": region}).json()
    run_worker_burst(services)
    # an assisted attempt at 23:30 Beijing time: failed, with the watch's unusual-hour flag
    watched = make_pensioner(services, region=county)
    assisted_attempt(services, watched, staff=f"staff-{region}", device=f"tablet-{region}", status="failed",
                     at=dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.UTC))
    return {
        "pensioner": str(pid), "watched": str(watched), "record": str(record.id), "certificate": str(certificate.id),
        "attempt": str(passed), "review": str(reviewed), "reference": str(reference_id),
        "event": str(event_id), "export": export["id"], "enrolment": enrolment["id"], "webhook": webhook["id"],
        "death": str(death_id), "deaths": deaths["id"],
    }


def _requests(w: dict, region: str) -> list[tuple[str, str, dict | None]]:
    """(method, path, json) of everything one region owns."""
    reason = {"reason": "isolation test"}
    return [
        ("GET", f"/v1/records/{w['record']}", None),
        ("POST", "/v1/records/suspend", {"record_ids": [w["record"]]}),
        ("GET", f"/v1/certificates/{w['certificate']}", None),
        ("GET", f"/v1/certificates/{w['certificate']}/qr.png", None),
        ("GET", f"/v1/attempts/{w['attempt']}/evidence", reason),
        ("GET", f"/v1/attempts/{w['review']}/key-frames/0", reason),
        ("GET", f"/v1/pensioners/{w['pensioner']}/references/{w['reference']}/photo", reason),
        ("GET", f"/v1/life-events/{w['event']}", None),
        ("GET", f"/v1/life-events/{w['death']}", None),
        ("GET", f"/v1/life-events/deaths/{w['deaths']}", None),
        ("GET", f"/v1/life-events/deaths/{w['deaths']}/rows", None),
        ("GET", f"/v1/exports/{w['export']}", None),
        ("GET", f"/v1/exports/{w['export']}/download", None),
        ("GET", f"/v1/enrolments/{w['enrolment']}", None),
        ("GET", f"/v1/enrolments/{w['enrolment']}/rows", None),
        ("GET", f"/v1/webhooks/{w['webhook']}/deliveries", None),
        ("DELETE", f"/v1/webhooks/{w['webhook']}", None),
    ]


def _named_region(region: str) -> list[tuple[str, str, dict | None]]:
    """Requests that name a region (answered 403 region_forbidden outside one's own)."""
    return [
        ("GET", f"/v1/results?region={region}", None),
        ("GET", f"/v1/results/export.csv?region={region}", None),
        ("GET", f"/v1/results/export.ndjson?region={region}", None),
        ("POST", "/v1/exports", {"region": region}),
        ("POST", "/v1/webhooks", {"url": "http://127.0.0.1:9/x", "region": region}),
        ("GET", f"/v1/stats/dashboard?region={region}", None),
        ("GET", f"/v1/stats/fairness?region={region}", None),
        ("GET", f"/v1/stats/charts/coverage.svg?region={region}", None),
        ("GET", f"/v1/stats/charts/fairness-age_band.svg?region={region}", None),
        ("GET", f"/v1/stats/report.pdf?month=2026-03&region={region}", None),
    ]


def _counted_in(services, region: str) -> tuple[int, int]:
    """Pensioners paid by the region and their attempts, counted from the rows."""
    with services.sessions() as db:
        own = select(Pensioner.id).where(Pensioner.region_code.startswith(region[:2]))
        pensioners = db.scalar(select(func.count()).select_from(own.subquery()))
        attempts = db.scalar(select(func.count()).select_from(Attempt).where(Attempt.pensioner_id.in_(own)))
    assert pensioners and attempts  # the world is not empty, so the equality below means something
    return pensioners, attempts


def _send(client, method: str, path: str, body, headers=None):
    if method == "GET":
        return client.get(path, params=body if body and "reason" in body else None, headers=headers)
    if method == "DELETE":
        return client.delete(path, headers=headers)
    return client.post(path, json=body, headers=headers)


def _leaks(response, world: dict) -> bool:
    """True when any id of the other region's world appears in the response body."""
    text = response.text if response.headers.get("content-type", "").startswith(("application/json", "text")) else ""
    return any(value in text for value in world.values())


def test_isolation_matrix(services):
    services.clock = lambda: dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    with services.sessions() as db:
        for region, name in (("110000", "北京市社保中心"), ("310000", "上海市社保中心")):
            create_agency(db, keyring=services.keyring, name=name, region_code=region, now=services.clock(),
                          data_match_sources=["hospital_visit"])
        db.commit()
    beijing = api_key(services, regions=["110000"], agency="北京")
    shanghai = api_key(services, regions=["310000"], agency="上海")
    app = create_app(services=services)
    with TestClient(app, raise_server_exceptions=False) as client:
        worlds = {"110000": _region_world(services, client, "110000", "110105", beijing),
                  "310000": _region_world(services, client, "310000", "310104", shanghai)}
        keys = {"110000": beijing, "310000": shanghai}
        # cross-region: paid by Shanghai, lives in Beijing's Chaoyang district
        commuter = make_pensioner(services, region="310104", residence="110105")
        commuter_attempt = decided_attempt(services, commuter, status="passed", key_frames=1)
        refresh_stats_now(services)

        for own, other in (("110000", "310000"), ("310000", "110000")):
            headers = keys[own]
            hooks = client.get("/v1/webhooks", headers=headers).json()
            assert [h["id"] for h in hooks] == [worlds[own]["webhook"]]  # before it is deleted below
            for method, path, body in _requests(worlds[own], own):
                response = _send(client, method, path, body, headers)
                assert response.status_code < 400 or (
                    path.endswith("/suspend") and response.json()["error"]["code"] == "record_not_overdue"
                ), (own, method, path, response.status_code, response.text)
            for method, path, body in _requests(worlds[other], other):
                response = _send(client, method, path, body, headers)
                assert response.status_code == 404, (own, "asks", other, method, path, response.status_code)
                assert not _leaks(response, worlds[other]), (method, path, response.text)
            for method, path, body in _named_region(other):
                response = _send(client, method, path, body, headers)
                assert (response.status_code, response.json()["error"]["code"]) == (403, "region_forbidden"), (
                    own, method, path)
            # unfiltered lists hold only one's own region
            feed = client.get("/v1/results", headers=headers).json()["results"]
            assert feed and {r["region_code"][:2] for r in feed} == {own[:2]}
            csv_text = client.get("/v1/results/export.csv", headers=headers).text
            assert worlds[own]["record"] in csv_text and worlds[other]["record"] not in csv_text
            assert str(commuter) not in csv_text or own == "310000"
            assert {a["region_code"] for a in client.get("/v1/agencies", headers=headers).json()} == {own}
            # statistics without a region cover one's own regions only (the commuter is Shanghai's)
            dashboard = client.get("/v1/stats/dashboard", headers=headers).json()
            assert {r["region_code"][:2] for r in dashboard["coverage"]["by_region"]} == {own[:2]}
            pensioners, attempts = _counted_in(services, own)
            assert dashboard["coverage"]["totals"]["total"] == pensioners
            fairness = client.get("/v1/stats/fairness", headers=headers).json()
            assert fairness["overall"]["attempts"] == attempts

    # staff and reviewers (signed-in accounts)
    staff_account(services, username="bj.staff", role="staff", region="110105")
    staff_account(services, username="bj.reviewer", role="reviewer", region="110000")
    staff_account(services, username="sh.reviewer", role="reviewer", region="310000")
    bj, sh = worlds["110000"], worlds["310000"]
    with TestClient(app, raise_server_exceptions=False) as staff:
        login(staff, "bj.staff")
        assert staff.get(f"/v1/pensioners/{commuter}").status_code == 200  # may assist where they live
        assert staff.get(f"/v1/pensioners/{sh['pensioner']}").status_code == 404
        assert staff.get("/v1/results").status_code == 403
        assert staff.get("/v1/reviews").status_code == 403
        assert staff.get("/v1/watch/staff").status_code == 403  # reviewers and administrators only
        for path in (f"/v1/attempts/{commuter_attempt}/evidence", f"/v1/attempts/{commuter_attempt}/key-frames/0",
                     f"/v1/attempts/{bj['attempt']}/evidence"):
            response = staff.get(path, params={"reason": "assisting"})
            assert (response.status_code, response.json()["error"]["code"]) == (403, "evidence_forbidden"), path
        attempt_view = staff.get(f"/v1/attempts/{commuter_attempt}").json()
        assert attempt_view["status"] == "passed" and attempt_view["scores"] is None  # the outcome, not evidence
        with services.sessions() as db:
            commuter_certificate = db.scalar(select(Certificate.id).where(Certificate.pensioner_id == commuter))
        assert staff.get(f"/v1/certificates/{commuter_certificate}").status_code == 404  # Shanghai's result
        assert staff.get(f"/v1/certificates/{bj['certificate']}").status_code == 200
    with TestClient(app, raise_server_exceptions=False) as reviewer:
        login(reviewer, "bj.reviewer")
        queue = reviewer.get("/v1/reviews").json()
        assert [r["attempt_id"] for r in queue] == [bj["review"]]
        assert reviewer.get(f"/v1/reviews/{sh['review']}").status_code == 404
        assert reviewer.post(f"/v1/reviews/{sh['review']}/decision", json={"decision": "passed",
                             "reason": "same_person_live"}, headers={"X-CSRF-Token": reviewer.cookies["certify_csrf"]}
                             ).status_code == 404
        for path in (f"/v1/attempts/{sh['attempt']}/evidence", f"/v1/attempts/{commuter_attempt}/evidence",
                     f"/v1/attempts/{sh['review']}/key-frames/0",
                     f"/v1/pensioners/{sh['pensioner']}/references/{sh['reference']}/photo"):
            assert reviewer.get(path, params={"reason": "review"}).status_code == 404, path
        assert reviewer.get(f"/v1/attempts/{bj['attempt']}/evidence", params={"reason": "review"}).status_code == 200
        assert reviewer.get(f"/v1/certificates/{sh['certificate']}").status_code == 404
        reversal = {"reason": "isolation test"}
        csrf = {"X-CSRF-Token": reviewer.cookies["certify_csrf"]}
        assert reviewer.post(f"/v1/life-events/{sh['death']}/reversal", json=reversal, headers=csrf).status_code == 404
        assert reviewer.post(f"/v1/life-events/{bj['death']}/reversal", json=reversal, headers=csrf).status_code == 200
        # assisted captures under watch: the reviewer's region only
        flagged = reviewer.get("/v1/watch/attempts").json()["attempts"]
        assert [a["pensioner_id"] for a in flagged] == [bj["watched"]]
        for path in ("/v1/watch/staff", "/v1/watch/devices", "/v1/watch/attempts"):
            own = reviewer.get(path)
            assert own.status_code == 200 and "110000" in own.text and not _leaks(own, sh), (path, own.text)
            named = reviewer.get(path, params={"region": "310000"})
            assert (named.status_code, named.json()["error"]["code"]) == (403, "region_forbidden"), path
    with TestClient(app, raise_server_exceptions=False) as reviewer:
        login(reviewer, "sh.reviewer")
        assert reviewer.get(f"/v1/attempts/{commuter_attempt}/evidence", params={"reason": "review"}).status_code == 200
        assert [r["attempt_id"] for r in reviewer.get("/v1/reviews").json()] == [sh["review"]]
