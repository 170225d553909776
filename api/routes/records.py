"""Qualification records for agencies: one record, and suspending payment for overdue ones."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from models import Method, RecordStatus
from service.audit import record_audit
from service.certificates import issue_certificates
from service.notify import announce_changes
from service.records import Certification, certify_period, current_window, suspend_records
from service.results import ResultFilters, read_feed

from ..agency_schemas import InPersonCreate, ResultPublic, SuspendCreate, SuspendPublic
from ..deps import DbDep, NowDep, ServicesDep, client_ip
from ..permissions import (
    InPersonCertifierDep,
    RecordsWriterDep,
    ResultsReaderDep,
    visible_pensioner,
    visible_record,
)

__all__ = ["router", "read", "suspend", "in_person"]

router = APIRouter(prefix="/v1/records", tags=["agency: records"])


@router.get("/{record_id}", response_model=ResultPublic)
def read(record_id: uuid.UUID, db: DbDep, principal: ResultsReaderDep) -> ResultPublic:
    """One qualification record, as the results feed shows it."""
    record = visible_record(db, principal, record_id)
    rows, _, _ = read_feed(
        db, filters=ResultFilters(), prefixes=None, after=record.change_seq - 1, limit=1
    )
    return ResultPublic(**rows[0])


@router.post("/suspend", response_model=SuspendPublic)
def suspend(
    body: SuspendCreate, request: Request, db: DbDep, services: ServicesDep, now: NowDep,
    principal: RecordsWriterDep,
) -> SuspendPublic:
    """Record that payment was suspended for these overdue records (all or none).

    The suspension list is `GET /v1/results?status=overdue` (or its CSV export). A later
    certification restores a suspended record (status `restored`).
    """
    records = [visible_record(db, principal, rid) for rid in dict.fromkeys(body.record_ids)]
    already = sum(1 for r in records if r.status == RecordStatus.SUSPENDED)
    changed = suspend_records(db, records=records, now=now)
    for record in changed:
        record_audit(
            db, actor_type=principal.kind, actor_id=principal.actor_id, action="record.suspend",
            subject_type="qualification_record", subject_id=str(record.id), now=now,
            reason="payment suspended: not certified by the deadline", ip=client_ip(request),
        )
    db.commit()
    announce_changes(services)
    return SuspendPublic(suspended=len(changed), already_suspended=already)


@router.post("/in-person", response_model=list[ResultPublic])
def in_person(
    body: InPersonCreate, request: Request, db: DbDep, services: ServicesDep, now: NowDep,
    principal: InPersonCertifierDep,
) -> list[ResultPublic]:
    """Staff saw the pensioner in person: certify the current period (method `in_person`).

    Staff of the region where the pensioner lives may do this for another region's
    pensioner (cross-region); the records and certificates belong to the paying agency.
    """
    pensioner = visible_pensioner(db, principal, body.pensioner_id)
    changed = certify_period(
        db, pensioner=pensioner, period=current_window(db, pensioner=pensioner, now=now).label, now=now,
        validity_days=services.settings.period_validity_days,
        how=Certification(method=Method.IN_PERSON, assisted_by=principal.actor_id, decided_by=principal.actor_id),
    )
    issue_certificates(db, keyring=services.keyring, pensioner=pensioner, records=changed, now=now)
    record_audit(
        db, actor_type=principal.kind, actor_id=principal.actor_id, action="record.in_person",
        subject_type="pensioner", subject_id=str(pensioner.id), now=now, reason=body.note,
        details={"records": [str(r.id) for r in changed]}, ip=client_ip(request),
    )
    db.commit()
    announce_changes(services)
    rows = []
    for record in changed:
        page, _, _ = read_feed(db, filters=ResultFilters(), prefixes=None, after=record.change_seq - 1, limit=1)
        rows.extend(page)
    return [ResultPublic(**row) for row in rows]
