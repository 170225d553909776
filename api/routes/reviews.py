"""The manual review queue for reviewers, appeals after a lockout, and enrolments on hold."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from models import AttemptStatus, Method, ReviewState
from service.admission import tries_left
from service.audit import record_audit
from service.certificates import issue_certificates
from service.certification import get_attempt
from service.error_codes import ErrorCode
from service.errors import NotFoundError
from service.holds import HOLD_DECISIONS, decide_hold, list_holds, may_decide_hold
from service.notify import announce_changes
from service.pensioners import get_pensioner
from service.records import Certification, certify_period, note_decision
from service.reviews import (
    REVIEW_PAGE_SIZE,
    REVIEW_REASONS,
    appeal_attempt,
    decide_review,
    list_reviews,
)

from ..agency_schemas import (
    AppealCreate,
    AppealPublic,
    EnrolmentBrief,
    HoldDecisionCreate,
    HoldReviewPublic,
    ReviewDecisionCreate,
    ReviewDetailPublic,
    ReviewItemPublic,
)
from ..auth import Principal
from ..deps import DbDep, NowDep, ServicesDep, client_ip
from ..permissions import CallerDep, ReviewerDep, allowed_prefixes, visible_hold, visible_review
from .evidence import audit_read, reference_photo_urls

__all__ = ["router", "holds", "hold", "decide_on_hold", "queue", "detail", "decide", "appeal"]

router = APIRouter(prefix="/v1", tags=["agency: reviews"])


def _item(review, attempt, pensioner) -> dict:
    return dict(
        attempt_id=attempt.id, pensioner_id=pensioner.id, national_id_masked=pensioner.national_id_masked,
        name=pensioner.name, region_code=pensioner.region_code, kind=review.kind, state=review.state,
        attempt_status=attempt.status, reasons=list(attempt.reasons or []), period=attempt.period,
        channel=attempt.channel, assisted_by=attempt.assisted_by, appeal_note=review.appeal_note,
        opened_at=review.opened_at, decided_by=review.decided_by, decided_at=review.decided_at,
        decision=review.decision, reason=review.reason, other_pensioner_id=review.other_pensioner_id,
    )


def _hold_item(review, held, other, principal: Principal) -> HoldReviewPublic:
    return HoldReviewPublic(
        review_id=review.id, kind=review.kind, hold_reason=held.hold_reason, state=review.state,
        opened_at=review.opened_at, enrolment=EnrolmentBrief.of(held),
        other=EnrolmentBrief.of(other) if other is not None else None,
        may_decide=review.state == ReviewState.OPEN and may_decide_hold(principal, held, other),
        decisions=HOLD_DECISIONS, decision=review.decision, note=review.note, decided_by=review.decided_by,
        decided_at=review.decided_at,
    )


# declared before /reviews/{attempt_id}, which would otherwise take "enrolments" for an id
@router.get("/reviews/enrolments", response_model=list[HoldReviewPublic])
def holds(
    db: DbDep, principal: ReviewerDep,
    state: Annotated[str, Query(pattern="^(open|decided)$")] = ReviewState.OPEN,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = REVIEW_PAGE_SIZE,
) -> list[HoldReviewPublic]:
    """Enrolments on hold (oldest first) where either enrolment is paid in the reviewer's
    regions: for example a national ID enrolled again in another region. Each names both
    enrolments; a reviewer who sees both regions (`may_decide`) decides."""
    rows = list_holds(db, prefixes=allowed_prefixes(principal), state=state, limit=limit, offset=offset)
    return [_hold_item(*row, principal) for row in rows]


@router.get("/reviews/enrolments/{review_id}", response_model=HoldReviewPublic)
def hold(review_id: uuid.UUID, db: DbDep, principal: ReviewerDep) -> HoldReviewPublic:
    return _hold_item(*visible_hold(db, principal, review_id), principal)


@router.post("/reviews/enrolments/{review_id}/decision", response_model=HoldReviewPublic)
def decide_on_hold(
    review_id: uuid.UUID, body: HoldDecisionCreate, request: Request, db: DbDep, services: ServicesDep,
    now: NowDep, principal: ReviewerDep,
) -> HoldReviewPublic:
    """Decide an enrolment on hold, as a reviewer who sees both regions (else 403
    `hold_needs_both_regions`): `keep_new` (the person moved: the held enrolment becomes
    certifiable, the older one is closed) or `reject_new` (the held one is closed). Audited."""
    review, held, other = visible_hold(db, principal, review_id)
    decide_hold(db, review=review, held=held, other=other, decision=body.decision, note=body.note,
                decider=principal, now=now)
    record_audit(
        db, actor_type=principal.kind, actor_id=principal.actor_id, action="enrolment.hold_decide",
        subject_type="pensioner", subject_id=str(held.id), now=now, reason=body.note, ip=client_ip(request),
        details={"review_id": str(review.id), "kind": review.kind, "decision": body.decision,
                 "other_pensioner_id": str(other.id) if other is not None else None,
                 "other_status": other.enrolment_status if other is not None else None},
    )
    db.commit()
    announce_changes(services)
    return _hold_item(review, held, other, principal)


@router.get("/reviews", response_model=list[ReviewItemPublic])
def queue(
    db: DbDep, principal: ReviewerDep,
    state: Annotated[str, Query(pattern="^(open|decided)$")] = ReviewState.OPEN,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = REVIEW_PAGE_SIZE,
) -> list[ReviewItemPublic]:
    """Attempts waiting for a person (oldest first) in the reviewer's regions. No
    biometric evidence here: open one item to see it (that read is audited)."""
    rows = list_reviews(db, prefixes=allowed_prefixes(principal), state=state, limit=limit, offset=offset)
    return [ReviewItemPublic(**_item(*row)) for row in rows]


@router.get("/reviews/{attempt_id}", response_model=ReviewDetailPublic)
def detail(
    attempt_id: uuid.UUID, request: Request, db: DbDep, now: NowDep, principal: ReviewerDep,
) -> ReviewDetailPublic:
    """One review with the scores, key frames and reference photos (audited read)."""
    review, attempt, pensioner = visible_review(db, principal, attempt_id)
    result = attempt.result or {}
    body = ReviewDetailPublic(
        **_item(review, attempt, pensioner),
        scores=result.get("scores"), match_distance=attempt.match_distance, actions=result.get("actions"),
        thresholds_version=attempt.thresholds_version, engine_version=attempt.engine_version,
        key_frame_urls=[f"/v1/attempts/{attempt.id}/key-frames/{i}" for i in range(len(attempt.key_frame_keys or []))],
        reference_photo_urls=reference_photo_urls(db, pensioner.id),
        decision_reasons=REVIEW_REASONS,
    )
    audit_read(db, principal, what="scores", subject_type="attempt", subject_id=str(attempt.id),
               reason="manual review", now=now, request=request)
    db.commit()
    return body


@router.post("/reviews/{attempt_id}/decision", response_model=ReviewItemPublic)
def decide(
    attempt_id: uuid.UUID, body: ReviewDecisionCreate, request: Request, db: DbDep,
    services: ServicesDep, now: NowDep, principal: ReviewerDep,
) -> ReviewItemPublic:
    """Decide a review: `passed` certifies the period (method `review`, every scheme, with
    a certificate); `failed` shows the reviewer's reason on the records. Audited."""
    review, attempt, pensioner = visible_review(db, principal, attempt_id)
    decide_review(db, review=review, attempt=attempt, decision=body.decision, reason=body.reason,
                  note=body.note, reviewer=principal.actor_id, now=now)
    if body.decision == AttemptStatus.PASSED:
        changed = certify_period(
            db, pensioner=pensioner, period=attempt.period, now=now,
            validity_days=services.settings.period_validity_days,
            how=Certification(method=Method.REVIEW, attempt_id=attempt.id, assisted_by=attempt.assisted_by,
                              decided_by=principal.actor_id),
        )
        issue_certificates(db, keyring=services.keyring, pensioner=pensioner, records=changed, now=now)
    else:
        note_decision(db, pensioner=pensioner, attempt=attempt, now=now)
    record_audit(
        db, actor_type=principal.kind, actor_id=principal.actor_id, action="review.decide",
        subject_type="attempt", subject_id=str(attempt.id), now=now, reason=body.reason,
        details={"decision": body.decision, "note": body.note, "kind": review.kind}, ip=client_ip(request),
    )
    db.commit()
    announce_changes(services)
    return ReviewItemPublic(**_item(review, attempt, pensioner))


