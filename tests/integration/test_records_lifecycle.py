"""Qualification records: schemes, deadlines, overdue / suspended / restored, the
scheduled sweep on RQ's scheduler, rolling periods, and the database constraints."""

from __future__ import annotations

import datetime as dt

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import Certificate, QualificationRecord, RecordEvent
from service.agencies import create_agency
from service.housekeeping.sweep import run_sweep, schedule_next_sweep, sweep_job_id
from service.jobs import Lane

from .agency_helpers import decided_attempt, make_pensioner
from .conftest import run_worker_burst


def _at(services, moment: dt.datetime) -> None:
    services.clock = lambda: moment


def _records(services, pensioner_id):
    with services.sessions() as db:
        return {
            (r.scheme, r.period): r
            for r in db.scalars(select(QualificationRecord).where(QualificationRecord.pensioner_id == pensioner_id))
        }


def test_one_pass_certifies_every_scheme_with_a_certificate(services):
    _at(services, dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC))
    pid = make_pensioner(services, schemes=("basic_pension", "survivors", "work_injury"))
    records = _records(services, pid)
    assert sorted(records) == [("basic_pension", "2026"), ("survivors", "2026"), ("work_injury", "2026")]
    assert {r.status for r in records.values()} == {"due"}
    assert {r.due_by for r in records.values()} == {dt.date(2026, 12, 31)}

    failed = decided_attempt(services, pid, status="failed", reasons=["too_dark"])
    records = _records(services, pid)
    assert {(r.status, r.decision, tuple(r.reasons)) for r in records.values()} == {("due", "failed", ("too_dark",))}
    assert all(r.last_attempt_id == failed for r in records.values())

    passed = decided_attempt(services, pid, status="passed", channel="assisted", assisted_by="staff-7")
    records = _records(services, pid)
    for record in records.values():
        assert (record.status, record.method, record.attempt_id, record.assisted_by) == (
            "certified", "assisted", passed, "staff-7")
        assert record.valid_until == dt.date(2027, 4, 1)
    with services.sessions() as db:
        certificates = db.scalars(select(Certificate).where(Certificate.pensioner_id == pid)).all()
        events = db.scalars(select(RecordEvent.event).order_by(RecordEvent.change_seq)).all()
    assert len(certificates) == 3
    assert events.count("certified") == 3 and events.count("failed") == 3

    # a second pass the same period keeps the first certification
    decided_attempt(services, pid, status="passed")
    assert {r.attempt_id for r in _records(services, pid).values()} == {passed}


def test_a_second_record_for_the_same_period_is_impossible(services):
    pid = make_pensioner(services)
    with services.sessions() as db:
        db.add(QualificationRecord(pensioner_id=pid, scheme="basic_pension", period=services.clock().strftime("%Y"),
                                   status="due", reasons=[]))
        with pytest.raises(IntegrityError):
            db.commit()


