"""Attempt status and result: polled by the capture page, read in full by operators."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from sqlalchemy import select

from models import AttemptStatus, QualificationRecord
from service.certification import get_attempt, tries_left

from ..deps import DbDep, OptionalOperatorDep, ServicesDep
from ..schemas import AttemptPublic

router = APIRouter(prefix="/v1/attempts", tags=["certification"])


@router.get("/{attempt_id}", response_model=AttemptPublic)
def read(
    attempt_id: uuid.UUID, db: DbDep, services: ServicesDep, is_operator: OptionalOperatorDep
) -> AttemptPublic:
    """Progress (`queued`, `processing`) or the result (`passed`, `failed`, `review`, `error`).

    Anyone holding the attempt id sees the status, reason codes and tries left; scores
    and the action timeline are shown to operators only.
    """
    attempt = get_attempt(db, attempt_id)
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
    return AttemptPublic.of(attempt, with_evidence=is_operator, qualification=record, tries_left=left)
