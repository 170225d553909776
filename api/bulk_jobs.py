"""Receiving a bulk CSV job (bulk enrolment, a file of deaths): the multipart upload, the
stored files, the job row with its audit row, then the job on the bulk queue. One path
for every kind (models.BulkKind), so the limits and checks are the same for all."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from models import EnrolmentJob, JobState
from models.db import session_scope
from service.audit import record_audit
from service.context import Services
from service.error_codes import ErrorCode
from service.errors import InvalidInputError

from .auth import Principal
from .deps import client_ip
from .uploads import limited_receive

__all__ = ["MAX_BULK_UPLOAD_BYTES", "receive_bulk_job"]

MAX_BULK_UPLOAD_BYTES = 2 * 1024**3
"""The CSV and any other files of one bulk job together."""

_Public = TypeVar("_Public")


async def receive_bulk_job(
    request: Request,
    services: Services,
    principal: Principal,
    *,
    kind: str,
    folder: str,
    files: dict[str, str],
    audit_action: str,
    subject_type: str,
    enqueue: Callable[[Services, uuid.UUID], None],
    public: Callable[[EnrolmentJob], _Public],
) -> _Public:
    """Store the multipart `files` (field -> stored file name; `csv` is required, the
    others optional) under `<folder>/<job id>/`, make the job row of `kind` (regions of
    the requester kept with it) and its audit row, commit, enqueue; returns `public(job)`."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInputError(ErrorCode.MULTIPART_REQUIRED,
                                f"send multipart/form-data with the fields {', '.join(files)}")
    limited = Request(request.scope, receive=limited_receive(request.receive, MAX_BULK_UPLOAD_BYTES))
    try:
        form = await limited.form(max_files=len(files), max_fields=2 * len(files))
    except HTTPException as exc:
        raise InvalidInputError(ErrorCode.MALFORMED_MULTIPART, str(exc.detail)) from None
    try:
        uploads = {name: form.get(name) for name in files}
        csv_file = uploads.get("csv")
        if not isinstance(csv_file, UploadFile):
            raise InvalidInputError(ErrorCode.CSV_MISSING, "send the CSV in the multipart field 'csv'")
        job_id = uuid.uuid4()

        def store() -> _Public:
            keys: dict[str, str | None] = {}
            sizes: dict[str, int] = {}
            for name, stored_name in files.items():
                upload = uploads[name]
                if not isinstance(upload, UploadFile):
                    keys[name] = None
                    continue
                upload.file.seek(0)
                blob = services.store.put(f"{folder}/{job_id}/{stored_name}", upload.file)
                keys[name], sizes[name] = blob.key, blob.size_bytes
            if sizes["csv"] == 0:
                raise InvalidInputError(ErrorCode.EMPTY_UPLOAD, "the CSV is empty")
            with session_scope(services.sessions) as db:
                now = services.clock()
                job = EnrolmentJob(
                    id=job_id, kind=kind, requested_by=principal.actor_id[:64],
                    principal_regions=list(principal.regions), csv_key=keys["csv"], photos_key=keys.get("photos"),
                    state=JobState.QUEUED, rows_done=0, rows_created=0, rows_failed=0, created_at=now,
                )
                db.add(job)
                record_audit(db, actor_type=principal.kind, actor_id=principal.actor_id, action=audit_action,
                             subject_type=subject_type, subject_id=str(job_id), now=now,
                             ip=client_ip(request),
                             details={f"{name}_bytes": size for name, size in sizes.items()})
                db.commit()
                answer = public(job)
            enqueue(services, job_id)
            return answer

        return await run_in_threadpool(store)
    finally:
        await form.close()
