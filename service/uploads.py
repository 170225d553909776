"""Resumable chunked uploads of a recording. Data functions never commit; `complete_upload`
and `purge_abandoned_uploads` are shell functions that commit (like `accept_upload`).

    start_upload     declare size, SHA-256 and type for a session -> fixed-size chunk layout
    store_chunk      one chunk by index; the same bytes again change nothing (idempotent)
    complete_upload  every chunk present -> reassemble, verify, then `accept_upload`

Reassembly hands the file to `service.intake.accept_upload`, so a chunked upload gets the
same checks and the same order (video stored durably, attempt row committed, then the
job enqueued) as a direct one. Chunk bytes sit in the blob store under
uploads/<upload id>/ until the upload completes or is purged as abandoned.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import logging
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Attempt, CertificationSession, Upload, UploadChunk, UploadStatus
from models.db import session_scope

from .admission import AdmissionRules
from .certification import get_session_for_upload
from .context import Services
from .error_codes import ErrorCode
from .errors import (
    ConflictError,
    ForbiddenError,
    GoneError,
    InvalidInputError,
    NotFoundError,
    TooLargeError,
)
from .infra.storage import BlobStore, spool_directory
from .intake import accept_upload
from .nonce_guard import NonceGuard

__all__ = [
    "UploadState",
    "chunk_count_for",
    "expected_chunk_size",
    "start_upload",
    "upload_for_client",
    "upload_state",
    "store_chunk",
    "complete_upload",
    "store_chunk_committed",
    "check_open",
    "purge_abandoned_uploads",
    "chunk_key",
]

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class UploadState:
    upload: Upload
    received: list[int]
    received_bytes: int
    deadline: dt.datetime


def chunk_count_for(size_bytes: int, chunk_bytes: int) -> int:
    return -(-size_bytes // chunk_bytes)


def expected_chunk_size(upload: Upload, index: int) -> int:
    """Every chunk is `chunk_bytes` long except the last, which holds the rest."""
    if index < upload.chunk_count - 1:
        return upload.chunk_bytes
    return upload.size_bytes - upload.chunk_bytes * (upload.chunk_count - 1)


def chunk_key(upload_id: uuid.UUID, index: int, sha256: str) -> str:
    """Where a chunk's bytes are stored; the digest in the key keeps racing writers of
    different bytes for one index from overwriting each other."""
    return f"uploads/{upload_id}/{index:05d}-{sha256[:16]}"


def _deadline(session: CertificationSession) -> dt.datetime:
    return session.upload_deadline or session.expires_at


def start_upload(
    db: Session,
    *,
    session_id: uuid.UUID,
    pensioner_id: uuid.UUID,
    nonce: str | None,
    size_bytes: int,
    sha256: str | None,
    content_type: str,
    chunk_bytes: int,
    max_bytes: int,
    now: dt.datetime,
    guard: NonceGuard,
    rules: AdmissionRules,
) -> tuple[Upload, bool]:
    """Declare the recording for a session; declaring the same file again resumes it.

    Returns the upload and whether it was created by this call.
    """
    existing = db.scalar(select(Upload).where(Upload.session_id == session_id))
    if existing is not None and existing.status == UploadStatus.COMPLETE:
        session = db.get(CertificationSession, session_id)
        if session is None:
            raise ForbiddenError(ErrorCode.NONCE_MISMATCH, "the session nonce is missing or wrong")
        guard.check(session_id=session.id, expected=session.nonce, given=nonce)
        return existing, False  # answered again after a lost response: it is done
    session = get_session_for_upload(
        db, session_id=session_id, pensioner_id=pensioner_id, nonce=nonce, now=now,
        late_ok=True, guard=guard, rules=rules,
    )
    if size_bytes <= 0:
        raise InvalidInputError(ErrorCode.EMPTY_UPLOAD, "the recording is empty")
    if size_bytes > max_bytes:
        raise TooLargeError(
            ErrorCode.UPLOAD_TOO_LARGE, f"larger than {max_bytes} bytes", limit_bytes=max_bytes
        )
    if sha256 is not None:
        sha256 = sha256.lower()
        if not _SHA256.match(sha256):
            raise InvalidInputError(ErrorCode.SHA256_INVALID, "sha256 must be 64 hexadecimal characters")
    content_type = (content_type or "application/octet-stream")[:100]
    if existing is not None:
        if existing.size_bytes == size_bytes and existing.sha256 == sha256:
            return existing, False
        raise ConflictError(
            ErrorCode.UPLOAD_MISMATCH,
            "this session already has an upload of a different file; record again with a new session",
        )
    upload = Upload(
        id=uuid.uuid4(),
        session_id=session.id,
        pensioner_id=session.pensioner_id,
        size_bytes=size_bytes,
        chunk_bytes=chunk_bytes,
        chunk_count=chunk_count_for(size_bytes, chunk_bytes),
        sha256=sha256,
        content_type=content_type,
        status=UploadStatus.RECEIVING,
        created_at=now,
        updated_at=now,
    )
    db.add(upload)
    db.flush()
    return upload, True


def upload_for_client(
    db: Session, *, upload_id: uuid.UUID, nonce: str | None, guard: NonceGuard
) -> Upload:
    """The upload, if the caller holds its session's nonce."""
    upload = db.get(Upload, upload_id)
    if upload is None:
        raise NotFoundError(ErrorCode.UPLOAD_NOT_FOUND, "no such upload; declare the recording again")
    session = db.get(CertificationSession, upload.session_id)
    if session is None:
        raise ForbiddenError(ErrorCode.NONCE_MISMATCH, "the session nonce is missing or wrong")
    guard.check(session_id=session.id, expected=session.nonce, given=nonce)
    return upload


