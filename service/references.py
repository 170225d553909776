"""Enrolling reference photos, and refreshing references from passed certifications."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from certify import (
    CURRENT_THRESHOLDS,
    Assessment,
    ImageError,
    check_reference_photo,
    embedding_distance,
    load_image,
)
from certify.match import match_verdict
from models import Attempt, FaceReference, ReferenceSource, ReferenceStatus

from .actors import Actor
from .context import Services
from .error_codes import ErrorCode
from .errors import InvalidInputError
from .identity import check_new_reference
from .pensioners import active_embeddings, add_reference, get_pensioner
from .reference_review import intake_for

__all__ = ["enrol_photo", "add_fresh_reference", "PHOTO_PROBLEMS", "MAX_FRESH_REFERENCES"]

MAX_FRESH_REFERENCES = 2
"""References kept from passed certifications (older ones are retired)."""

PHOTO_PROBLEMS = {
    "no_face": "no face was found in the photo",
    "multiple_faces": "the photo shows more than one face; only the pensioner may be in it",
    "face_too_small": "the face is too small; take the photo closer",
    "reference_too_small": "the face in the photo is smaller than {min_px:g} pixels between the eyes; use a larger photo",
    "face_cut_off": "part of the face is outside the photo",
    "too_dark": "the photo is too dark",
    "too_bright": "the photo is too bright",
    "blurry": "the photo is blurred",
    "not_frontal": "the face must look straight at the camera",
}
"""What each reason code means for a reference photo (English; the pages translate)."""


def enrol_photo(
    db: Session,
    *,
    services: Services,
    pensioner_id: uuid.UUID,
    photo: bytes,
    now: dt.datetime,
    added_by: Actor,
    source: str | None = None,
    taken_on: dt.date | None = None,
) -> FaceReference:
    """Check a reference photo (exactly one face, big enough) and store its embedding.

    Who adds it decides whether it is used at once or waits for a second person
    (`intake_for`: staff photos, and every photo from outside the paying region, wait).
    `source` says what the photo is (ReferenceSource.UPLOADED: id_card,
    social_security_card, upload); a staff capture is always `staff_capture`. Its
    quality class (certify.references) is stored with it and chooses its match band.
    """
    if source is not None and source not in ReferenceSource.UPLOADED:
        raise InvalidInputError(
            ErrorCode.REFERENCE_SOURCE_INVALID,
            f"source must be one of {', '.join(sorted(ReferenceSource.UPLOADED))}",
        )
    if taken_on is not None and taken_on > now.date():
        raise InvalidInputError(ErrorCode.TAKEN_ON_INVALID, "a photo cannot be taken in the future")
    pensioner = get_pensioner(db, pensioner_id)
    intake = intake_for(pensioner, added_by=added_by)
    if source is not None and intake.source != ReferenceSource.STAFF_CAPTURE:
        intake = replace(intake, source=source)
    try:
        rgb = load_image(photo)
    except ImageError as exc:
        raise InvalidInputError(ErrorCode.UNREADABLE_IMAGE, str(exc)) from None
    check = check_reference_photo(rgb, backend=services.face_backend())
    if check.reason is not None or check.embedding is None:
        code = check.reason.value if check.reason is not None else "no_face"
        message = PHOTO_PROBLEMS.get(code, "the photo cannot be used").format(
            min_px=CURRENT_THRESHOLDS.reference_min_interocular_px
        )
        raise InvalidInputError(code, message)
    reference_id = uuid.uuid4()
    key = f"references/{pensioner.id}/{reference_id}.jpg"
    services.store.put(key, io.BytesIO(photo))
    reference = add_reference(
        db,
        keyring=services.keyring,
        pensioner_id=pensioner.id,
        reference_id=reference_id,
        embedding=check.embedding,
        model_version=check.model_version,
        source=intake.source,
        status=intake.status,
        photo_key=key,
        face_box=check.face_box,
        quality=dict(check.quality),
        quality_class=check.quality_class or "full",
        taken_on=taken_on,
        created_by=added_by.actor_id[:64],
        added_outside_paying_region=intake.outside_paying_region,
        now=now,
    )
    check_new_reference(db, services=services, pensioner=pensioner, reference=reference, embedding=check.embedding,
                        now=now)
    return reference


def add_fresh_reference(
    db: Session, *, services: Services, attempt: Attempt, assessment: Assessment, now: dt.datetime
) -> FaceReference | None:
    """Keep a passed certification's face as a reference, so ageing faces keep matching.

    Only when the new face also matches an anchor (an official or staff photo, never an
    earlier fresh reference) within that anchor's class accept distance: references
    cannot drift step by step toward someone else over the years. Anchors are never
    retired; only the oldest fresh references are.
    """
    probe = assessment.probe_embedding
    if probe is None:
        return None
    anchors = active_embeddings(
        db,
        keyring=services.keyring,
        pensioner_id=attempt.pensioner_id,
        sources=ReferenceSource.ANCHORS,
    )
    if not any(
        match_verdict(embedding_distance(anchor.embedding, assessment.probe_for(anchor.quality_class)),
                      CURRENT_THRESHOLDS, anchor.quality_class)
        == "match"
        for anchor in anchors
    ):
        return None
    fresh = add_reference(
        db,
        keyring=services.keyring,
        pensioner_id=attempt.pensioner_id,
        embedding=probe,
        model_version=assessment.details.get("model_version", "") or "unknown",
        source=ReferenceSource.CERTIFICATION,
        attempt_id=attempt.id,
        quality_class="full",
        now=now,
    )
    pensioner = get_pensioner(db, attempt.pensioner_id)
    check_new_reference(db, services=services, pensioner=pensioner, reference=fresh, embedding=probe, now=now)
    older = db.scalars(
        select(FaceReference)
        .where(
            FaceReference.pensioner_id == attempt.pensioner_id,
            FaceReference.status == ReferenceStatus.ACTIVE,
            FaceReference.source == ReferenceSource.CERTIFICATION,
        )
        .order_by(FaceReference.created_at.desc())
    ).all()
    for stale in older[MAX_FRESH_REFERENCES:]:
        stale.status = ReferenceStatus.RETIRED
    return fresh
