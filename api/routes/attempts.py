"""Attempt status and result: polled by the capture page, read in full by operators."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from sqlalchemy import select

from models import AttemptStatus, Pensioner, QualificationRecord
from service.audit import record_audit
from service.certification import get_attempt, tries_left
from service.links import pensioner_of_pass

from ..access import may_see_evidence
from ..auth import OptionalPrincipalDep
from ..credentials import LinkPassDep
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
    page_pass: LinkPassDep,
) -> AttemptPublic:
    """Progress (`queued`, `processing`) or the result (`passed`, `failed`, `review`, `error`).

    The attempt id alone shows the status, reason codes, tries left and validity (what
    the result page needs). The pensioner's own page (its `X-Link-Pass`) and credentials
    that see the pensioner also get the ids and the qualification record. Scores and the
    action timeline (biometric evidence) are shown to reviewers, admins and agency keys
    with `evidence:read` for the pensioner's paying region; each such read is audited.
    """
    attempt = get_attempt(db, attempt_id)
    now = services.clock()
    pensioner = db.get(Pensioner, attempt.pensioner_id)
    owner = (principal is not None and pensioner is not None and principal.sees_pensioner(pensioner)) or (
        pensioner_of_pass(
            db, secret=services.settings.secret_key.get_secret_value(), page_pass=page_pass, now=now
        ) == attempt.pensioner_id
    )
    # evidence belongs to the paying region (staff assisting across regions never see it)
    with_evidence = (
        may_see_evidence(principal) and principal is not None and pensioner is not None
        and principal.sees_region(pensioner.region_code)
    )
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