def upload_state(db: Session, *, upload: Upload) -> UploadState:
    chunks = db.scalars(
        select(UploadChunk).where(UploadChunk.upload_id == upload.id).order_by(UploadChunk.index)
    ).all()
    session = db.get(CertificationSession, upload.session_id)
    assert session is not None
    if upload.status == UploadStatus.COMPLETE:
        received = list(range(upload.chunk_count))
        received_bytes = upload.size_bytes
    else:
        received = [c.index for c in chunks]
        received_bytes = sum(c.size_bytes for c in chunks)
    return UploadState(
        upload=upload, received=received, received_bytes=received_bytes, deadline=_deadline(session)
    )


def store_chunk(
    db: Session,
    *,
    store: BlobStore,
    upload: Upload,
    index: int,
    data: bytes,
    declared_sha256: str | None,
    now: dt.datetime,
) -> bool:
    """Keep one chunk; returns False when exactly these bytes were already received."""
    check_open(db, upload=upload, now=now)
    if not 0 <= index < upload.chunk_count:
        raise InvalidInputError(
            ErrorCode.CHUNK_INDEX_INVALID,
            f"chunk index must be 0..{upload.chunk_count - 1}",
            chunk_count=upload.chunk_count,
        )
    expected = expected_chunk_size(upload, index)
    if len(data) != expected:
        raise InvalidInputError(
            ErrorCode.CHUNK_SIZE_MISMATCH,
            f"chunk {index} must be {expected} bytes, got {len(data)}",
            expected_bytes=expected,
        )
    digest = hashlib.sha256(data).hexdigest()
    if declared_sha256 is not None and declared_sha256.lower() != digest:
        raise InvalidInputError(
            ErrorCode.CHUNK_CHECKSUM_MISMATCH, f"chunk {index} arrived damaged; send it again"
        )
    existing = db.get(UploadChunk, (upload.id, index))
    if existing is not None:
        if existing.sha256 == digest:
            return False
        raise ConflictError(
            ErrorCode.CHUNK_CONFLICT, f"chunk {index} was already received with different bytes"
        )
    store.put(chunk_key(upload.id, index, digest), io.BytesIO(data))
    db.add(
        UploadChunk(upload_id=upload.id, index=index, size_bytes=len(data), sha256=digest, received_at=now)
    )
    upload.updated_at = now
    db.flush()
    return True


def check_open(db: Session, *, upload: Upload, now: dt.datetime) -> None:
    """The upload still takes chunks: not complete, session unused, deadline not passed."""
    if upload.status == UploadStatus.COMPLETE:
        raise ConflictError(ErrorCode.UPLOAD_COMPLETE, "this upload is already complete")
    session = db.get(CertificationSession, upload.session_id)
    assert session is not None
    if session.used_at is not None:
        raise ConflictError(ErrorCode.SESSION_USED, "a video was already uploaded for this session")
    if now > _deadline(session):
        raise GoneError(
            ErrorCode.UPLOAD_DEADLINE_PASSED,
            "this recording can no longer be uploaded; record again with a new challenge",
        )


