"""Deaths reported elsewhere: a civil registry, a hospital, a funeral home or the family
says a pensioner died on a date. Data functions; they never commit.

Recording a death (`record_death`), in the caller's one transaction:

- the pensioner's records of every period that had not ended by the date of death are
  suspended with method `death_reported` (whatever their status: a period certified
  before the death, or certified after it, is not paid past it), each remembered with
  what it was before (`DeathSuspension`); the record change is the `deceased` webhook;
- every certificate still valid after the date of death is revoked (the same
  revocation as `POST /v1/certificates/{id}/revoke`, audited one by one);
- the pensioner's unused one-time links and open certification sessions are closed;
- one audit row says what happened.

While a death report stands (service/deceased.py) nothing certifies the pensioner:
a certification attempt goes to review with `certified_after_death` and an alert in
the audit log (service/certification.py), a reviewer's `passed`, an in-person
certification and a proof-of-life event answer `pensioner_deceased`.

A wrong report is reversed by a reviewer (`reverse_death`, audited): once no other death
report of the pensioner stands, the suspended records are put back exactly as they were
(the change is the `death_reversed` webhook). What was closed stays closed: revoked
certificates stay revoked (a signature cannot be re-validated, and a revocation others
have seen must not silently disappear), closed links and sessions stay closed; the
pensioner certifies again with a new link or session.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import (
    Certificate,
    CertificationSession,
    DeathSuspension,
    EnrolmentStatus,
    LifeEvent,
    LifeEventKind,
    Method,
    Pensioner,
    PensionerLink,
    QualificationRecord,
    RecordStatus,
)

from .audit import record_audit
from .certificates import revoke_certificate
from .deceased import standing_death
from .error_codes import ErrorCode
from .errors import ConflictError, InvalidInputError
from .records import current_window, ensure_records, window_of_label

__all__ = [
    "DEATH_SOURCES",
    "DeathEffects",
    "check_death_report",
    "period_reaches",
    "revoked_by_death",
    "record_death",
    "suspend_from_death",
    "reverse_death",
]

DEATH_SOURCES = ("civil_registry", "hospital", "funeral_home", "family")
"""Who may report a death: the civil registry (民政 / 公安 death registration, the monthly
file), a hospital, a funeral home (殡葬), the family."""


@dataclass
class DeathEffects:
    """What recording one death changed (kept on the life event as `effects`)."""

    records_suspended: list[uuid.UUID] = field(default_factory=list)
    certificates_revoked: list[uuid.UUID] = field(default_factory=list)
    links_closed: list[uuid.UUID] = field(default_factory=list)
    sessions_closed: list[uuid.UUID] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {name: [str(i) for i in getattr(self, name)] for name in
                ("records_suspended", "certificates_revoked", "links_closed", "sessions_closed")}


def check_death_report(*, source: str, died_on: dt.date, reference: str, today: dt.date) -> str:
    """The report's reference, stripped, if the report can be recorded; InvalidInputError
    naming what is wrong otherwise (an unknown source, a date in the future, no reference)."""
    if source not in DEATH_SOURCES:
        raise InvalidInputError(ErrorCode.DEATH_SOURCE_INVALID, f"a death's source must be one of {list(DEATH_SOURCES)}")
    if died_on > today:
        raise InvalidInputError(ErrorCode.OCCURRED_ON_FUTURE, "the date of death is in the future")
    reference = reference.strip()[:128]
    if not reference:
        raise InvalidInputError(ErrorCode.EVENT_REFERENCE_REQUIRED, "name the source's reference of the death")
    return reference


def period_reaches(period: str, died_on: dt.date) -> bool:
    """True when the period (a year "2026" or a rolling window's first day) had not ended
    before the date of death: such a record is not paid past the death."""
    return window_of_label(period).end >= died_on


def revoked_by_death(valid_until: dt.date, died_on: dt.date) -> bool:
    """True when a certificate is still valid after the date of death."""
    return valid_until > died_on


def suspend_from_death(
    db: Session, *, death: LifeEvent, pensioner: Pensioner, now: dt.datetime
) -> list[QualificationRecord]:
    """Suspend (method `death_reported`) the pensioner's records of every period that
    reaches the date of death and is not suspended for a death already; the current
    period's records are made first if missing. Returns the records suspended."""
    if pensioner.enrolment_status == EnrolmentStatus.ACTIVE:
        ensure_records(db, pensioner=pensioner, window=current_window(db, pensioner=pensioner, now=now), now=now)
    records = db.scalars(
        select(QualificationRecord)
        .where(QualificationRecord.pensioner_id == pensioner.id)
        .order_by(QualificationRecord.period, QualificationRecord.scheme)
    ).all()
    suspended = []
    for record in records:
        if not period_reaches(record.period, death.occurred_on):
            continue
        if record.status == RecordStatus.SUSPENDED and record.method == Method.DEATH_REPORTED:
            continue
        db.add(DeathSuspension(
            id=uuid.uuid4(), life_event_id=death.id, record_id=record.id, prior_status=record.status,
            prior_method=record.method, prior_suspended_at=record.suspended_at,
            prior_life_event_id=record.life_event_id, suspended_at=now,
        ))
        record.status = RecordStatus.SUSPENDED
        record.method = Method.DEATH_REPORTED
        record.life_event_id = death.id
        record.suspended_at = now
        record.updated_at = now
        suspended.append(record)
    db.flush()
    return suspended


def _revoke_certificates(db: Session, *, death: LifeEvent, actor_type: str, actor_id: str,
                         now: dt.datetime) -> list[Certificate]:
    certificates = db.scalars(
        select(Certificate).where(Certificate.pensioner_id == death.pensioner_id, Certificate.revoked_at.is_(None))
    ).all()
    reason = f"death reported: died {death.occurred_on.isoformat()} ({death.source} {death.reference})"[:200]
    revoked = []
    for certificate in certificates:
        if not revoked_by_death(certificate.valid_until, death.occurred_on):
            continue
        revoke_certificate(certificate, revoked_by=actor_id, reason=reason, now=now)
        record_audit(db, actor_type=actor_type, actor_id=actor_id, action="certificate.revoke",
                     subject_type="certificate", subject_id=str(certificate.id), now=now, reason=reason,
                     details={"life_event_id": str(death.id)})
        revoked.append(certificate)
    return revoked


def _close_access(db: Session, *, pensioner_id: uuid.UUID, now: dt.datetime) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Close the pensioner's usable one-time links and unused, unexpired sessions."""
    links = db.scalars(select(PensionerLink).where(
        PensionerLink.pensioner_id == pensioner_id, PensionerLink.revoked_at.is_(None), PensionerLink.expires_at > now,
    )).all()
    for link in links:
        link.revoked_at = now
    sessions = db.scalars(select(CertificationSession).where(
        CertificationSession.pensioner_id == pensioner_id, CertificationSession.used_at.is_(None),
        or_(CertificationSession.expires_at > now, CertificationSession.upload_deadline > now),
    )).all()
    for session in sessions:
        session.expires_at = now
        if session.upload_deadline is not None:
            session.upload_deadline = now
    db.flush()
    return [link.id for link in links], [session.id for session in sessions]


def record_death(
    db: Session,
    *,
    pensioner: Pensioner,
    source: str,
    died_on: dt.date,
    reference: str,
    actor_type: str,
    actor_id: str,
    now: dt.datetime,
) -> tuple[LifeEvent, bool]:
    """Record a reported death and everything it implies (see the module docstring);
    returns the life event and whether it is new (the same source and reference again
    changes nothing)."""
    reference = check_death_report(source=source, died_on=died_on, reference=reference, today=now.date())
    existing = db.scalar(select(LifeEvent).where(
        LifeEvent.pensioner_id == pensioner.id, LifeEvent.source == source, LifeEvent.reference == reference))
    if existing is not None:
        if existing.kind != LifeEventKind.DEATH:
            raise ConflictError(ErrorCode.NOT_A_DEATH_REPORT, "this source reference names another kind of event")
        return existing, False
    death = LifeEvent(
        id=uuid.uuid4(), pensioner_id=pensioner.id, kind=LifeEventKind.DEATH, source=source,
        occurred_on=died_on, reference=reference, imported_by=actor_id[:64], created_at=now,
    )
    db.add(death)
    db.flush()
    effects = DeathEffects()
    effects.records_suspended = [r.id for r in suspend_from_death(db, death=death, pensioner=pensioner, now=now)]
    effects.certificates_revoked = [
        c.id for c in _revoke_certificates(db, death=death, actor_type=actor_type, actor_id=actor_id, now=now)]
    effects.links_closed, effects.sessions_closed = _close_access(db, pensioner_id=pensioner.id, now=now)
    death.effects = effects.to_json()
    record_audit(db, actor_type=actor_type, actor_id=actor_id, action="life_event.death", subject_type="pensioner",
                 subject_id=str(pensioner.id), now=now, reason=f"death reported by {source}",
                 details={"life_event_id": str(death.id), "died_on": died_on.isoformat(), "reference": reference,
                          **{k: len(v) for k, v in death.effects.items()}})
    db.flush()
    return death, True


def _restore(db: Session, suspensions: Iterable[DeathSuspension], *, now: dt.datetime) -> int:
    restored = 0
    for suspension in suspensions:
        record = db.get(QualificationRecord, suspension.record_id)
        suspension.restored_at = now
        if record is None or not (record.status == RecordStatus.SUSPENDED and record.method == Method.DEATH_REPORTED):
            continue
        record.status = suspension.prior_status
        record.method = suspension.prior_method
        record.suspended_at = suspension.prior_suspended_at
        record.life_event_id = suspension.prior_life_event_id
        record.updated_at = now
        restored += 1
    db.flush()
    return restored


def reverse_death(
    db: Session, *, death: LifeEvent, reviewer: str, actor_type: str, reason: str, now: dt.datetime,
    ip: str | None = None,
) -> int:
    """Reverse a wrong death report (a reviewer's decision, audited). Once no other death
    report of the pensioner stands, every record suspended for a reversed report is put
    back as it was; returns how many. Revoked certificates and closed links and sessions
    stay as they are."""
    if death.kind != LifeEventKind.DEATH:
        raise ConflictError(ErrorCode.NOT_A_DEATH_REPORT, "only a death report can be reversed")
    if death.reversed_at is not None:
        raise ConflictError(ErrorCode.DEATH_ALREADY_REVERSED, "this death report is already reversed",
                            reversed_at=death.reversed_at.isoformat())
    reason = reason.strip()
    if not reason:
        raise InvalidInputError(ErrorCode.REASON_REQUIRED, "say why the death report is wrong")
    death.reversed_at = now
    death.reversed_by = reviewer[:64]
    death.reversal_reason = reason[:200]
    db.flush()
    restored = 0
    still_standing = standing_death(db, pensioner_id=death.pensioner_id)
    if still_standing is None:
        suspensions = db.scalars(
            select(DeathSuspension)
            .join(LifeEvent, LifeEvent.id == DeathSuspension.life_event_id)
            .where(LifeEvent.pensioner_id == death.pensioner_id, DeathSuspension.restored_at.is_(None))
            .order_by(DeathSuspension.suspended_at)
        ).all()
        restored = _restore(db, suspensions, now=now)
    record_audit(db, actor_type=actor_type, actor_id=reviewer, action="life_event.death_reversal",
                 subject_type="life_event", subject_id=str(death.id), now=now, reason=reason[:200], ip=ip,
                 details={"pensioner_id": str(death.pensioner_id), "records_restored": restored,
                          "other_report_stands": str(still_standing.id) if still_standing else None})
    return restored