@router.post("/attempts/{attempt_id}/appeal", status_code=201, response_model=AppealPublic)
def appeal(
    attempt_id: uuid.UUID, request: Request, db: DbDep, services: ServicesDep, now: NowDep,
    caller: CallerDep, body: AppealCreate | None = None,
) -> AppealPublic:
    """Ask for a person to review a failed attempt once no tries are left this period.

    Made from the pensioner's own result page (its `X-Link-Pass`) or by someone who sees
    the pensioner; the attempt id alone is not enough (404). The answer says nothing
    about the pensioner; a second appeal of the same attempt is refused (409
    `appeal_exists`).
    """
    attempt = get_attempt(db, attempt_id)
    pensioner = get_pensioner(db, attempt.pensioner_id)
    if not caller.acts_for(pensioner):
        raise NotFoundError(ErrorCode.ATTEMPT_NOT_FOUND, "no such attempt")
    left = tries_left(db, pensioner_id=attempt.pensioner_id, period=attempt.period,
                      limit=services.settings.max_failed_attempts)
    review = appeal_attempt(db, attempt=attempt, note=(body.note if body else None), now=now, tries_left=left)
    principal = caller.principal
    record_audit(
        db, actor_type=principal.kind if principal else "pensioner",
        actor_id=principal.actor_id if principal else f"attempt:{attempt.id}", action="review.appeal",
        subject_type="attempt", subject_id=str(attempt.id), now=now, reason="appeal after lockout",
        ip=client_ip(request),
    )
    db.commit()
    return AppealPublic(attempt_id=attempt.id, kind=review.kind, state=review.state, opened_at=review.opened_at)
