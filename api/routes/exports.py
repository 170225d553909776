"""Background exports (RQ): a whole province's results as one file, with progress."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from models import JobState
from service.audit import record_audit
from service.error_codes import ErrorCode
from service.errors import ConflictError, GoneError
from service.exports import MEDIA_TYPES, create_export_job
from service.jobs import enqueue_export
from service.results import ResultFilters

from ..agency_schemas import ExportCreate, ExportPublic
from ..deps import DbDep, NowDep, ServicesDep, client_ip
from ..permissions import ExportReaderDep, check_region_filter, visible_export

__all__ = ["router", "create", "read", "download"]

router = APIRouter(prefix="/v1/exports", tags=["agency: exports"])

_CHUNK_BYTES = 256 * 1024


@router.post("", status_code=202, response_model=ExportPublic)
def create(
    body: ExportCreate, request: Request, db: DbDep, services: ServicesDep, now: NowDep,
    principal: ExportReaderDep,
) -> ExportPublic:
    """Start an export job (CSV or NDJSON) with the feed's filters; poll it for progress,
    then download the file from `download_url`."""
    filters = ResultFilters(
        period=body.period, region=check_region_filter(principal, body.region),
        status=body.status, scheme=body.scheme,
    ).check()
    job = create_export_job(
        db, requested_by=principal.actor_id, regions=principal.regions, fmt=body.format,
        filters=filters, now=now, lang=body.lang,
    )
    record_audit(
        db, actor_type=principal.kind, actor_id=principal.actor_id, action="export.create",
        subject_type="export", subject_id=str(job.id), now=now, ip=client_ip(request),
        details=filters.to_json(),
    )
    db.commit()
    enqueue_export(services, job.id)
    return ExportPublic.of(job)


@router.get("/{job_id}", response_model=ExportPublic)
def read(job_id: uuid.UUID, db: DbDep, principal: ExportReaderDep) -> ExportPublic:
    return ExportPublic.of(visible_export(db, principal, job_id))


@router.get("/{job_id}/download", response_class=StreamingResponse)
def download(
    job_id: uuid.UUID, request: Request, db: DbDep, services: ServicesDep, now: NowDep,
    principal: ExportReaderDep,
) -> StreamingResponse:
    job = visible_export(db, principal, job_id)
    if job.files_purged_at is not None:
        raise GoneError(
            ErrorCode.EXPORT_EXPIRED, "the export file was deleted after its retention time; ask for a new one",
            purged_at=job.files_purged_at.isoformat(),
        )
    if job.state != JobState.DONE or not job.blob_key:
        raise ConflictError(ErrorCode.EXPORT_NOT_READY, "the export is not finished yet", state=job.state)
    record_audit(
        db, actor_type=principal.kind, actor_id=principal.actor_id, action="export.download",
        subject_type="export", subject_id=str(job.id), now=now, ip=client_ip(request),
    )
    db.commit()
    key, fmt = job.blob_key, job.format

    def chunks():
        with services.store.local_path(key) as path, open(path, "rb") as source:
            while chunk := source.read(_CHUNK_BYTES):
                yield chunk

    return StreamingResponse(
        chunks(), media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="export-{job.id}.{fmt}"',
                 "Content-Length": str(job.size_bytes or 0)},
    )
