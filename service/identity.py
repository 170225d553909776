"""One face behind several pensions: the identity search at enrolment and certification.

Every reference face (API, bulk enrolment, staff photo, CLI, a passed certification's
fresh reference) and every certification's live face is stored as a protected template
(service/identity_index.py) and searched among the other pensioners' faces, nearest
scope first: the pensioner's county, then its province, then everywhere, up to
`identity_search_scope`. Data functions; they never commit.

- A new reference within its accept distance of another pensioner's reference (the
  larger accept distance of the two references' quality classes, certify.thresholds)
  puts the enrolment on hold, `duplicate_identity` (service/holds.py): the review item
  names the other pensioner, to reviewers only.
- A live face that matches another pensioner's reference within that reference's
  accept distance, and better than the claimed pensioner's references, adds
  `face_matches_other_pensioner`; a live face within the `full` accept distance of
  another pensioner's certification in the last `identity_probe_window_days` adds
  `face_certified_other_pensioner`. Either sends the attempt to review, never to
  `passed`; an attempt failed only on the face match goes to review too (the wrong
  pensioner's video is exactly what reviewers must see). The review item names the
  other pensioner.

With `identity_search` off nothing is stored or searched.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from certify import CURRENT_THRESHOLDS, Assessment
from certify.identity_index import SCOPES_WIDENING, Hit, IdentityIndex, SearchScope
from certify.reasons import REASON_GROUPS, ProcessingReason
from models import (
    Attempt,
    AttemptStatus,
    EnrolmentStatus,
    FaceReference,
    HoldReason,
    IdentityTemplate,
    Pensioner,
    ReferenceStatus,
    Review,
    ReviewKind,
    ReviewState,
    TemplateKind,
)

from .certification import Outcome
from .context import Services
from .holds import hold_enrolment
from .identity_index import LiveIdentityIndex

__all__ = [
    "IdentityMatch",
    "store_template",
    "search_scopes",
    "nearest_other_reference",
    "check_new_reference",
    "screen_attempt",
    "name_other_pensioner",
    "warm_identity_index",
]


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IdentityMatch:
    """Another pensioner's face near the one searched."""

    pensioner_id: uuid.UUID
    owner_id: uuid.UUID
    distance: float
    accept_distance: float
    scope: SearchScope


def store_template(
    db: Session, *, services: Services, kind: str, owner_id: uuid.UUID, pensioner: Pensioner,
    embedding: np.ndarray, quality_class: str, now: dt.datetime,
) -> IdentityTemplate:
    """The protected template of a reference or a probe, beside its row."""
    keys = services.identity_index.keys
    row = IdentityTemplate(
        kind=kind, owner_id=owner_id, pensioner_id=pensioner.id, region_code=pensioner.region_code,
        quality_class=quality_class, template=keys.protect(embedding), key_id=keys.active_key_id, created_at=now,
    )
    db.add(row)
    db.flush()
    return row


def search_scopes(services: Services) -> tuple[SearchScope, ...]:
    widest = SearchScope(services.settings.identity_search_scope)
    return SCOPES_WIDENING[: SCOPES_WIDENING.index(widest) + 1]


def _live_references(db: Session, owner_ids: list) -> set:
    """Of these reference ids: those active or pending, of an enrolment not closed."""
    return set(db.scalars(
        select(FaceReference.id)
        .join(Pensioner, Pensioner.id == FaceReference.pensioner_id)
        .where(
            FaceReference.id.in_(owner_ids),
            FaceReference.status.in_([ReferenceStatus.ACTIVE, ReferenceStatus.PENDING]),
            Pensioner.enrolment_status != EnrolmentStatus.CLOSED,
        )
    ))


def _live_attempts(db: Session, owner_ids: list) -> set:
    return set(db.scalars(
        select(Attempt.id)
        .join(Pensioner, Pensioner.id == Attempt.pensioner_id)
        .where(Attempt.id.in_(owner_ids), Pensioner.enrolment_status != EnrolmentStatus.CLOSED)
    ))


def _first_match(
    db: Session, *, services: Services, index: IdentityIndex, template: np.ndarray, pensioner: Pensioner,
    accept_of: Callable[[str], float], live: Callable[[Session, list], set], since_s: float | None = None,
    k: int = 8,
) -> IdentityMatch | None:
    for scope in search_scopes(services):
        hits: list[Hit] = index.search(
            template, region_code=pensioner.region_code, scope=scope, k=k, exclude_owner=pensioner.id,
            since_s=since_s,
        )
        alive = live(db, [hit.key for hit in hits]) if hits else set()
        for hit in hits:
            accept = accept_of(hit.label)
            if hit.key in alive and hit.distance <= accept:
                assert isinstance(hit.key, uuid.UUID) and isinstance(hit.owner, uuid.UUID)
                return IdentityMatch(hit.owner, hit.key, hit.distance, accept, scope)
    return None


def _searchable(db: Session, services: Services) -> LiveIdentityIndex:
    live = services.identity_index
    live.refresh(db)
    return live


