"""Biometric evidence: an attempt's scores and key frames, and reference photos.

Only reviewers, admins, the operator and agency keys with `evidence:read` see it, and
only for pensioners paid in their regions (staff assisting across regions never do):
`EvidenceReaderDep` in api/permissions.py. Every read names a reason and is written to
the append-only audit log.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from models import FaceReference, ReferenceStatus
from service.audit import record_audit
from service.error_codes import ErrorCode
from service.errors import NotFoundError
from service.infra.storage import BlobNotFoundError

from ..agency_schemas import EvidencePublic
from ..auth import Principal
from ..deps import DbDep, NowDep, ServicesDep, client_ip
from ..permissions import EvidenceReaderDep, visible_evidence_attempt, visible_reference_photo

__all__ = [
    "router",
    "ReasonQuery",
    "reference_photo_urls",
    "audit_read",
    "attempt_evidence",
    "key_frame",
    "reference_photo",
]

router = APIRouter(prefix="/v1", tags=["agency: evidence"])

ReasonQuery = Annotated[
    str, Query(min_length=3, max_length=200, description="why you look (written to the audit log)")
]


def reference_photo_urls(db, pensioner_id: uuid.UUID) -> list[str]:
    references = db.query(FaceReference).filter(
        FaceReference.pensioner_id == pensioner_id,
        FaceReference.status.in_([ReferenceStatus.ACTIVE, ReferenceStatus.PENDING]),
        FaceReference.photo_key.is_not(None),
    ).order_by(FaceReference.created_at).all()
    return [f"/v1/pensioners/{pensioner_id}/references/{r.id}/photo" for r in references]


def audit_read(db, principal: Principal, *, what: str, subject_type: str, subject_id: str,
               reason: str, now, request: Request, details: dict | None = None) -> None:
    record_audit(
        db, actor_type=principal.kind, actor_id=principal.actor_id, action=f"evidence.read.{what}",
        subject_type=subject_type, subject_id=subject_id, now=now, reason=reason,
        details=details, ip=client_ip(request),
    )


@router.get("/attempts/{attempt_id}/evidence", response_model=EvidencePublic)
def attempt_evidence(
    attempt_id: uuid.UUID, reason: ReasonQuery, request: Request, db: DbDep, now: NowDep,
    principal: EvidenceReaderDep,
) -> EvidencePublic:
    """Scores, action timeline, thresholds, and links to key frames and reference photos."""
    attempt, pensioner = visible_evidence_attempt(db, principal, attempt_id)
    result = attempt.result or {}
    body = EvidencePublic(
        attempt_id=attempt.id, pensioner_id=attempt.pensioner_id, status=attempt.status,
        reasons=list(attempt.reasons or []), match_distance=attempt.match_distance,
        scores=result.get("scores"), actions=result.get("actions"), timings_ms=result.get("timings_ms"),
        thresholds_version=attempt.thresholds_version, engine_version=attempt.engine_version,
        key_frame_urls=[f"/v1/attempts/{attempt.id}/key-frames/{i}" for i in range(len(attempt.key_frame_keys or []))],
        reference_photo_urls=reference_photo_urls(db, pensioner.id),
        channel=attempt.channel, assisted_by=attempt.assisted_by, device_id=attempt.device_id,
        created_at=attempt.created_at, finished_at=attempt.finished_at,
    )
    audit_read(db, principal, what="scores", subject_type="attempt", subject_id=str(attempt.id),
               reason=reason, now=now, request=request)
    db.commit()
    return body


@router.get("/attempts/{attempt_id}/key-frames/{index}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}})
def key_frame(
    attempt_id: uuid.UUID, index: int, reason: ReasonQuery, request: Request, db: DbDep,
    services: ServicesDep, now: NowDep, principal: EvidenceReaderDep,
) -> Response:
    """One key frame of the attempt (JPEG)."""
    attempt, _ = visible_evidence_attempt(db, principal, attempt_id)
    keys = attempt.key_frame_keys or []
    if not 0 <= index < len(keys):
        raise NotFoundError(ErrorCode.KEY_FRAME_NOT_FOUND, "no such key frame")
    try:
        data = services.store.read(keys[index])
    except BlobNotFoundError:
        raise NotFoundError(ErrorCode.KEY_FRAME_PURGED, "the key frame is no longer stored") from None
    audit_read(db, principal, what="key_frame", subject_type="attempt", subject_id=str(attempt.id),
               reason=reason, now=now, request=request, details={"index": index})
    db.commit()
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})


@router.get("/pensioners/{pensioner_id}/references/{reference_id}/photo", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}})
def reference_photo(
    pensioner_id: uuid.UUID, reference_id: uuid.UUID, reason: ReasonQuery, request: Request,
    db: DbDep, services: ServicesDep, now: NowDep, principal: EvidenceReaderDep,
) -> Response:
    """An enrolled reference photo (JPEG)."""
    reference = visible_reference_photo(db, principal, pensioner_id, reference_id)
    try:
        data = services.store.read(reference.photo_key)
    except BlobNotFoundError:
        raise NotFoundError(ErrorCode.REFERENCE_NOT_FOUND, "no such reference photo") from None
    audit_read(db, principal, what="reference_photo", subject_type="pensioner", subject_id=str(pensioner_id),
               reason=reason, now=now, request=request, details={"reference_id": str(reference.id)})
    db.commit()
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})
