"""Life events (API keys with records:write): proof of life for certification by data
matching, deaths reported elsewhere (one by one or a file of deaths as a bulk job), and
a reviewer's reversal of a wrong death report."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from models import BulkKind, EnrolmentRow
from service.audit import record_audit
from service.deaths import reverse_death
from service.error_codes import ErrorCode
from service.errors import InvalidInputError
from service.jobs import enqueue_bulk_job
from service.life_events import LifeEventIn, import_life_events
from service.notify import announce_changes

from ..agency_schemas import (
    DeathReportRowPublic,
    DeathReportsPublic,
    DeathReversalCreate,
    LifeEventPublic,
    LifeEventsCreate,
    LifeEventsReport,
)
from ..bulk_jobs import receive_bulk_job
from ..deps import DbDep, NowDep, ServicesDep, client_ip
from ..permissions import (
    RecordsWriterDep,
    ResultsReaderDep,
    ReviewerDep,
    visible_death_reports,
    visible_life_event,
)

__all__ = ["router", "import_events", "read", "reverse", "upload_deaths", "death_reports", "death_report_rows"]

router = APIRouter(prefix="/v1/life-events", tags=["agency: data matching"])


@router.post("", response_model=LifeEventsReport)
def import_events(
    body: LifeEventsCreate, request: Request, db: DbDep, services: ServicesDep, now: NowDep,
    principal: RecordsWriterDep,
) -> LifeEventsReport:
    """Import life events (by national ID or pensioner id) of pensioners paid in the key's
    regions. Proof of life (`kind: proof_of_life`, the default): events from sources the
    pensioner's agency accepts certify the period they fall in (method `data_match`).
    A death (`kind: death`, source civil_registry, hospital, funeral_home or family,
    `occurred_on` the date of death): the records of every period that had not ended by
    then are suspended (method `death_reported`, webhook `deceased`), certificates valid
    after it revoked, the pensioner's links and open sessions closed; audited.
    Re-importing an event (same source and reference) changes nothing."""
    items = []
    for index, item in enumerate(body.events):
        if not item.national_id and not item.pensioner_id:
            raise InvalidInputError(ErrorCode.PENSIONER_REQUIRED, "name the pensioner by national_id or pensioner_id",
                                    index=index)
        items.append(LifeEventIn(source=item.source, occurred_on=item.occurred_on, reference=item.reference,
                                 national_id=item.national_id, pensioner_id=item.pensioner_id, kind=item.kind))
    report = import_life_events(
        db, items=items, regions=principal.regions, imported_by=principal.actor_id,
        secret=services.settings.secret_key.get_secret_value(), keyring=services.keyring, now=now,
        validity_days=services.settings.period_validity_days, actor_type=principal.kind,
    )
    record_audit(db, actor_type=principal.kind, actor_id=principal.actor_id, action="life_events.import",
                 subject_type="life_events", subject_id=principal.actor_id, now=now, ip=client_ip(request),
                 reason="certification by data matching" if not report.deaths_recorded else "life events and deaths",
                 details={"accepted": report.accepted, "certified_records": report.certified_records,
                          "deaths_recorded": report.deaths_recorded})
    db.commit()
    if report.certified_records or report.records_suspended:
        announce_changes(services)
    return LifeEventsReport(accepted=report.accepted, duplicates=report.duplicates,
                            certified_records=report.certified_records,
                            not_accepted_source=report.not_accepted_source,
                            deaths_recorded=report.deaths_recorded, records_suspended=report.records_suspended,
                            certificates_revoked=report.certificates_revoked, errors=report.errors)


@router.post(
    "/deaths", status_code=202, response_model=DeathReportsPublic,
    openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": {"csv": {"type": "string", "format": "binary"}}, "required": ["csv"]}}}}},
)
async def upload_deaths(request: Request, services: ServicesDep, principal: RecordsWriterDep) -> DeathReportsPublic:
    """Upload a file of deaths (`csv`: columns national_id, died_on, reference, and
    optionally source (default civil_registry) and name), the civil registry's monthly
    file. Each row is checked and recorded on its own, like a death sent to
    `POST /v1/life-events`; poll the job for progress, the per-row outcomes are at `rows_url`."""
    return await receive_bulk_job(
        request, services, principal, kind=BulkKind.DEATHS, folder="death-reports", files={"csv": "deaths.csv"},
        audit_action="death_reports.create", subject_type="death_reports", enqueue=partial(enqueue_bulk_job, kind=BulkKind.DEATHS),
        public=DeathReportsPublic.of,
    )


@router.get("/deaths/{job_id}", response_model=DeathReportsPublic)
def death_reports(job_id: uuid.UUID, db: DbDep, principal: RecordsWriterDep) -> DeathReportsPublic:
    """A file of deaths being recorded: its state and counts."""
    return DeathReportsPublic.of(visible_death_reports(db, principal, job_id))


@router.get("/deaths/{job_id}/rows", response_model=list[DeathReportRowPublic])
def death_report_rows(
    job_id: uuid.UUID, db: DbDep, principal: RecordsWriterDep,
    errors_only: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[DeathReportRowPublic]:
    """Per-row outcomes in file order: the pensioner and the death recorded, or the errors (field, code)."""
    job = visible_death_reports(db, principal, job_id)
    query = select(EnrolmentRow).where(EnrolmentRow.job_id == job.id)
    if errors_only:
        query = query.where(EnrolmentRow.life_event_id.is_(None))
    found = db.scalars(query.order_by(EnrolmentRow.line).offset(offset).limit(limit)).all()
    return [DeathReportRowPublic(line=r.line, pensioner_id=r.pensioner_id, life_event_id=r.life_event_id,
                                 errors=list(r.errors or [])) for r in found]


@router.get("/{event_id}", response_model=LifeEventPublic)
def read(event_id: uuid.UUID, db: DbDep, principal: ResultsReaderDep) -> LifeEventPublic:
    """One life event: the evidence of a data-match certification, or a death report
    (what it did, and its reversal if any)."""
    return LifeEventPublic.of(visible_life_event(db, principal, event_id))


@router.post("/{event_id}/reversal", response_model=LifeEventPublic)
def reverse(
    event_id: uuid.UUID, body: DeathReversalCreate, request: Request, db: DbDep, services: ServicesDep,
    now: NowDep, principal: ReviewerDep,
) -> LifeEventPublic:
    """Reverse a wrong death report (a reviewer of the pensioner's paying region; audited).
    Once no other death report of the pensioner stands, the suspended records are put
    back as they were (webhook `death_reversed`). Revoked certificates stay revoked and
    closed links and sessions stay closed: the pensioner certifies again."""
    event = visible_life_event(db, principal, event_id)
    restored = reverse_death(db, death=event, reviewer=principal.actor_id, actor_type=principal.kind,
                             reason=body.reason, now=now, ip=client_ip(request))
    db.commit()
    announce_changes(services)
    return LifeEventPublic.of(event, records_restored=restored)