def _missing(upload: Upload, chunks: list[UploadChunk]) -> list[int]:
    have = {c.index for c in chunks}
    return [i for i in range(upload.chunk_count) if i not in have]


def _assemble(store: BlobStore, upload: Upload, chunks: list[UploadChunk], spool_dir: Path) -> Path:
    """Concatenate the chunks into a spool file, verifying every chunk and the whole file.

    A chunk whose stored bytes no longer match is reported missing (the client resends it).
    """
    fd, name = tempfile.mkstemp(dir=spool_dir, suffix=".assembled")
    path = Path(name)
    whole = hashlib.sha256()
    damaged: list[UploadChunk] = []
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                try:
                    data = store.read(chunk_key(upload.id, chunk.index, chunk.sha256))
                except KeyError:
                    damaged.append(chunk)
                    continue
                if hashlib.sha256(data).hexdigest() != chunk.sha256:
                    damaged.append(chunk)
                    continue
                whole.update(data)
                out.write(data)
        if damaged:
            raise _DamagedChunksError(damaged)
        if upload.sha256 is not None and whole.hexdigest() != upload.sha256:
            raise InvalidInputError(
                ErrorCode.UPLOAD_CHECKSUM_MISMATCH,
                "the reassembled recording does not match its declared SHA-256; send it again",
            )
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        raise
    return path


class _DamagedChunksError(Exception):
    def __init__(self, chunks: list[UploadChunk]) -> None:
        super().__init__(f"{len(chunks)} stored chunks are damaged")
        self.chunks = chunks


def _attempt_for_session(db: Session, session_id: uuid.UUID) -> Attempt | None:
    return db.scalar(select(Attempt).where(Attempt.session_id == session_id))


def _discard(db: Session, store: BlobStore, upload: Upload) -> None:
    chunks = db.scalars(select(UploadChunk).where(UploadChunk.upload_id == upload.id)).all()
    keys = [chunk_key(upload.id, c.index, c.sha256) for c in chunks]
    db.execute(delete(UploadChunk).where(UploadChunk.upload_id == upload.id))
    db.delete(upload)
    db.flush()
    db.commit()
    for key in keys:
        store.delete(key)


def _finish(services: Services, upload_id: uuid.UUID, attempt_id: uuid.UUID) -> None:
    """Mark the upload complete and drop its chunks (their bytes now live in the video)."""
    with session_scope(services.sessions) as db:
        upload = db.get(Upload, upload_id)
        if upload is None:
            return
        chunks = db.scalars(select(UploadChunk).where(UploadChunk.upload_id == upload_id)).all()
        keys = [chunk_key(upload_id, c.index, c.sha256) for c in chunks]
        db.execute(delete(UploadChunk).where(UploadChunk.upload_id == upload_id))
        now = services.clock()
        upload.status = UploadStatus.COMPLETE
        upload.attempt_id = attempt_id
        upload.completed_at = upload.completed_at or now
        upload.updated_at = now
        db.commit()
    for key in keys:
        services.store.delete(key)


