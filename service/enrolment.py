"""Enrolling a pensioner and their reference photos, each with its audit row.

These are the use cases behind `POST /v1/pensioners`, `POST /v1/pensioners/{id}/references`
and `certify enrol`: whoever calls them, the audit log says who enrolled whom. The data
functions they wrap (`create_pensioner`, `enrol_photo`) stay free of audit rows, for the
callers that audit a whole batch at once (bulk enrolment, the demo data). They never commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from models import DEFAULT_SCHEME, FaceReference, Pensioner

from .actors import Actor
from .audit import record_audit
from .context import Services
from .pensioners import create_pensioner
from .references import enrol_photo

__all__ = ["enrol_pensioner", "add_reference_photo"]


def enrol_pensioner(
    db: Session,
    *,
    services: Services,
    enrolled_by: Actor,
    name: str,
    national_id: str,
    region_code: str,
    now: dt.datetime,
    phone: str | None = None,
    residence_region_code: str | None = None,
    schemes: Sequence[str] = (DEFAULT_SCHEME,),
    external_ref: str | None = None,
) -> Pensioner:
    """Add a pensioner (`create_pensioner`: checked, maybe on hold) and audit it as
    `pensioner.create` by `enrolled_by`."""
    pensioner = create_pensioner(
        db,
        keyring=services.keyring,
        secret=services.settings.secret_key.get_secret_value(),
        enrolled_by=enrolled_by,
        name=name,
        national_id=national_id,
        region_code=region_code,
        phone=phone,
        residence_region_code=residence_region_code,
        now=now,
        schemes=schemes,
        external_ref=external_ref,
    )
    record_audit(
        db, actor_type=enrolled_by.kind, actor_id=enrolled_by.actor_id, action="pensioner.create",
        subject_type="pensioner", subject_id=str(pensioner.id), now=now,
        details={"enrolment_status": pensioner.enrolment_status, "hold_reason": pensioner.hold_reason},
    )
    return pensioner


def add_reference_photo(
    db: Session,
    *,
    services: Services,
    pensioner_id: uuid.UUID,
    photo: bytes,
    added_by: Actor,
    now: dt.datetime,
    source: str | None = None,
    taken_on: dt.date | None = None,
) -> FaceReference:
    """Check and store a reference photo (`enrol_photo`: active or pending, by who adds
    it; `source` and `taken_on` as there) and audit it as `reference.add` by `added_by`."""
    reference = enrol_photo(
        db, services=services, pensioner_id=pensioner_id, photo=photo, now=now, added_by=added_by,
        source=source, taken_on=taken_on,
    )
    record_audit(
        db, actor_type=added_by.kind, actor_id=added_by.actor_id,
        action="reference.add", subject_type="pensioner", subject_id=str(pensioner_id),
        details={"reference_id": str(reference.id), "status": reference.status}, now=now,
    )
    return reference
