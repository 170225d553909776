"""Receiving an uploaded file (multipart field or raw body) into a spool file, size-capped.

The cap is enforced on the bytes actually received, not only on Content-Length, so a
chunked upload cannot fill the disk.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.types import Receive

from service.error_codes import ErrorCode
from service.errors import InvalidInputError

from .errors import UploadTooLargeError

__all__ = ["SpooledUpload", "spool_upload", "limited_receive", "MULTIPART_OVERHEAD_BYTES"]

MULTIPART_OVERHEAD_BYTES = 64 * 1024
"""Room for multipart boundaries and small fields on top of the file size limit."""

_CHUNK = 256 * 1024


@dataclass(frozen=True)
class SpooledUpload:
    path: Path
    size_bytes: int
    content_type: str
    filename: str | None

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def limited_receive(receive: Receive, limit_bytes: int, reported_limit: int | None = None) -> Receive:
    """Wrap an ASGI receive channel so that a body larger than `limit_bytes` raises
    UploadTooLargeError (reporting `reported_limit`, default the same) as it arrives."""
    received = 0
    reported_limit = limit_bytes if reported_limit is None else reported_limit

    async def wrapped() -> dict[str, Any]:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit_bytes:
                raise UploadTooLargeError(reported_limit)
        return message

    return wrapped


async def spool_upload(
    request: Request, *, field: str, max_bytes: int, spool_dir: Path
) -> SpooledUpload:
    """Write the uploaded file to a new file in `spool_dir` and describe it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + MULTIPART_OVERHEAD_BYTES:
        raise UploadTooLargeError(max_bytes)
    limited = Request(
        request.scope, receive=limited_receive(request.receive, max_bytes + MULTIPART_OVERHEAD_BYTES, max_bytes)
    )
    content_type = request.headers.get("content-type", "")
    spool_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=spool_dir, suffix=".upload")
    path = Path(name)
    size = 0
    filename: str | None = None
    try:
        with os.fdopen(fd, "wb") as out:
            if content_type.startswith("multipart/form-data"):
                try:
                    form = await limited.form(max_files=1, max_fields=8, max_part_size=16 * 1024)
                except HTTPException as exc:
                    raise InvalidInputError(ErrorCode.MALFORMED_MULTIPART, str(exc.detail)) from None
                try:
                    item = form.get(field)
                    if not isinstance(item, UploadFile):
                        raise InvalidInputError(
                            ErrorCode(f"{field}_missing"), f"send the file in the multipart field '{field}'"
                        )
                    filename = item.filename
                    content_type = item.content_type or "application/octet-stream"
                    while chunk := await item.read(_CHUNK):
                        size += len(chunk)
                        if size > max_bytes:
                            raise UploadTooLargeError(max_bytes)
                        out.write(chunk)
                finally:
                    await form.close()
            else:
                async for chunk in limited.stream():
                    size += len(chunk)
                    if size > max_bytes:
                        raise UploadTooLargeError(max_bytes)
                    out.write(chunk)
                content_type = content_type or "application/octet-stream"
        if size == 0:
            raise InvalidInputError(ErrorCode.EMPTY_UPLOAD, "the uploaded file is empty")
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        raise
    return SpooledUpload(path=path, size_bytes=size, content_type=content_type, filename=filename)
