"""Certification by data matching (无感认证): proof-of-life events imported by agencies.

An event (a hospital visit, a social-security-card payment, ...) with a source and a
date is stored once per pensioner, source and source reference. When the pensioner's
agency accepts that source, the event certifies the period it falls in (method
`data_match`, the event as evidence), so the pensioner is not asked for a video.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import EnrolmentStatus, LifeEvent, Method, Pensioner, QualificationRecord, RecordStatus

from .agencies import DATA_MATCH_SOURCES, rules_for_region
from .certificates import issue_certificates
from .error_codes import ErrorCode
from .infra.crypto import Keyring
from .pensioners import find_pensioner_by_national_id
from .records import Certification, certify_period
from .rules.periods import window_for
from .rules.regions import region_matches

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


@dataclass
class ImportReport:
    accepted: int = 0
    duplicates: int = 0
    certified_records: int = 0
    not_accepted_source: int = 0
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
) -> ImportReport:
    """Store the events; certify the periods they prove where the agency accepts the source.

    Items naming an unknown pensioner, a pensioner outside `regions`, an unknown source
    or a future date are reported per item (by index) and skipped.
    """
    report = ImportReport()
    for index, item in enumerate(items):
        pensioner = _find(db, item, secret=secret)
        if pensioner is None or not ("*" in regions or any(region_matches(pensioner.region_code, r) for r in regions)):
            report.errors.append({"index": index, "code": ErrorCode.PENSIONER_NOT_FOUND,
                                  "message": "no such pensioner in your regions"})
            continue
        if pensioner.enrolment_status != EnrolmentStatus.ACTIVE:
            report.errors.append({"index": index, "code": ErrorCode(f"enrolment_{pensioner.enrolment_status}"),
                                  "message": "this enrolment is not certified (on hold or closed)"})
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


def certified_by_data_match(db: Session, *, pensioner_id: uuid.UUID, period: str) -> bool:
    """True when data matching already certified every record of the period."""
    statuses = db.execute(
        select(QualificationRecord.status, QualificationRecord.method).where(
            QualificationRecord.pensioner_id == pensioner_id, QualificationRecord.period == period)
    ).all()
    return bool(statuses) and all(
        s in RecordStatus.SATISFIED and m == Method.DATA_MATCH for s, m in statuses
    )


