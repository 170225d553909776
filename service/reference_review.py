"""The second pair of eyes on new reference photos. Data functions; never commit.

A photo taken by community staff is stored `pending`; it becomes `active` (used for
matching) only when a different person (another staff member or a reviewer) approves it,
and it can be rejected instead. The person who captured a photo can never decide it.

A reference decides whose face certifies a pension, so a change needs the region that
pays it: a photo added by anyone who does not see the pensioner's paying region (staff,
an administrator or an enrolment key of the region the pensioner lives in) is always
stored `pending`, and only a reviewer (or administrator, or the operator) who sees the
paying region may approve it. Nobody outside the paying region approves any photo.
Whoever may see a pending photo (other than its taker) may reject it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from certify import CURRENT_THRESHOLDS, embedding_distance
from certify.match import match_verdict
from models import FaceReference, Pensioner, ReferenceSource, ReferenceStatus, StaffRole

from .actors import REVIEWING_KINDS, Actor, sees_region
from .error_codes import ErrorCode
from .errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from .infra.crypto import Keyring
from .pensioners import active_embeddings, embedding_of

__all__ = [
    "ReferenceIntake",
    "intake_for",
    "may_approve",
    "pending_references",
    "decide_reference",
    "distance_to_active",
    "likeness",
    "get_reference",
    "MAX_DECISION_REASON_CHARS",
]

MAX_DECISION_REASON_CHARS = 200


@dataclass(frozen=True, slots=True)
class ReferenceIntake:
    """How a new reference photo enters: its source and status, and whether it came
    from outside the pensioner's paying region."""

    source: str
    status: str
    outside_paying_region: bool


def intake_for(pensioner: Pensioner, *, added_by: Actor) -> ReferenceIntake:
    """Staff photos, and every photo from outside the paying region, wait for approval."""
    outside = not sees_region(added_by, pensioner.region_code)
    by_staff = added_by.kind == StaffRole.STAFF
    return ReferenceIntake(
        source=ReferenceSource.STAFF_CAPTURE if by_staff else ReferenceSource.UPLOAD,
        status=ReferenceStatus.PENDING if by_staff or outside else ReferenceStatus.ACTIVE,
        outside_paying_region=outside,
    )


def _approval_refusal(reference: FaceReference, pensioner: Pensioner, decider: Actor) -> ForbiddenError | None:
    if reference.created_by is not None and reference.created_by == decider.actor_id:
        return ForbiddenError(
            ErrorCode.APPROVER_IS_CREATOR, "a photo must be approved by someone other than who took it"
        )
    if not sees_region(decider, pensioner.region_code):
        return ForbiddenError(
            ErrorCode.PAYING_REGION_APPROVAL_REQUIRED,
            "a new reference photo is approved by the region that pays the pension",
        )
    if reference.added_outside_paying_region and decider.kind not in REVIEWING_KINDS:
        return ForbiddenError(
            ErrorCode.PAYING_REGION_APPROVAL_REQUIRED,
            "this photo was taken outside the paying region: a reviewer of the paying region approves it",
        )
    return None


def may_approve(reference: FaceReference, pensioner: Pensioner, decider: Actor) -> bool:
    """Whether `decider` may approve this pending photo (for the approvals page)."""
    return reference.status == ReferenceStatus.PENDING and _approval_refusal(reference, pensioner, decider) is None


def get_reference(db: Session, reference_id: uuid.UUID) -> FaceReference:
    reference = db.get(FaceReference, reference_id)
    if reference is None:
        raise NotFoundError(ErrorCode.REFERENCE_NOT_FOUND, "no such reference photo")
    return reference


def pending_references(
    db: Session, *, region_prefixes: Sequence[str] | None, limit: int = 100
) -> list[tuple[FaceReference, Pensioner]]:
    """Photos waiting for approval in these regions (None: all), oldest first."""
    query = (
        select(FaceReference, Pensioner)
        .join(Pensioner, Pensioner.id == FaceReference.pensioner_id)
        .where(FaceReference.status == ReferenceStatus.PENDING)
    )
    if region_prefixes is not None:
        query = query.where(
            or_(
                *[Pensioner.region_code.like(f"{p}%") for p in region_prefixes],
                *[Pensioner.residence_region_code.like(f"{p}%") for p in region_prefixes],
            )
            if region_prefixes
            else Pensioner.id.is_(None)
        )
    rows = db.execute(query.order_by(FaceReference.created_at).limit(limit)).all()
    return [(r[0], r[1]) for r in rows]


def distance_to_active(
    db: Session, *, keyring: Keyring, reference: FaceReference
) -> tuple[float, str] | None:
    """Smallest face distance from this photo to the pensioner's active references, with
    that reference's quality class (None when there are none): tells the approver
    whether it looks like the same person."""
    anchors = active_embeddings(db, keyring=keyring, pensioner_id=reference.pensioner_id)
    if not anchors:
        return None
    probe = embedding_of(reference, keyring=keyring)
    distance, quality_class = min(
        (embedding_distance(a.embedding, probe), a.quality_class.value) for a in anchors
    )
    return distance, quality_class


_LIKENESS = {"match": "same", "uncertain": "unsure", "mismatch": "different"}


def likeness(distance: float | None, quality_class: str = "full") -> str:
    """The engine's own verdict bands (of the nearest reference's quality class), in words
    for the approver: `same` (it would accept the match), `unsure` (it would send it to
    review), `different`, or `no_enrolled`."""
    if distance is None:
        return "no_enrolled"
    return _LIKENESS[match_verdict(distance, CURRENT_THRESHOLDS, quality_class)]


def decide_reference(
    db: Session,
    *,
    reference: FaceReference,
    pensioner: Pensioner,
    decider: Actor,
    approve: bool,
    now: dt.datetime,
    reason: str | None = None,
) -> FaceReference:
    """Approve (-> active) or reject a pending photo; never by the person who took it,
    and approved only by the paying region (see the module docstring)."""
    if reference.status != ReferenceStatus.PENDING:
        raise ConflictError(
            ErrorCode.REFERENCE_NOT_PENDING, f"this photo is {reference.status}, not waiting for approval"
        )
    if reference.pensioner_id != pensioner.id:
        raise ValueError("the reference photo belongs to another pensioner")
    if approve:
        refusal = _approval_refusal(reference, pensioner, decider)
        if refusal is not None:
            raise refusal
    elif reference.created_by is not None and reference.created_by == decider.actor_id:
        raise ForbiddenError(
            ErrorCode.APPROVER_IS_CREATOR, "a photo must be approved by someone other than who took it"
        )
    if not approve and not (reason or "").strip():
        raise InvalidInputError(ErrorCode.REASON_REQUIRED, "say why the photo is rejected")
    reference.status = ReferenceStatus.ACTIVE if approve else ReferenceStatus.REJECTED
    reference.decided_by = decider.actor_id[:64]
    reference.decided_at = now
    reference.decision_reason = (reason or "").strip()[:MAX_DECISION_REASON_CHARS] or None
    return reference