def test_deadline_overdue_suspension_and_restore(services):
    _at(services, dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    with services.sessions() as db:
        create_agency(db, keyring=services.keyring, name="北京市社保中心", region_code="110000",
                      now=services.clock(), grace_days=31, suspend_after_days=30)
        db.commit()
    late = make_pensioner(services, region="110105")
    on_time = make_pensioner(services, region="110108")
    assert _records(services, late)[("basic_pension", "2026")].due_by == dt.date(2027, 1, 31)
    decided_attempt(services, on_time, status="passed")

    _at(services, dt.datetime(2027, 1, 31, 23, tzinfo=dt.UTC))  # last day of grace
    report = run_sweep(services)
    assert report.overdue == 0 and report.opened == 2  # the 2027 records are opened
    assert _records(services, late)[("basic_pension", "2026")].status == "due"

    _at(services, dt.datetime(2027, 2, 1, 1, tzinfo=dt.UTC))
    assert run_sweep(services).overdue == 1
    record = _records(services, late)[("basic_pension", "2026")]
    assert record.status == "overdue" and record.overdue_at is not None
    assert _records(services, on_time)[("basic_pension", "2026")].status == "certified"
    assert run_sweep(services).overdue == 0  # idempotent

    _at(services, dt.datetime(2027, 3, 4, tzinfo=dt.UTC))  # 31 days overdue
    assert run_sweep(services).suspended == 1
    assert _records(services, late)[("basic_pension", "2026")].status == "suspended"

    # certifying later restores the suspended year and certifies the current one
    decided_attempt(services, late, status="passed")
    records = _records(services, late)
    assert records[("basic_pension", "2026")].status == "restored"
    assert records[("basic_pension", "2027")].status == "certified"
    with services.sessions() as db:
        kinds = db.scalars(select(RecordEvent.event).where(RecordEvent.pensioner_id == late)
                           .order_by(RecordEvent.change_seq)).all()
    # 2026 due, 2027 opened by the first sweep, 2026 overdue then suspended, then the pass
    assert kinds[:4] == ["due", "due", "overdue", "suspended"]
    assert sorted(kinds[4:]) == ["certified", "restored"]


def test_rolling_twelve_months_from_the_enrolment_anniversary(services):
    _at(services, dt.datetime(2025, 5, 20, tzinfo=dt.UTC))
    with services.sessions() as db:
        create_agency(db, keyring=services.keyring, name="深圳市社保局", region_code="440300",
                      now=services.clock(), period_kind="rolling_12_months")
        db.commit()
    pid = make_pensioner(services, region="440305")
    county_default = make_pensioner(services, region="440105")  # Guangzhou: no agency, calendar
    assert list(_records(services, pid)) == [("basic_pension", "2025-05-20")]
    assert _records(services, pid)[("basic_pension", "2025-05-20")].due_by == dt.date(2026, 5, 19)
    assert list(_records(services, county_default)) == [("basic_pension", "2025")]

    _at(services, dt.datetime(2026, 5, 20, 8, tzinfo=dt.UTC))
    report = run_sweep(services)
    assert report.overdue == 2 and report.opened == 2  # both 2025 periods ended; both open anew
    records = _records(services, pid)
    assert records[("basic_pension", "2025-05-20")].status == "overdue"
    assert records[("basic_pension", "2026-05-20")].status == "due"
    decided_attempt(services, pid, status="passed")
    records = _records(services, pid)
    assert records[("basic_pension", "2025-05-20")].status == "certified"  # late, never suspended
    assert records[("basic_pension", "2026-05-20")].status == "certified"


def test_the_sweep_is_scheduled_once_on_rqs_scheduler_and_reschedules_itself(services):
    _at(services, dt.datetime(2026, 12, 31, 22, 10, tzinfo=dt.UTC))
    make_pensioner(services)
    first = schedule_next_sweep(services)
    assert first == dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC)
    assert schedule_next_sweep(services) == first  # a second scheduler changes nothing
    bulk = services.queue_for(Lane.BULK)  # the sweep is a bulk job, never ahead of certifications
    registry = ScheduledJobRegistry(queue=bulk)
    assert registry.get_job_ids() == [sweep_job_id(first)]
    assert registry.get_scheduled_time(sweep_job_id(first)).replace(tzinfo=dt.UTC) == first

    # the scheduled time arrives: RQ's scheduler moves the job to the queue, a worker runs it
    _at(services, dt.datetime(2027, 1, 2, 0, 5, tzinfo=dt.UTC))
    bulk.enqueue_job(bulk.fetch_job(sweep_job_id(first)))
    registry.remove(sweep_job_id(first))
    run_worker_burst(services)
    job = bulk.fetch_job(sweep_job_id(first))
    assert job.get_status() == "finished", job.exc_info
    assert job.return_value() == {"opened": 1, "overdue": 1, "suspended": 0, "deliveries": 0, "resent": 0, "jobs_requeued": 0}
    assert registry.get_job_ids() == [sweep_job_id(dt.datetime(2027, 1, 2, 1, 0, tzinfo=dt.UTC))]


def test_agency_configuration_api(client, services):
    from .agency_helpers import login, staff_account
    from .helpers import OPERATOR

    body = {"name": "广东省社会保险基金管理局", "period_kind": "rolling_12_months", "grace_days": 15,
            "suspend_after_days": 60, "data_match_sources": ["card_payment"]}
    created = client.put("/v1/agencies/440000", json=body, headers=OPERATOR)
    assert created.status_code == 200, created.text
    agency = created.json()
    assert (agency["period_kind"], agency["grace_days"], agency["suspend_after_days"]) == ("rolling_12_months", 15, 60)
    assert agency["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    changed = client.put("/v1/agencies/440000", json={**body, "period_kind": "calendar_year", "suspend_after_days": None},
                         headers=OPERATOR).json()
    assert (changed["id"], changed["period_kind"], changed["suspend_after_days"], changed["signing_key_id"]) == (
        agency["id"], "calendar_year", None, agency["signing_key_id"])  # the key stays
    for bad, code in (({**body, "data_match_sources": ["gossip"]}, "data_match_source_invalid"),
                      ({**body, "period_kind": "weekly"}, "invalid_request")):
        response = client.put("/v1/agencies/440000", json=bad, headers=OPERATOR)
        assert (response.status_code, response.json()["error"]["code"]) == (422, code)
    assert client.put("/v1/agencies/44", json=body, headers=OPERATOR).json()["error"]["code"] == "region_code_invalid"

    staff_account(services, username="bj.admin", role="admin", region="110000")
    staff_account(services, username="bj.staff", role="staff", region="110105")
    csrf = login(client, "bj.admin")
    refused = client.put("/v1/agencies/440000", json=body, headers=csrf)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "region_forbidden")
    assert client.put("/v1/agencies/110000", json={**body, "name": "北京"}, headers=csrf).status_code == 200
    assert [a["region_code"] for a in client.get("/v1/agencies").json()] == ["110000"]
    client.cookies.clear()
    csrf = login(client, "bj.staff")
    assert client.put("/v1/agencies/110105", json=body, headers=csrf).json()["error"]["code"] == "forbidden"
    with services.sessions() as db:
        from models import AuditEvent

        actions = db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("agency.%"))
                             .order_by(AuditEvent.id)).all()
    assert actions == ["agency.create", "agency.configure", "agency.create"]
