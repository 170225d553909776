"""The data model (SQLAlchemy 2) and its Alembic migrations (models/migrations)."""

from __future__ import annotations

from . import changes  # noqa: F401 - numbers record changes for the results feed
from .accounts import ApiKey, AuditEvent, StaffRole, StaffSession, StaffUser
from .agency import Agency, PeriodKind
from .base import Base, new_id, utcnow
from .certificates import Certificate
from .certification import Attempt, AttemptStatus, CertificationSession, Channel
from .identity import IdentityTemplate, TemplateKind
from .jobs import BulkKind, EnrolmentJob, EnrolmentRow, ExportJob, JobState
from .life_events import DeathSuspension, LifeEvent, LifeEventKind
from .links import PensionerLink
from .lockouts import SelfServiceFailure, SelfServiceLock
from .pensioner import (
    ClosedReason,
    EnrolmentStatus,
    FaceReference,
    HoldReason,
    Pensioner,
    ReferenceSource,
    ReferenceStatus,
)
from .qualification import (
    DEFAULT_SCHEME,
    FeedCounter,
    Method,
    PensionerScheme,
    QualificationRecord,
    RecordEvent,
    RecordStatus,
    Scheme,
)
from .reviews import Review, ReviewKind, ReviewState
from .stats import StatsAttemptCount, StatsReasonCount, StatsRecordCount, StatsRefresh
from .uploads import Upload, UploadChunk, UploadStatus
from .watch import AttemptWatch
from .webhooks import DeliveryStatus, Webhook, WebhookDelivery

__all__ = [
    "IdentityTemplate",
    "TemplateKind",
    "AttemptWatch",
    "Agency",
    "PeriodKind",
    "Certificate",
    "EnrolmentJob",
    "EnrolmentRow",
    "ExportJob",
    "JobState",
    "LifeEvent",
    "LifeEventKind",
    "DeathSuspension",
    "BulkKind",
    "FeedCounter",
    "PensionerScheme",
    "RecordEvent",
    "Scheme",
    "Review",
    "ReviewKind",
    "ReviewState",
    "StatsAttemptCount",
    "StatsReasonCount",
    "StatsRecordCount",
    "StatsRefresh",
    "DeliveryStatus",
    "Webhook",
    "WebhookDelivery",
    "ApiKey",
    "AuditEvent",
    "StaffRole",
    "StaffSession",
    "StaffUser",
    "Attempt",
    "AttemptStatus",
    "Base",
    "CertificationSession",
    "Channel",
    "DEFAULT_SCHEME",
    "FaceReference",
    "EnrolmentStatus",
    "HoldReason",
    "ClosedReason",
    "Method",
    "Pensioner",
    "QualificationRecord",
    "RecordStatus",
    "ReferenceSource",
    "ReferenceStatus",
    "PensionerLink",
    "SelfServiceFailure",
    "SelfServiceLock",
    "Upload",
    "UploadChunk",
    "UploadStatus",
    "new_id",
    "utcnow",
]
