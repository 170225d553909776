"""The data model (SQLAlchemy 2) and its Alembic migrations (models/migrations)."""

from __future__ import annotations

from .accounts import ApiKey, AuditEvent, StaffRole, StaffUser
from .base import Base, new_id, utcnow
from .certification import Attempt, AttemptStatus, CertificationSession, Channel
from .links import PensionerLink
from .pensioner import FaceReference, Pensioner, ReferenceSource, ReferenceStatus
from .qualification import DEFAULT_SCHEME, Method, QualificationRecord, RecordStatus
from .uploads import Upload, UploadChunk, UploadStatus

__all__ = [
    "ApiKey",
    "AuditEvent",
    "StaffRole",
    "StaffUser",
    "Attempt",
    "AttemptStatus",
    "Base",
    "CertificationSession",
    "Channel",
    "DEFAULT_SCHEME",
    "FaceReference",
    "Method",
    "Pensioner",
    "QualificationRecord",
    "RecordStatus",
    "ReferenceSource",
    "ReferenceStatus",
    "PensionerLink",
    "Upload",
    "UploadChunk",
    "UploadStatus",
    "new_id",
    "utcnow",
]
