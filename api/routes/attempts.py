"""Attempt status and result: polled by the capture page, read in full by operators."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from sqlalchemy import select

from fastapi import Request

from models import AttemptStatus, Pensioner, QualificationRecord
from service.audit import record_audit
from service.certification import get_attempt, tries_left

from ..access import may_see_evidence
from ..auth import OptionalPrincipalDep
from ..deps import DbDep, ServicesDep, client_ip
from ..schemas import AttemptPublic

router = APIRouter(prefix="/v1/attempts", tags=["certification"])


@router.get("/{attempt_id}", response_model=AttemptPublic)
def read(
    attempt_id: uuid.UUID,
    request: Request,
    db: DbDep,
    services: ServicesDep,
    principal: OptionalPrincipalDep,
) -> AttemptPublic:
    """Progress (`queued`, `processing`) or the result (`passed`, `failed`, `review`, `error`).

    Anyone holding the attempt id sees the status, reason codes and tries left. Scores
    and the action timeline (biometric evidence) are shown to reviewers, admins and
    agency keys with `evidence:read` for the pensioner's region; each such read is audited.
    """
    attempt = get_attempt(db, attempt_id)
    with_evidence = False
    if may_see_evidence(principal) and principal is not None:
        pensioner = db.get(Pensioner, attempt.pensioner_id)
        # evidence belongs to the paying region (staff assisting across regions never see it)
        with_evidence = pensioner is not None and principal.sees_region(pensioner.region_code)
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
            subject_type="attempt", subject_id=str(attempt.id), now=services.clock(),
            ip=client_ip(request),
        )
        db.commit()
    return AttemptPublic.of(attempt, with_evidence=with_evidence, qualification=record, tries_left=left)
