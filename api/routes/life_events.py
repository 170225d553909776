"""Proof-of-life events for certification by data matching (API keys with records:write)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from service.audit import record_audit
from service.error_codes import ErrorCode
from service.errors import InvalidInputError
from service.life_events import LifeEventIn, import_life_events
from service.notify import announce_changes

from ..agency_schemas import LifeEventPublic, LifeEventsCreate, LifeEventsReport
from ..deps import DbDep, NowDep, ServicesDep, client_ip
from ..permissions import RecordsWriterDep, ResultsReaderDep, visible_life_event

__all__ = ["router", "import_events", "read"]

router = APIRouter(prefix="/v1/life-events", tags=["agency: data matching"])


@router.post("", response_model=LifeEventsReport)
def import_events(
    body: LifeEventsCreate, request: Request, db: DbDep, services: ServicesDep, now: NowDep,
    principal: RecordsWriterDep,
) -> LifeEventsReport:
    """Import proof-of-life events (by national ID or pensioner id). Events from sources
    the pensioner's agency accepts certify the period they fall in (method `data_match`);
    re-importing an event (same source and reference) changes nothing."""
    items = []
    for index, item in enumerate(body.events):
        if not item.national_id and not item.pensioner_id:
            raise InvalidInputError(ErrorCode.PENSIONER_REQUIRED, "name the pensioner by national_id or pensioner_id",
                                    index=index)
        items.append(LifeEventIn(source=item.source, occurred_on=item.occurred_on, reference=item.reference,
                                 national_id=item.national_id, pensioner_id=item.pensioner_id))
    report = import_life_events(
        db, items=items, regions=principal.regions, imported_by=principal.actor_id,
        secret=services.settings.secret_key.get_secret_value(), keyring=services.keyring, now=now,
        validity_days=services.settings.period_validity_days,
    )
    record_audit(db, actor_type=principal.kind, actor_id=principal.actor_id, action="life_events.import",
                 subject_type="life_events", subject_id=principal.actor_id, now=now, ip=client_ip(request),
                 reason="certification by data matching",
                 details={"accepted": report.accepted, "certified_records": report.certified_records})
    db.commit()
    if report.certified_records:
        announce_changes(services)
    return LifeEventsReport(accepted=report.accepted, duplicates=report.duplicates,
                            certified_records=report.certified_records,
                            not_accepted_source=report.not_accepted_source, errors=report.errors)


@router.get("/{event_id}", response_model=LifeEventPublic)
def read(event_id: uuid.UUID, db: DbDep, principal: ResultsReaderDep) -> LifeEventPublic:
    """One proof-of-life event: the evidence of a data-match certification."""
    event = visible_life_event(db, principal, event_id)
    return LifeEventPublic(id=event.id, pensioner_id=event.pensioner_id, source=event.source,
                           occurred_on=event.occurred_on, reference=event.reference,
                           imported_by=event.imported_by, created_at=event.created_at)
