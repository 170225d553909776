"""Reference photos waiting for a second person's approval, and their images."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from models import ReferenceStatus
from service.audit import record_audit
from service.error_codes import ErrorCode
from service.errors import InvalidInputError, NotFoundError
from service.infra.storage import BlobNotFoundError
from service.reference_review import (
    decide_reference,
    distance_to_active,
    likeness,
    may_approve,
    pending_references,
)

from ..auth import Principal
from ..deps import DbDep, NowDep, ServicesDep, client_ip
from ..permissions import CaseworkerDep, allowed_prefixes, visible_reference
from ..schemas_cases import PendingReference, ReferenceReject, ReferenceView
from .cases import reference_view, staff_names

__all__ = ["router", "PENDING_SHOWN", "list_pending", "photo", "approve", "reject"]

router = APIRouter(prefix="/v1/references", tags=["reference photos"])

PENDING_SHOWN = 100
"""Pending photos listed at once (oldest first)."""


@router.get("", response_model=list[PendingReference])
def list_pending(
    db: DbDep,
    services: ServicesDep,
    principal: CaseworkerDep,
    status: Annotated[str, Query(pattern="^pending$")] = ReferenceStatus.PENDING,
) -> list[PendingReference]:
    """Staff-captured photos of the caller's regions waiting for approval, oldest first,
    with how close each face is to the pensioner's enrolled photos."""
    rows = pending_references(db, region_prefixes=allowed_prefixes(principal), limit=PENDING_SHOWN)
    names = staff_names(db, [r.created_by for r, _ in rows])
    items = []
    for reference, pensioner in rows:
        active = [
            r for r in pensioner.references
            if r.status == ReferenceStatus.ACTIVE and r.photo_key is not None
        ]
        nearest = distance_to_active(db, keyring=services.keyring, reference=reference)
        distance = nearest[0] if nearest is not None else None
        items.append(
            PendingReference(
                reference=reference_view(reference, names),
                pensioner_name=pensioner.name,
                national_id_masked=pensioner.national_id_masked,
                region_code=pensioner.region_code,
                distance_to_active=distance,
                likeness=likeness(*nearest) if nearest is not None else likeness(None),
                active_photo_urls=[f"/v1/references/{r.id}/photo" for r in active[-2:]],
                mine=reference.created_by == principal.actor_id,
                may_approve=may_approve(reference, pensioner, principal),
            )
        )
    return items


@router.get(
    "/{reference_id}/photo",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "the photo"}},
)
def photo(
    reference_id: uuid.UUID,
    request: Request,
    db: DbDep,
    services: ServicesDep,
    now: NowDep,
    principal: CaseworkerDep,
) -> Response:
    """The photo itself (biometric data: every read is written to the audit log)."""
    reference, _ = visible_reference(db, principal, reference_id)
    if reference.photo_key is None:
        raise NotFoundError(ErrorCode.PHOTO_NOT_FOUND, "this reference has no stored photo")
    try:
        data = services.store.read(reference.photo_key)
    except BlobNotFoundError:
        raise NotFoundError(ErrorCode.PHOTO_NOT_FOUND, "the photo is no longer stored") from None
    record_audit(
        db, actor_type=principal.kind, actor_id=principal.actor_id, action="reference.photo_read",
        subject_type="reference", subject_id=str(reference.id), now=now, ip=client_ip(request),
    )
    db.commit()
    return Response(
        data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"}
    )


def _decide(
    reference_id: uuid.UUID, approve: bool, reason: str | None, request: Request,
    db: DbDep, now: NowDep, principal: Principal,
) -> ReferenceView:
    reference, pensioner = visible_reference(db, principal, reference_id)
    decide_reference(
        db, reference=reference, pensioner=pensioner, decider=principal, approve=approve, reason=reason, now=now
    )
    record_audit(
        db, actor_type=principal.kind, actor_id=principal.actor_id,
        action="reference.approve" if approve else "reference.reject",
        subject_type="pensioner", subject_id=str(reference.pensioner_id), now=now,
        reason=reason, ip=client_ip(request), details={"reference_id": str(reference.id)},
    )
    db.commit()
    names = staff_names(db, [reference.created_by, reference.decided_by])
    return reference_view(reference, names)


@router.post("/{reference_id}/approve", response_model=ReferenceView)
def approve(
    reference_id: uuid.UUID, request: Request, db: DbDep, now: NowDep, principal: CaseworkerDep
) -> ReferenceView:
    """Approve a pending photo: it is used for matching from now on. Not by its taker
    (403 `approver_is_creator`), and only by the pensioner's paying region: a photo taken
    outside it (where the pensioner lives) only by a reviewer of the paying region
    (403 `paying_region_approval_required`)."""
    return _decide(reference_id, True, None, request, db, now, principal)


@router.post("/{reference_id}/reject", response_model=ReferenceView)
def reject(
    reference_id: uuid.UUID,
    body: ReferenceReject,
    request: Request,
    db: DbDep,
    now: NowDep,
    principal: CaseworkerDep,
) -> ReferenceView:
    """Reject a pending photo, saying why. Not by its taker."""
    if not body.reason.strip():
        raise InvalidInputError(ErrorCode.REASON_REQUIRED, "say why the photo is rejected")
    return _decide(reference_id, False, body.reason, request, db, now, principal)
