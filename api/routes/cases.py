"""Community staff's caseload for their region, and one pensioner's case in full."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Attempt, FaceReference, StaffUser
from service.caseload import (
    CASE_STATES,
    CASELOAD_PAGE_SIZE,
    MAX_CASELOAD_PAGE_SIZE,
    case_row,
    caseload,
)
from service.error_codes import ErrorCode
from service.errors import InvalidInputError, NotFoundError

from ..deps import DbDep, NowDep, ServicesDep
from ..permissions import CaseworkerDep, allowed_prefixes, visible_pensioner
from ..schemas_cases import (
    AttemptSummary,
    CaseDetail,
    CaseloadPublic,
    CasePublic,
    ReferenceView,
)

__all__ = ["router", "CASE_ATTEMPTS_SHOWN", "staff_names", "reference_view", "list_cases", "read"]

router = APIRouter(prefix="/v1/cases", tags=["staff caseload"])

CASE_ATTEMPTS_SHOWN = 20
"""Attempts listed on one case (newest first)."""


def staff_names(db: Session, actor_ids: Iterable[str | None]) -> dict[str, str]:
    """Display names of staff accounts named by actor id (other actors are left out)."""
    ids = set()
    for actor in actor_ids:
        try:
            ids.add(uuid.UUID(str(actor)))
        except ValueError:
            continue
    if not ids:
        return {}
    rows = db.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(ids)))
    return {str(row.id): row.display_name for row in rows}


def reference_view(reference: FaceReference, names: dict[str, str]) -> ReferenceView:
    return ReferenceView(
        id=reference.id,
        pensioner_id=reference.pensioner_id,
        source=reference.source,
        status=reference.status,
        created_by=reference.created_by,
        created_by_name=names.get(reference.created_by or ""),
        created_at=reference.created_at,
        decided_by=reference.decided_by,
        decided_by_name=names.get(reference.decided_by or ""),
        decided_at=reference.decided_at,
        decision_reason=reference.decision_reason,
        has_photo=reference.photo_key is not None,
        photo_url=f"/v1/references/{reference.id}/photo" if reference.photo_key else None,
    )


@router.get("", response_model=CaseloadPublic)
def list_cases(
    db: DbDep,
    services: ServicesDep,
    now: NowDep,
    principal: CaseworkerDep,
    state: Annotated[str | None, Query(description=f"one of {', '.join(CASE_STATES)}")] = None,
    q: Annotated[str | None, Query(max_length=50, description="part of the name")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_CASELOAD_PAGE_SIZE)] = CASELOAD_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CaseloadPublic:
    """Pensioners of the caller's regions, counted by state; one page of one state listed."""
    if state is not None and state not in CASE_STATES:
        raise InvalidInputError(ErrorCode.STATE_INVALID, f"state must be one of {', '.join(CASE_STATES)}")
    page = caseload(
        db,
        region_prefixes=allowed_prefixes(principal),
        now=now,
        max_failed=services.settings.max_failed_attempts,
        state=state,
        query=q,
        limit=limit,
        offset=offset,
    )
    today = now.date()
    return CaseloadPublic(
        period=page.period,
        counts=page.counts,
        state=state,
        total=page.total,
        limit=limit,
        offset=offset,
        items=[CasePublic.of(row, today=today) for row in page.items],
    )


@router.get("/{pensioner_id}", response_model=CaseDetail)
def read(
    pensioner_id: uuid.UUID, db: DbDep, services: ServicesDep, now: NowDep, principal: CaseworkerDep
) -> CaseDetail:
    """One pensioner's case: state, recent attempts (who assisted, on which device),
    reference photos and their approval."""
    visible_pensioner(db, principal, pensioner_id)
    max_failed = services.settings.max_failed_attempts
    row = case_row(db, pensioner_id=pensioner_id, now=now, max_failed=max_failed)
    if row is None:
        raise NotFoundError(ErrorCode.PENSIONER_NOT_FOUND, "no such pensioner")
    attempts = db.scalars(
        select(Attempt)
        .where(Attempt.pensioner_id == pensioner_id)
        .order_by(Attempt.created_at.desc())
        .limit(CASE_ATTEMPTS_SHOWN)
    ).all()
    references = db.scalars(
        select(FaceReference)
        .where(FaceReference.pensioner_id == pensioner_id)
        .order_by(FaceReference.created_at.desc())
    ).all()
    names = staff_names(
        db,
        [a.assisted_by for a in attempts]
        + [r.created_by for r in references]
        + [r.decided_by for r in references],
    )
    return CaseDetail(
        case=CasePublic.of(row, today=now.date()),
        attempts=[
            AttemptSummary(
                id=a.id, period=a.period, status=a.status, reasons=list(a.reasons or []),
                channel=a.channel, assisted_by=a.assisted_by,
                assisted_by_name=names.get(a.assisted_by or ""), device_id=a.device_id,
                consent_at=a.consent_at, uploaded_late=bool(a.uploaded_late),
                created_at=a.created_at, finished_at=a.finished_at,
            )
            for a in attempts
        ],
        references=[reference_view(r, names) for r in references],
        max_attempts=max_failed,
    )
