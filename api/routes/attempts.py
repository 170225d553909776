"""Attempt status and result: polled by the capture page, read in full by operators."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from sqlalchemy import select

from models import AttemptStatus, QualificationRecord
from service.admission import tries_left
from service.audit import record_audit
from service.certification import get_attempt
from service.pensioners import get_pensioner

from ..deps import DbDep, NowDep, ServicesDep, client_ip
from ..permissions import CallerDep, may_see_evidence_of
from ..schemas import AttemptPublic

__all__ = ["router", "read"]

router = APIRouter(prefix="/v1/attempts", tags=["certification"])


@router.get("/{attempt_id}", response_model=AttemptPublic)
def read(
    attempt_id: uuid.UUID,
    request: Request,
    db: DbDep,
    services: ServicesDep,
    now: NowDep,
    caller: CallerDep,
) -> AttemptPublic:
    """Progress (`queued`, `processing`) or the result (`passed`, `failed`, `review`, `error`).

    The attempt id alone shows the status, reason codes, tries left and validity (what
    the result page needs). The pensioner's own page (its `X-Link-Pass`) and credentials
    that see the pensioner also get the ids and the qualification record. Scores and the
    action timeline (biometric evidence) are shown to reviewers, admins and agency keys
    with `evidence:read` for the pensioner's paying region; each such read is audited.
    """
    attempt = get_attempt(db, attempt_id)
    pensioner = get_pensioner(db, attempt.pensioner_id)
    owner = caller.acts_for(pensioner)
    principal = caller.principal
    with_evidence = may_see_evidence_of(principal, pensioner)
    record = None
    if attempt.status == AttemptStatus.PASSED:
        record = db.scalar(
            select(QualificationRecord).where(QualificationRecord.attempt_id == attempt.id)
        )
    left = tries_left(
        db,
        pensioner_id=attempt.pensioner_id,
        period=attempt.period,
        limit=services.settings.max_failed_attempts,
    )
    if with_evidence and principal is not None:
        record_audit(
            db, actor_type=principal.kind, actor_id=principal.actor_id, action="evidence.read",
            subject_type="attempt", subject_id=str(attempt.id), now=now, ip=client_ip(request),
        )
        db.commit()
    return AttemptPublic.of(
        attempt, with_evidence=with_evidence, qualification=record, tries_left=left, owner=owner
    )
