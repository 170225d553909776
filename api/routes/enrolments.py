"""Bulk enrolment: a CSV of pensioners plus a zip of reference photos, as a background job."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from models import BulkKind, EnrolmentRow, Pensioner
from service.jobs import enqueue_enrolment

from ..agency_schemas import EnrolmentPublic, EnrolmentRowPublic
from ..bulk_jobs import receive_bulk_job
from ..deps import DbDep, ServicesDep
from ..permissions import EnrolerDep, visible_enrolment

__all__ = ["router", "create", "read", "rows"]

router = APIRouter(prefix="/v1/enrolments", tags=["agency: bulk enrolment"])


@router.post(
    "", status_code=202, response_model=EnrolmentPublic,
    openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
        "type": "object",
        "properties": {"csv": {"type": "string", "format": "binary"},
                       "photos": {"type": "string", "format": "binary", "description": "zip of photos"}},
        "required": ["csv"]}}}}},
)
async def create(request: Request, services: ServicesDep, principal: EnrolerDep) -> EnrolmentPublic:
    """Upload `csv` (columns name, national_id, region_code, and optionally
    residence_region_code, phone, external_ref, schemes, photo) and `photos` (a zip
    holding the files the photo column names). Every row is validated; each valid row
    is enrolled on its own (all or nothing per row). Poll the job for progress; the
    per-row outcomes are at `rows_url`."""
    return await receive_bulk_job(
        request, services, principal, kind=BulkKind.ENROLMENT, folder="enrolments",
        files={"csv": "pensioners.csv", "photos": "photos.zip"}, audit_action="enrolment.create",
        subject_type="enrolment", enqueue=enqueue_enrolment, public=EnrolmentPublic.of,
    )


@router.get("/{job_id}", response_model=EnrolmentPublic)
def read(job_id: uuid.UUID, db: DbDep, principal: EnrolerDep) -> EnrolmentPublic:
    return EnrolmentPublic.of(visible_enrolment(db, principal, job_id))


@router.get("/{job_id}/rows", response_model=list[EnrolmentRowPublic])
def rows(
    job_id: uuid.UUID, db: DbDep, principal: EnrolerDep,
    errors_only: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[EnrolmentRowPublic]:
    """Per-row outcomes in file order: the pensioner made (and its `enrolment_status`: a
    national ID enrolled only in regions the key does not see is enrolled `on_hold`), or
    the errors (field, code)."""
    job = visible_enrolment(db, principal, job_id)
    query = (
        select(EnrolmentRow, Pensioner.enrolment_status)
        .outerjoin(Pensioner, Pensioner.id == EnrolmentRow.pensioner_id)
        .where(EnrolmentRow.job_id == job.id)
    )
    if errors_only:
        query = query.where(EnrolmentRow.pensioner_id.is_(None))
    found = db.execute(query.order_by(EnrolmentRow.line).offset(offset).limit(limit)).all()
    return [
        EnrolmentRowPublic(line=r.line, pensioner_id=r.pensioner_id, enrolment_status=status, errors=list(r.errors or []))
        for r, status in found
    ]