def complete_upload(
    services: Services, *, upload_id: uuid.UUID, nonce: str | None, guard: NonceGuard
) -> Attempt:
    """Reassemble a fully received upload and accept it as the session's video (commits).

    Idempotent: completing a completed upload answers with its attempt.
    """
    with session_scope(services.sessions) as db:
        upload = upload_for_client(db, upload_id=upload_id, nonce=nonce, guard=guard)
        if upload.status == UploadStatus.COMPLETE and upload.attempt_id is not None:
            attempt = db.get(Attempt, upload.attempt_id)
            assert attempt is not None
            return attempt
        done = _attempt_for_session(db, upload.session_id)
        if done is not None:  # accepted earlier, but the process stopped before marking it
            attempt_id = done.id
            db.rollback()
            _finish(services, upload_id, attempt_id)
            return done
        check_open(db, upload=upload, now=services.clock())
        chunks = list(
            db.scalars(
                select(UploadChunk)
                .where(UploadChunk.upload_id == upload.id)
                .order_by(UploadChunk.index)
            )
        )
        missing = _missing(upload, chunks)
        if missing:
            raise ConflictError(
                ErrorCode.UPLOAD_INCOMPLETE,
                f"{len(missing)} of {upload.chunk_count} chunks are missing; send them, then complete",
                missing=missing,
            )
        try:
            path = _assemble(
                services.store, upload, chunks, spool_directory(services.settings.var_dir)
            )
        except _DamagedChunksError as exc:
            for chunk in exc.chunks:
                db.delete(chunk)
            db.commit()
            raise ConflictError(
                ErrorCode.UPLOAD_INCOMPLETE,
                "some chunks were damaged in storage; send them again, then complete",
                missing=sorted(c.index for c in exc.chunks),
            ) from None
        except InvalidInputError:
            _discard(db, services.store, upload)
            raise
        pensioner_id, session_id, content_type = (
            upload.pensioner_id, upload.session_id, upload.content_type,
        )
    try:
        attempt = accept_upload(
            services,
            pensioner_id=pensioner_id,
            session_id=session_id,
            nonce=nonce,
            upload_path=path,
            content_type=content_type,
            guard=guard,
            late_ok=True,
        )
    except ConflictError as exc:
        # a concurrent completion of this upload won: its attempt is the answer
        if exc.code not in (ErrorCode.SESSION_USED, ErrorCode.ATTEMPT_IN_PROGRESS):
            raise
        with session_scope(services.sessions) as db:
            done = _attempt_for_session(db, session_id)
        if done is None:
            raise
        attempt = done  # a concurrent completion won; answer with its attempt
    except InvalidInputError:
        # the recording itself cannot be used (unreadable, too short ...): nothing to resume
        with session_scope(services.sessions) as db:
            unusable = db.get(Upload, upload_id)
            if unusable is not None:
                _discard(db, services.store, unusable)
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    _finish(services, upload_id, attempt.id)
    return attempt


def store_chunk_committed(
    services: Services,
    *,
    upload_id: uuid.UUID,
    nonce: str | None,
    index: int,
    data: bytes,
    declared_sha256: str | None,
    guard: NonceGuard,
) -> UploadState:
    """`store_chunk` in its own transaction (commits); a racing duplicate is answered as one."""
    with session_scope(services.sessions) as db:
        upload = upload_for_client(db, upload_id=upload_id, nonce=nonce, guard=guard)
        try:
            store_chunk(
                db, store=services.store, upload=upload, index=index, data=data,
                declared_sha256=declared_sha256, now=services.clock(),
            )
            db.commit()
        except IntegrityError:
            db.rollback()  # the same index arrived twice at once: compare with the winner
            digest = hashlib.sha256(data).hexdigest()
            winner = db.get(UploadChunk, (upload_id, index))
            if winner is None or winner.sha256 != digest:
                if winner is not None:
                    services.store.delete(chunk_key(upload_id, index, digest))
                raise ConflictError(
                    ErrorCode.CHUNK_CONFLICT, f"chunk {index} was already received with different bytes"
                ) from None
        current = db.get(Upload, upload_id)
        assert current is not None  # found by upload_for_client in this transaction
        return upload_state(db, upload=current)


def purge_abandoned_uploads(services: Services, *, limit: int = 200) -> int:
    """Delete unfinished uploads whose upload window closed more than the grace period ago
    (and their chunk bytes). Returns how many were deleted (commits)."""
    cutoff = services.clock() - dt.timedelta(seconds=services.settings.abandoned_upload_grace_s)
    with session_scope(services.sessions) as db:
        stale = db.scalars(
            select(Upload.id)
            .join(CertificationSession, CertificationSession.id == Upload.session_id)
            .where(
                Upload.status == UploadStatus.RECEIVING,
                func.coalesce(CertificationSession.upload_deadline, CertificationSession.expires_at)
                < cutoff,
            )
            .order_by(Upload.created_at)
            .limit(limit)
        ).all()
    purged = 0
    for upload_id in stale:
        with session_scope(services.sessions) as db:
            upload = db.get(Upload, upload_id)
            if upload is None or upload.status != UploadStatus.RECEIVING:
                continue
            _discard(db, services.store, upload)
            purged += 1
    if purged:
        log.info("purged %d abandoned uploads", purged)
    return purged
