"""Request and response bodies of resumable, chunked uploads."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from service.uploads import UploadState

__all__ = ["UploadCreate", "UploadPublic"]


class UploadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size_bytes: int = Field(ge=0, description="the whole recording's size")
    sha256: str | None = Field(None, min_length=64, max_length=64, description="of the whole file (hex)")
    content_type: str = Field("application/octet-stream", max_length=100)


class UploadPublic(BaseModel):
    id: uuid.UUID
    session_id: uuid.UUID
    pensioner_id: uuid.UUID
    status: str
    size_bytes: int
    chunk_bytes: int
    chunk_count: int
    received: list[int]
    """Indices of the chunks the server has: send the others (PUT chunk_url)."""
    received_bytes: int
    upload_deadline: dt.datetime
    chunk_url: str
    """PUT each chunk's bytes to this URL with {index} filled in."""
    complete_url: str
    attempt_id: uuid.UUID | None

    @classmethod
    def of(cls, state: UploadState) -> UploadPublic:
        upload = state.upload
        return cls(
            id=upload.id,
            session_id=upload.session_id,
            pensioner_id=upload.pensioner_id,
            status=upload.status,
            size_bytes=upload.size_bytes,
            chunk_bytes=upload.chunk_bytes,
            chunk_count=upload.chunk_count,
            received=state.received,
            received_bytes=state.received_bytes,
            upload_deadline=state.deadline,
            chunk_url=f"/v1/uploads/{upload.id}/chunks/{{index}}",
            complete_url=f"/v1/uploads/{upload.id}/complete",
            attempt_id=upload.attempt_id,
        )