def nearest_other_reference(
    db: Session, *, services: Services, pensioner: Pensioner, embedding: np.ndarray, quality_class: str = "full",
) -> IdentityMatch | None:
    """Another pensioner's live reference within accept distance of this face (the larger
    of the two references' class accept distances), nearest scope first."""
    live = _searchable(db, services)
    own_accept = CURRENT_THRESHOLDS.match_band(quality_class)[0]
    return _first_match(
        db, services=services, index=live.references, template=_as_template(live, embedding), pensioner=pensioner,
        accept_of=lambda label: max(own_accept, CURRENT_THRESHOLDS.match_band(label)[0]), live=_live_references,
    )


def _as_template(live: LiveIdentityIndex, embedding: np.ndarray) -> np.ndarray:
    return np.frombuffer(live.keys.protect(embedding), dtype="<f8")


def check_new_reference(
    db: Session, *, services: Services, pensioner: Pensioner, reference: FaceReference, embedding: np.ndarray,
    now: dt.datetime,
) -> Review | None:
    """Store a new reference's template and hold the enrolment when the face is another
    pensioner's (the hold's review item, or None)."""
    if not services.settings.identity_search:
        return None
    store_template(
        db, services=services, kind=TemplateKind.REFERENCE, owner_id=reference.id, pensioner=pensioner,
        embedding=embedding, quality_class=reference.quality_class, now=now,
    )
    if pensioner.enrolment_status == EnrolmentStatus.CLOSED or reference.source == "certification":
        return None
    match = nearest_other_reference(
        db, services=services, pensioner=pensioner, embedding=embedding, quality_class=reference.quality_class
    )
    if match is None:
        return None
    already = db.scalar(
        select(Review.id).where(
            Review.pensioner_id == pensioner.id, Review.kind == ReviewKind.DUPLICATE_IDENTITY,
            Review.state == ReviewState.OPEN,
        )
    )
    if already is not None:
        return None
    return hold_enrolment(
        db, pensioner=pensioner, reason=HoldReason.DUPLICATE_IDENTITY, other_pensioner_id=match.pensioner_id, now=now,
    )


def screen_attempt(
    db: Session, *, services: Services, attempt: Attempt, outcome: Outcome, assessment: Assessment | None,
    now: dt.datetime,
) -> tuple[Outcome, uuid.UUID | None]:
    """The outcome, sent to review when the live face is another pensioner's (see the
    module docstring), with the other pensioner's id on the side for the review item.
    Stores the attempt's probe template. Returns (outcome, other pensioner id or None)."""
    if not services.settings.identity_search or assessment is None or assessment.probe_embedding is None:
        return outcome, None
    pensioner = db.get(Pensioner, attempt.pensioner_id)
    assert pensioner is not None
    probe = assessment.probe_embedding
    live = _searchable(db, services)
    template = _as_template(live, probe)
    reasons, other = list(outcome.reasons), None
    by_reference = _first_match(
        db, services=services, index=live.references, template=template, pensioner=pensioner,
        accept_of=lambda label: CURRENT_THRESHOLDS.match_band(label)[0], live=_live_references,
    )
    claimed = outcome.match_distance
    if by_reference is not None and (claimed is None or by_reference.distance < claimed):
        reasons.append(ProcessingReason.FACE_MATCHES_OTHER_PENSIONER.value)
        other = by_reference.pensioner_id
    window = dt.timedelta(days=services.settings.identity_probe_window_days)
    by_probe = _first_match(
        db, services=services, index=live.probes, template=template, pensioner=pensioner,
        accept_of=lambda _label: CURRENT_THRESHOLDS.match_accept_distance, live=_live_attempts,
        since_s=(now - window).timestamp(),
    )
    if by_probe is not None:
        reasons.append(ProcessingReason.FACE_CERTIFIED_OTHER_PENSIONER.value)
        other = other or by_probe.pensioner_id
    store_template(
        db, services=services, kind=TemplateKind.PROBE, owner_id=attempt.id, pensioner=pensioner,
        embedding=probe, quality_class="full", now=now,
    )
    if other is None:
        return outcome, None
    status = outcome.status
    engine_reasons = set(outcome.reasons)
    if status == AttemptStatus.PASSED or (
        status == AttemptStatus.FAILED and engine_reasons and engine_reasons <= REASON_GROUPS["match"]
    ):
        status = AttemptStatus.REVIEW
    result = dict(outcome.result or {})
    result["identity_search"] = {
        "reference_distance": None if by_reference is None else round(by_reference.distance, 4),
        "probe_distance": None if by_probe is None else round(by_probe.distance, 4),
    }
    return replace(outcome, status=status, reasons=reasons, result=result), other


def warm_identity_index(services: Services) -> int | None:
    """Fill this process's identity index from the database (at start); returns how many
    templates it holds, or None when the search is off or the database is not there."""
    if not services.settings.identity_search:
        return None
    try:
        with services.sessions() as db:
            services.identity_index.refresh(db)
    except SQLAlchemyError:
        log.exception("identity index not filled at start (it is on the first search)")
        return None
    live = services.identity_index
    log.info("identity index: %d references, %d probes", len(live.references), len(live.probes))
    return len(live.references) + len(live.probes)


def name_other_pensioner(db: Session, *, attempt: Attempt, other_pensioner_id: uuid.UUID | None) -> None:
    """Name the other pensioner on the attempt's review item (reviewers only see it)."""
    if other_pensioner_id is None:
        return
    review = db.scalar(select(Review).where(Review.attempt_id == attempt.id))
    if review is not None:
        review.other_pensioner_id = other_pensioner_id
