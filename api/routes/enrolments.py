"""Bulk enrolment: a CSV of pensioners plus a zip of reference photos, as a background job."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from models import EnrolmentJob, EnrolmentRow, JobState, Pensioner
from models.db import session_scope
from service.audit import record_audit
from service.error_codes import ErrorCode
from service.errors import InvalidInputError
from service.jobs import enqueue_enrolment

from ..agency_schemas import EnrolmentPublic, EnrolmentRowPublic
from ..deps import DbDep, ServicesDep, client_ip
from ..permissions import EnrolerDep, visible_enrolment
from ..uploads import limited_receive

__all__ = ["router", "MAX_BULK_UPLOAD_BYTES", "create", "read", "rows"]

router = APIRouter(prefix="/v1/enrolments", tags=["agency: bulk enrolment"])

MAX_BULK_UPLOAD_BYTES = 2 * 1024**3
"""The CSV and the zip of photos together."""
_CHUNK = 1024 * 1024


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
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInputError(ErrorCode.MULTIPART_REQUIRED, "send multipart/form-data with the fields csv and photos")
    limited = Request(request.scope, receive=limited_receive(request.receive, MAX_BULK_UPLOAD_BYTES))
    try:
        form = await limited.form(max_files=2, max_fields=4)
    except HTTPException as exc:
        raise InvalidInputError(ErrorCode.MALFORMED_MULTIPART, str(exc.detail)) from None
    try:
        csv_file, photos = form.get("csv"), form.get("photos")
        if not isinstance(csv_file, UploadFile):
            raise InvalidInputError(ErrorCode.CSV_MISSING, "send the CSV in the multipart field 'csv'")
        job_id = uuid.uuid4()

        def store() -> EnrolmentPublic:
            csv_file.file.seek(0)
            csv_blob = services.store.put(f"enrolments/{job_id}/pensioners.csv", csv_file.file)
            if csv_blob.size_bytes == 0:
                raise InvalidInputError(ErrorCode.EMPTY_UPLOAD, "the CSV is empty")
            photos_key = None
            if isinstance(photos, UploadFile):
                photos.file.seek(0)
                photos_key = services.store.put(f"enrolments/{job_id}/photos.zip", photos.file).key
            with session_scope(services.sessions) as db:
                now = services.clock()
                job = EnrolmentJob(
                    id=job_id, requested_by=principal.actor_id[:64], principal_regions=list(principal.regions),
                    csv_key=csv_blob.key, photos_key=photos_key, state=JobState.QUEUED, rows_done=0,
                    rows_created=0, rows_failed=0, created_at=now,
                )
                db.add(job)
                record_audit(db, actor_type=principal.kind, actor_id=principal.actor_id, action="enrolment.create",
                             subject_type="enrolment", subject_id=str(job_id), now=now, ip=client_ip(request),
                             details={"csv_bytes": csv_blob.size_bytes, "photos": photos_key is not None})
                db.commit()
                public = EnrolmentPublic.of(job)
            enqueue_enrolment(services, job_id)
            return public

        return await run_in_threadpool(store)
    finally:
        await form.close()


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
