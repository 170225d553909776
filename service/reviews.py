"""The manual review queue. Data functions; they never commit.

The engine sends an attempt to review when its scores fall between the accept and
reject thresholds; a pensioner locked out after too many failed attempts may appeal
the last one. A reviewer's decision replaces the attempt's status and settles the
period's records (method `review`); the route writes it to the audit log.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import (
    Attempt,
    AttemptStatus,
    Pensioner,
    QualificationRecord,
    RecordStatus,
    Review,
    ReviewKind,
    ReviewState,
)

from .error_codes import ErrorCode
from .errors import ConflictError, InvalidInputError, NotFoundError

__all__ = [
    "open_review",
    "appeal_attempt",
    "list_reviews",
    "get_review",
    "decide_review",
    "REVIEW_REASONS",
    "REVIEW_PAGE_SIZE",
]

REVIEW_PAGE_SIZE = 50
"""Reviews listed per page."""

REVIEW_REASONS = {
    "passed": {
        "same_person_live": "the reviewer saw the same, live person",
    },
    "failed": {
        "different_person": "the person in the video is not the pensioner",
        "not_live": "a photo, screen or mask instead of a live person",
        "challenge_not_done": "the challenged actions were not performed",
        "unusable_video": "the video does not allow a decision",
    },
}
"""The reasons a reviewer may give, per decision (codes shown on the records and feed)."""


def open_review(
    db: Session, *, attempt: Attempt, kind: str, now: dt.datetime, appeal_note: str | None = None
) -> Review:
    """The attempt's review item, opened if there is none yet."""
    review = db.scalar(select(Review).where(Review.attempt_id == attempt.id))
    if review is not None:
        return review
    review = Review(
        id=uuid.uuid4(),
        attempt_id=attempt.id,
        pensioner_id=attempt.pensioner_id,
        region_code=db.scalar(select(Pensioner.region_code).where(Pensioner.id == attempt.pensioner_id)),
        kind=kind,
        state=ReviewState.OPEN,
        appeal_note=appeal_note,
        opened_at=now,
    )
    db.add(review)
    db.flush()
    return review


def appeal_attempt(
    db: Session, *, attempt: Attempt, note: str | None, now: dt.datetime, tries_left: int
) -> Review:
    """Ask for a person to look at a failed attempt once no tries are left this period."""
    if attempt.status != AttemptStatus.FAILED:
        raise ConflictError(ErrorCode.APPEAL_NOT_FAILED, "only a failed attempt can be appealed")
    if tries_left > 0:
        raise ConflictError(
            ErrorCode.APPEAL_TRIES_LEFT, "tries are left this period; record again first", tries_left=tries_left
        )
    if db.scalar(select(Review.id).where(Review.attempt_id == attempt.id)):
        raise ConflictError(ErrorCode.APPEAL_EXISTS, "this attempt is already under review")
    satisfied = db.scalar(
        select(QualificationRecord.id).where(
            QualificationRecord.pensioner_id == attempt.pensioner_id,
            QualificationRecord.period == attempt.period,
            QualificationRecord.status.in_(list(RecordStatus.SATISFIED)),
        )
    )
    if satisfied:
        raise ConflictError(ErrorCode.ALREADY_CERTIFIED, "the period is already certified")
    return open_review(
        db, attempt=attempt, kind=ReviewKind.APPEAL, now=now, appeal_note=(note or "").strip()[:2000] or None
    )


def _in_regions(prefixes: Sequence[str] | None):
    if prefixes is None:
        return None
    return or_(*(Pensioner.region_code.like(f"{p}%") for p in prefixes))


def list_reviews(
    db: Session,
    *,
    prefixes: Sequence[str] | None,
    state: str = ReviewState.OPEN,
    limit: int = REVIEW_PAGE_SIZE,
    offset: int = 0,
) -> list[tuple[Review, Attempt, Pensioner]]:
    """Review items of pensioners paid in these regions (None: all), oldest first."""
    query = (
        select(Review, Attempt, Pensioner)
        .join(Attempt, Attempt.id == Review.attempt_id)
        .join(Pensioner, Pensioner.id == Review.pensioner_id)
        .where(Review.state == state)
        .order_by(Review.opened_at, Review.id)
        .limit(limit)
        .offset(offset)
    )
    condition = _in_regions(prefixes)
    if condition is not None:
        query = query.where(condition)
    return [tuple(row) for row in db.execute(query).all()]  # type: ignore[misc]


def get_review(db: Session, *, attempt_id: uuid.UUID) -> tuple[Review, Attempt, Pensioner]:
    row = db.execute(
        select(Review, Attempt, Pensioner)
        .join(Attempt, Attempt.id == Review.attempt_id)
        .join(Pensioner, Pensioner.id == Review.pensioner_id)
        .where(Review.attempt_id == attempt_id)
    ).first()
    if row is None:
        raise NotFoundError(ErrorCode.REVIEW_NOT_FOUND, "no review for this attempt")
    return row[0], row[1], row[2]


def decide_review(
    db: Session,
    *,
    review: Review,
    attempt: Attempt,
    decision: str,
    reason: str,
    note: str | None,
    reviewer: str,
    now: dt.datetime,
) -> None:
    """Record the reviewer's decision on the review and the attempt (records: see caller)."""
    if review.state != ReviewState.OPEN:
        raise ConflictError(ErrorCode.REVIEW_DECIDED, "this review was already decided", decision=review.decision)
    if decision not in REVIEW_REASONS:
        raise InvalidInputError(ErrorCode.DECISION_INVALID, "decision must be 'passed' or 'failed'")
    if reason not in REVIEW_REASONS[decision]:
        raise InvalidInputError(
            ErrorCode.REVIEW_REASON_INVALID, f"reason must be one of {sorted(REVIEW_REASONS[decision])}"
        )
    review.state = ReviewState.DECIDED
    review.decision = decision
    review.reason = reason
    review.note = (note or "").strip()[:2000] or None
    review.decided_by = reviewer[:64]
    review.decided_at = now
    attempt.status = decision
    attempt.reasons = [] if decision == AttemptStatus.PASSED else [f"review_{reason}"]
    db.flush()


