"""Resumable, chunked uploads of a recording, authorised by the session's nonce.

    POST /v1/pensioners/{p}/sessions/{s}/uploads   declare size, SHA-256, type -> chunk layout
    GET  /v1/uploads/{id}                          which chunks the server has (resume here)
    PUT  /v1/uploads/{id}/chunks/{index}           one chunk's bytes; repeating it is harmless
    POST /v1/uploads/{id}/complete                 reassemble -> the attempt (202)

A recording may be uploaded this way until the session's `upload_deadline` (later than
the recording expiry, so a phone that lost the network can send it when it is back).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from starlette.concurrency import run_in_threadpool

from models.db import session_scope
from service.admission import AdmissionRules
from service.error_codes import ErrorCode
from service.errors import InvalidInputError, TooLargeError
from service.nonce_guard import NonceGuard
from service.uploads import (
    check_open,
    complete_upload,
    expected_chunk_size,
    start_upload,
    store_chunk_committed,
    upload_for_client,
    upload_state,
)

from ..credentials import NonceDep
from ..deps import DbDep, NowDep, ServicesDep, client_ip
from ..schemas import AttemptPublic
from ..schemas_uploads import UploadCreate, UploadPublic

__all__ = ["router", "ChunkShaHeader", "create", "read", "put_chunk", "complete"]

router = APIRouter(tags=["certification"])

ChunkShaHeader = Annotated[str | None, Header(alias="X-Chunk-Sha256", max_length=64)]


@router.post(
    "/v1/pensioners/{pensioner_id}/sessions/{session_id}/uploads",
    status_code=201,
    response_model=UploadPublic,
    responses={200: {"model": UploadPublic, "description": "the same file was declared before"}},
)
def create(
    pensioner_id: uuid.UUID,
    session_id: uuid.UUID,
    body: UploadCreate,
    response: Response,
    db: DbDep,
    services: ServicesDep,
    now: NowDep,
    request: Request,
    nonce: NonceDep,
) -> UploadPublic:
    """Start (or, for the same file, resume) a resumable upload of the session's recording."""
    settings = services.settings
    upload, created = start_upload(
        db,
        session_id=session_id,
        pensioner_id=pensioner_id,
        nonce=nonce,
        size_bytes=body.size_bytes,
        sha256=body.sha256,
        content_type=body.content_type,
        chunk_bytes=settings.upload_chunk_bytes,
        max_bytes=settings.max_upload_bytes,
        now=now,
        guard=NonceGuard.of(services, client_ip(request)),
        rules=AdmissionRules.of(settings),
    )
    if not created:
        response.status_code = 200
    db.commit()
    return UploadPublic.of(upload_state(db, upload=upload))


@router.get("/v1/uploads/{upload_id}", response_model=UploadPublic)
def read(
    upload_id: uuid.UUID, db: DbDep, services: ServicesDep, request: Request, nonce: NonceDep
) -> UploadPublic:
    """The chunks received so far: a client that lost its connection resumes from here."""
    upload = upload_for_client(
        db, upload_id=upload_id, nonce=nonce, guard=NonceGuard.of(services, client_ip(request))
    )
    return UploadPublic.of(upload_state(db, upload=upload))


async def _read_body(request: Request, limit_bytes: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit_bytes:
        raise TooLargeError(
            ErrorCode.CHUNK_TOO_LARGE, f"a chunk here is at most {limit_bytes} bytes", limit_bytes=limit_bytes
        )
    parts: list[bytes] = []
    size = 0
    async for part in request.stream():
        size += len(part)
        if size > limit_bytes:
            raise TooLargeError(
                ErrorCode.CHUNK_TOO_LARGE, f"a chunk here is at most {limit_bytes} bytes",
                limit_bytes=limit_bytes,
            )
        parts.append(part)
    return b"".join(parts)


@router.put(
    "/v1/uploads/{upload_id}/chunks/{index}",
    response_model=UploadPublic,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def put_chunk(
    upload_id: uuid.UUID,
    index: int,
    request: Request,
    services: ServicesDep,
    nonce: NonceDep,
    chunk_sha256: ChunkShaHeader = None,
) -> UploadPublic:
    """One chunk (raw body). Sending a chunk the server already has changes nothing."""
    guard = NonceGuard.of(services, client_ip(request))

    def expected_size() -> int:
        with session_scope(services.sessions) as db:
            upload = upload_for_client(db, upload_id=upload_id, nonce=nonce, guard=guard)
            check_open(db, upload=upload, now=services.clock())
            if not 0 <= index < upload.chunk_count:
                raise InvalidInputError(
                    ErrorCode.CHUNK_INDEX_INVALID,
                    f"chunk index must be 0..{upload.chunk_count - 1}",
                    chunk_count=upload.chunk_count,
                )
            return expected_chunk_size(upload, index)

    limit = await run_in_threadpool(expected_size)  # refuse before receiving the bytes
    data = await _read_body(request, limit)
    state = await run_in_threadpool(
        store_chunk_committed,
        services,
        upload_id=upload_id,
        nonce=nonce,
        index=index,
        data=data,
        declared_sha256=chunk_sha256,
        guard=guard,
    )
    return UploadPublic.of(state)


@router.post("/v1/uploads/{upload_id}/complete", status_code=202, response_model=AttemptPublic)
async def complete(
    upload_id: uuid.UUID, services: ServicesDep, request: Request, nonce: NonceDep
) -> AttemptPublic:
    """Reassemble the chunks and hand the recording to the certification queue.

    409 `upload_incomplete` lists the `missing` chunk indices. Completing again answers
    with the same attempt.
    """
    attempt = await run_in_threadpool(
        complete_upload, services, upload_id=upload_id, nonce=nonce,
        guard=NonceGuard.of(services, client_ip(request)),
    )
    return AttemptPublic.of(attempt, with_evidence=False)
