"""Enrolments on hold and their review items. Data functions; they never commit.

An enrolment is put on hold, instead of being refused, where the refusal would tell the
enroler about another region's enrolment: its national ID is already enrolled in a
region the enroler does not see (`HoldReason.DUPLICATE_NATIONAL_ID`). The enroler gets
the same answer as for any enrolment, with `enrolment_status: on_hold`. A held
enrolment has no qualification records, cannot be certified (no session, no link) and
is not in the agencies' feeds. Its review item names both enrolments to the reviewers
of either region; a reviewer who sees both regions (or the operator) decides:

    keep_new    the person moved: the held enrolment becomes active (its records for
                the current period are opened) and the older one is closed (`superseded`)
    reject_new  the held enrolment is closed (`hold_rejected`); the older one stays

A face that matches another pensioner's reference (`HoldReason.DUPLICATE_IDENTITY`,
service/identity.py) holds an enrolment the same way, with one difference: `keep_new`
there means "two different people after all", so the other enrolment stays open.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from models import (
    ClosedReason,
    EnrolmentStatus,
    HoldReason,
    Pensioner,
    Review,
    ReviewKind,
    ReviewState,
)

from .actors import REVIEWING_KINDS, Actor, sees_region
from .error_codes import ErrorCode
from .errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from .records import current_window, ensure_records

__all__ = [
    "HOLD_REVIEW_KINDS",
    "HOLD_DECISIONS",
    "KEEP_NEW",
    "REJECT_NEW",
    "hold_enrolment",
    "list_holds",
    "get_hold",
    "may_decide_hold",
    "decide_hold",
    "MAX_NOTE_CHARS",
    "HoldRow",
]

HOLD_REVIEW_KINDS = {
    HoldReason.DUPLICATE_NATIONAL_ID: ReviewKind.DUPLICATE_ENROLMENT,
    HoldReason.DUPLICATE_IDENTITY: ReviewKind.DUPLICATE_IDENTITY,
}
"""The review kind each hold reason opens."""

KEEP_NEW = "keep_new"
REJECT_NEW = "reject_new"
HOLD_DECISIONS = {
    KEEP_NEW: "the person moved: the new enrolment is kept and the older one is closed",
    REJECT_NEW: "the new enrolment is a mistake (or fraud): it is closed, the older one stays",
}
"""What a reviewer may decide about an enrolment on hold."""

MAX_NOTE_CHARS = 2000


def hold_enrolment(
    db: Session, *, pensioner: Pensioner, reason: HoldReason, other_pensioner_id: uuid.UUID | None, now: dt.datetime
) -> Review:
    """Put a new enrolment on hold and open its review item."""
    if reason not in HOLD_REVIEW_KINDS:
        raise ValueError(f"unknown hold reason {reason!r}")
    pensioner.enrolment_status = EnrolmentStatus.ON_HOLD
    pensioner.hold_reason = reason
    review = Review(
        id=uuid.uuid4(),
        attempt_id=None,
        pensioner_id=pensioner.id,
        region_code=pensioner.region_code,
        other_pensioner_id=other_pensioner_id,
        kind=HOLD_REVIEW_KINDS[reason],
        state=ReviewState.OPEN,
        opened_at=now,
    )
    db.add(review)
    db.flush()
    return review


HoldRow = tuple[Review, Pensioner, Pensioner | None]


def _holds():
    held, other = aliased(Pensioner), aliased(Pensioner)
    query = (
        select(Review, held, other)
        .join(held, held.id == Review.pensioner_id)
        .outerjoin(other, other.id == Review.other_pensioner_id)
        .where(Review.kind.in_(list(HOLD_REVIEW_KINDS.values())))
    )
    return query, held, other


def list_holds(
    db: Session, *, prefixes: Sequence[str] | None, state: str = ReviewState.OPEN, limit: int = 50, offset: int = 0
) -> list[HoldRow]:
    """Hold review items where either enrolment is paid in these regions (None: all),
    oldest first."""
    query, held, other = _holds()
    query = query.where(Review.state == state).order_by(Review.opened_at, Review.id).limit(limit).offset(offset)
    if prefixes is not None:
        query = query.where(
            or_(
                *[held.region_code.like(f"{p}%") for p in prefixes],
                *[other.region_code.like(f"{p}%") for p in prefixes],
            )
            if prefixes
            else held.id.is_(None)
        )
    return [(r[0], r[1], r[2]) for r in db.execute(query).all()]


def get_hold(db: Session, *, review_id: uuid.UUID) -> HoldRow:
    query, _, _ = _holds()
    row = db.execute(query.where(Review.id == review_id)).first()
    if row is None:
        raise NotFoundError(ErrorCode.REVIEW_NOT_FOUND, "no such review")
    return row[0], row[1], row[2]


def may_decide_hold(actor: Actor, held: Pensioner, other: Pensioner | None) -> bool:
    """A reviewer (or administrator, or the operator) who sees both paying regions."""
    return (
        actor.kind in REVIEWING_KINDS
        and sees_region(actor, held.region_code)
        and (other is None or sees_region(actor, other.region_code))
    )


def _close(db: Session, pensioner: Pensioner, *, reason: str, now: dt.datetime, decided_by: str, note: str) -> None:
    pensioner.enrolment_status = EnrolmentStatus.CLOSED
    pensioner.closed_at = now
    pensioner.closed_reason = reason
    pensioner.updated_at = now
    # a closed enrolment that was itself on hold needs no decision any more
    for review in db.scalars(
        select(Review).where(
            Review.pensioner_id == pensioner.id,
            Review.state == ReviewState.OPEN,
            Review.kind.in_(list(HOLD_REVIEW_KINDS.values())),
        )
    ):
        review.state, review.decision = ReviewState.DECIDED, REJECT_NEW
        review.decided_by, review.decided_at, review.note = decided_by[:64], now, note


def decide_hold(
    db: Session, *, review: Review, held: Pensioner, other: Pensioner | None, decision: str,
    decider: Actor, now: dt.datetime, note: str | None = None,
) -> None:
    """Keep or reject an enrolment on hold (see the module docstring)."""
    if review.kind not in HOLD_REVIEW_KINDS.values() or review.pensioner_id != held.id:
        raise ValueError("not the hold review of this enrolment")
    if not may_decide_hold(decider, held, other):
        raise ForbiddenError(
            ErrorCode.HOLD_NEEDS_BOTH_REGIONS, "an enrolment on hold is decided by a reviewer who sees both regions"
        )
    if review.state != ReviewState.OPEN:
        raise ConflictError(ErrorCode.REVIEW_DECIDED, "this review was already decided", decision=review.decision)
    if decision not in HOLD_DECISIONS:
        raise InvalidInputError(ErrorCode.DECISION_INVALID, f"decision must be one of {sorted(HOLD_DECISIONS)}")
    if held.enrolment_status != EnrolmentStatus.ON_HOLD:
        raise ConflictError(ErrorCode.ENROLMENT_NOT_ON_HOLD, "this enrolment is no longer on hold")
    note = (note or "").strip()[:MAX_NOTE_CHARS] or None
    if decision == KEEP_NEW:
        if (
            review.kind == ReviewKind.DUPLICATE_ENROLMENT
            and other is not None
            and other.enrolment_status != EnrolmentStatus.CLOSED
        ):
            _close(db, other, reason=ClosedReason.SUPERSEDED, now=now, decided_by=decider.actor_id,
                   note=f"superseded by {held.id}")
        db.flush()
        if db.scalar(
            select(Pensioner.id).where(
                Pensioner.national_id_hash == held.national_id_hash,
                Pensioner.enrolment_status == EnrolmentStatus.ACTIVE,
                Pensioner.id != held.id,
            )
        ):
            raise ConflictError(
                ErrorCode.NATIONAL_ID_ENROLLED_ELSEWHERE,
                "another active enrolment has this national ID: it must be closed first, or this one rejected",
            )
        held.enrolment_status = EnrolmentStatus.ACTIVE
        held.updated_at = now
        db.flush()
        ensure_records(db, pensioner=held, window=current_window(db, pensioner=held, now=now), now=now)
    else:
        _close(db, held, reason=ClosedReason.HOLD_REJECTED, now=now, decided_by=decider.actor_id, note=note or "")
    review.state = ReviewState.DECIDED
    review.decision = decision
    review.note = note
    review.decided_by = decider.actor_id[:64]
    review.decided_at = now
    db.flush()
