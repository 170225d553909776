"""Enrolment: pensioners, their reference photos and their qualification records."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from models import QualificationRecord
from models.db import session_scope
from service.enrolment import add_reference_photo, enrol_pensioner
from service.infra.storage import spool_directory

from ..deps import DbDep, NowDep, ServicesDep
from ..permissions import CaseworkerDep, EnrolerDep, check_sees_region, visible_pensioner
from ..schemas import PensionerCreate, PensionerPublic, QualificationPublic, ReferencePublic
from ..uploads import spool_upload

__all__ = ["router", "create", "read", "add_photo", "qualification"]

router = APIRouter(prefix="/v1/pensioners", tags=["pensioners"])


@router.post("", status_code=201, response_model=PensionerPublic)
def create(
    body: PensionerCreate, db: DbDep, services: ServicesDep, now: NowDep, principal: EnrolerDep
) -> PensionerPublic:
    """Enrol a pensioner (the national ID number is checked with its GB 11643 check digit).

    A national ID the caller's regions already enrolled answers 409 `pensioner_exists`.
    One enrolled only in other regions is not told apart from a new one: the enrolment
    is made with `enrolment_status: on_hold`, cannot be certified, and waits for a
    reviewer of both regions (`/v1/reviews/enrolments`).
    """
    check_sees_region(principal, body.region_code, refusal="you cannot enrol pensioners of this region")
    pensioner = enrol_pensioner(
        db,
        services=services,
        enrolled_by=principal,
        name=body.name,
        national_id=body.national_id,
        region_code=body.region_code,
        phone=body.phone,
        residence_region_code=body.residence_region_code,
        now=now,
        schemes=body.schemes,
        external_ref=body.external_ref,
    )
    db.commit()
    return PensionerPublic.of(pensioner)


@router.get("/{pensioner_id}", response_model=PensionerPublic)
def read(pensioner_id: uuid.UUID, db: DbDep, principal: CaseworkerDep) -> PensionerPublic:
    return PensionerPublic.of(visible_pensioner(db, principal, pensioner_id))


@router.post(
    "/{pensioner_id}/references",
    status_code=201,
    response_model=ReferencePublic,
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"photo": {"type": "string", "format": "binary"}},
                        "required": ["photo"],
                    }
                }
            }
        }
    },
)
async def add_photo(
    pensioner_id: uuid.UUID,
    request: Request,
    services: ServicesDep,
    principal: EnrolerDep,
    source: Annotated[
        str | None,
        Query(description="what the photo is: id_card, social_security_card or upload (default)"),
    ] = None,
    taken_on: Annotated[dt.date | None, Query(description="when the photo was taken, if known")] = None,
) -> ReferencePublic:
    """Add a reference photo (multipart field `photo`): exactly one face, big enough.

    ID-card photos (102 x 126 px) are accepted down to 18 px between the eyes (smaller:
    422 `reference_too_small`); the photo's quality class (`full`, `card`, `id_card`)
    chooses the match band later certifications use against it. A photo taken by
    community staff waits (`pending`) until a second person approves it; so does every
    photo added by someone outside the pensioner's paying region, until a reviewer of
    the paying region approves it.
    """

    def check_visible() -> None:
        with session_scope(services.sessions) as db:
            visible_pensioner(db, principal, pensioner_id)

    await run_in_threadpool(check_visible)
    spooled = await spool_upload(
        request,
        field="photo",
        max_bytes=services.settings.max_photo_bytes,
        spool_dir=spool_directory(services.settings.var_dir),
    )
    try:
        photo = spooled.path.read_bytes()
    finally:
        spooled.discard()

    def enrol() -> ReferencePublic:
        with session_scope(services.sessions) as db:
            now = services.clock()
            reference = add_reference_photo(
                db, services=services, pensioner_id=pensioner_id, photo=photo, added_by=principal,
                now=now, source=source, taken_on=taken_on,
            )
            db.commit()
            return ReferencePublic.of(reference)

    return await run_in_threadpool(enrol)


@router.get("/{pensioner_id}/qualification", response_model=list[QualificationPublic])
def qualification(
    pensioner_id: uuid.UUID, db: DbDep, principal: CaseworkerDep
) -> list[QualificationPublic]:
    """The pensioner's qualification records, newest period first."""
    visible_pensioner(db, principal, pensioner_id)
    records = db.scalars(
        select(QualificationRecord)
        .where(QualificationRecord.pensioner_id == pensioner_id)
        .order_by(QualificationRecord.period.desc(), QualificationRecord.scheme)
    )
    return [QualificationPublic.of(r) for r in records]
