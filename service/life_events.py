"""Life events imported by agencies: proof of life (certification by data matching, 无感认证)
and deaths reported elsewhere.

An event (a hospital visit, a social-security-card payment, ...) with a source and a
date is stored once per pensioner, source and source reference. When the pensioner's
agency accepts that source, the event certifies the period it falls in (method
`data_match`, the event as evidence), so the pensioner is not asked for a video.

An event of kind `death` (source civil_registry, hospital, funeral_home or family; the
date of death) is recorded by service/deaths.py: records suspended, certificates
revoked, links and sessions closed. While a death stands a proof-of-life event is still
stored (it is evidence that the report may be wrong) but certifies nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    EnrolmentStatus,
    LifeEvent,
    LifeEventKind,
    Method,
    Pensioner,
    QualificationRecord,
    RecordStatus,
)

from .actors import regions_cover
from .agencies import DATA_MATCH_SOURCES, rules_for_region
from .certificates import issue_certificates
from .deaths import record_death
from .deceased import standing_death
from .error_codes import ErrorCode
from .errors import ServiceError
from .infra.crypto import Keyring
from .pensioners import find_pensioner_by_national_id
from .records import Certification, certify_period
from .rules.periods import window_for

__all__ = ["LifeEventIn", "ImportReport", "import_life_events", "MAX_EVENTS_PER_IMPORT", "certified_by_data_match"]

MAX_EVENTS_PER_IMPORT = 5000
"""Events accepted in one import call."""


@dataclass(frozen=True, slots=True)
class LifeEventIn:
    source: str
    occurred_on: dt.date
    reference: str
    national_id: str | None = None
    pensioner_id: uuid.UUID | None = None
    kind: str = LifeEventKind.PROOF_OF_LIFE


@dataclass
class ImportReport:
    accepted: int = 0
    duplicates: int = 0
    certified_records: int = 0
    not_accepted_source: int = 0
    deaths_recorded: int = 0
    records_suspended: int = 0
    certificates_revoked: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)


def _find(db: Session, item: LifeEventIn, *, secret: str) -> Pensioner | None:
    if item.pensioner_id is not None:
        return db.get(Pensioner, item.pensioner_id)
    if item.national_id:
        return find_pensioner_by_national_id(db, secret=secret, national_id=item.national_id)
    return None


def import_life_events(
    db: Session,
    *,
    items: Sequence[LifeEventIn],
    regions: Sequence[str],
    imported_by: str,
    secret: str,
    keyring: Keyring,
    now: dt.datetime,
    validity_days: int,
    actor_type: str = "system",
) -> ImportReport:
    """Store the events; certify the periods they prove where the agency accepts the source;
    record the deaths (service/deaths.py).

    Items naming an unknown pensioner, a pensioner outside `regions`, an unknown source
    or a future date are reported per item (by index) and skipped.
    """
    report = ImportReport()
    for index, item in enumerate(items):
        pensioner = _find(db, item, secret=secret)
        if pensioner is None or not regions_cover(regions, pensioner.region_code):
            report.errors.append({"index": index, "code": ErrorCode.PENSIONER_NOT_FOUND,
                                  "message": "no such pensioner in your regions"})
            continue
        if pensioner.enrolment_status != EnrolmentStatus.ACTIVE:
            report.errors.append({"index": index, "code": ErrorCode(f"enrolment_{pensioner.enrolment_status}"),
                                  "message": "this enrolment is not certified (on hold or closed)"})
            continue
        if item.kind == LifeEventKind.DEATH:
            _import_death(db, index=index, item=item, pensioner=pensioner, report=report, now=now,
                          actor_type=actor_type, actor_id=imported_by)
            continue
        if item.source not in DATA_MATCH_SOURCES:
            report.errors.append({"index": index, "code": ErrorCode.SOURCE_INVALID,
                                  "message": f"source must be one of {sorted(DATA_MATCH_SOURCES)}"})
            continue
        if item.occurred_on > now.date():
            report.errors.append({"index": index, "code": ErrorCode.OCCURRED_ON_FUTURE,
                                  "message": "the event is in the future"})
            continue
        reference = item.reference.strip()[:128]
        existing = db.scalar(select(LifeEvent.id).where(
            LifeEvent.pensioner_id == pensioner.id, LifeEvent.source == item.source, LifeEvent.reference == reference))
        if existing is not None:
            report.duplicates += 1
            continue
        event = LifeEvent(id=uuid.uuid4(), pensioner_id=pensioner.id, source=item.source,
                          occurred_on=item.occurred_on, reference=reference, imported_by=imported_by[:64],
                          created_at=now)
        db.add(event)
        db.flush()
        report.accepted += 1
        if standing_death(db, pensioner_id=pensioner.id) is not None:
            report.errors.append({"index": index, "code": ErrorCode.PENSIONER_DECEASED,
                                  "message": "stored, but a death is reported for this pensioner: it certifies nothing"})
            continue
        rules = rules_for_region(db, pensioner.region_code)
        if item.source not in rules.data_match_sources:
            report.not_accepted_source += 1
            continue
        window = window_for(rules.period_kind, item.occurred_on, anchor=pensioner.created_at.date())
        changed = certify_period(
            db, pensioner=pensioner, period=window.label, now=now, validity_days=validity_days,
            how=Certification(method=Method.DATA_MATCH, life_event_id=event.id),
        )
        issue_certificates(db, keyring=keyring, pensioner=pensioner, records=changed, now=now)
        report.certified_records += len(changed)
    return report


def _import_death(db: Session, *, index: int, item: LifeEventIn, pensioner: Pensioner, report: ImportReport,
                  now: dt.datetime, actor_type: str, actor_id: str) -> None:
    try:
        death, new = record_death(db, pensioner=pensioner, source=item.source, died_on=item.occurred_on,
                                  reference=item.reference, actor_type=actor_type, actor_id=actor_id, now=now)
    except ServiceError as exc:
        report.errors.append({"index": index, "code": exc.code, "message": exc.message})
        return
    if not new:
        report.duplicates += 1
        return
    report.accepted += 1
    report.deaths_recorded += 1
    effects = death.effects or {}
    report.records_suspended += len(effects.get("records_suspended", []))
    report.certificates_revoked += len(effects.get("certificates_revoked", []))


def certified_by_data_match(db: Session, *, pensioner_id: uuid.UUID, period: str) -> bool:
    """True when data matching already certified every record of the period."""
    statuses = db.execute(
        select(QualificationRecord.status, QualificationRecord.method).where(
            QualificationRecord.pensioner_id == pensioner_id, QualificationRecord.period == period)
    ).all()
    return bool(statuses) and all(
        s in RecordStatus.SATISFIED and m == Method.DATA_MATCH for s, m in statuses
    )


