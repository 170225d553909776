"""Request and response bodies of the agency API (results, records, agencies,
certificates, reviews, exports, enrolments, webhooks, proof-of-life events)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ResultPublic",
    "ResultPage",
    "SuspendCreate",
    "SuspendPublic",
    "AgencyCreate",
    "AgencyPublic",
    "ExportCreate",
    "ExportPublic",
    "CertificatePublic",
    "CertificateRevoke",
    "VerifyCreate",
    "VerifyPublic",
    "ReviewItemPublic",
    "ReviewDetailPublic",
    "ReviewDecisionCreate",
    "EnrolmentBrief",
    "HoldReviewPublic",
    "HoldDecisionCreate",
    "AppealCreate",
    "AppealPublic",
    "EvidencePublic",
    "WebhookCreate",
    "WebhookPublic",
    "DeliveryPublic",
    "LifeEventItem",
    "LifeEventsCreate",
    "LifeEventsReport",
    "LifeEventPublic",
    "DeathReversalCreate",
    "DeathReportsPublic",
    "DeathReportRowPublic",
    "EnrolmentPublic",
    "EnrolmentRowPublic",
    "InPersonCreate",
]


class ResultPublic(BaseModel):
    """One qualification record (per pensioner, scheme and period) as the feed shows it."""

    cursor: str = Field(description="pass as `since` to continue after this row")
    record_id: uuid.UUID
    pensioner_id: uuid.UUID
    national_id_masked: str
    external_ref: str | None = Field(description="the agency's own reference for the pensioner")
    name: str
    region_code: str = Field(description="paying region")
    scheme: str
    period: str
    period_start: dt.date | None
    due_by: dt.date | None
    status: Literal["due", "certified", "overdue", "suspended", "restored"]
    decision: str | None = Field(description="latest decision: passed, failed or review")
    reasons: list[str]
    method: str | None = Field(description="self, assisted, review, in_person or data_match")
    certified_at: dt.datetime | None
    valid_until: dt.date | None
    decided_at: dt.datetime | None
    overdue_at: dt.datetime | None
    suspended_at: dt.datetime | None
    updated_at: dt.datetime | None
    attempt_id: uuid.UUID | None
    assisted_by: str | None
    life_event_id: uuid.UUID | None
    certificate_id: uuid.UUID | None
    evidence_url: str | None = Field(description="the attempt's evidence or the proof-of-life event")


class ResultPage(BaseModel):
    results: list[ResultPublic]
    next_cursor: str = Field(description="pass as `since` for the next page; stable under concurrent writes")
    has_more: bool


class SuspendCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_ids: list[uuid.UUID] = Field(min_length=1, max_length=5000)


class SuspendPublic(BaseModel):
    suspended: int
    already_suspended: int


class AgencyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    period_kind: Literal["calendar_year", "rolling_12_months"] = "calendar_year"
    grace_days: int = Field(0, ge=0, le=366)
    suspend_after_days: int | None = Field(
        None, ge=0, le=366, description="suspend overdue records automatically after this many days"
    )
    data_match_sources: list[str] = Field(default_factory=list, max_length=20)


class AgencyPublic(BaseModel):
    id: uuid.UUID
    name: str
    region_code: str
    period_kind: str
    grace_days: int
    suspend_after_days: int | None
    data_match_sources: list[str]
    signing_key_id: str
    public_key_pem: str

    @classmethod
    def of(cls, agency: Any, pem: str) -> AgencyPublic:
        return cls(
            id=agency.id, name=agency.name, region_code=agency.region_code,
            period_kind=agency.period_kind, grace_days=agency.grace_days,
            suspend_after_days=agency.suspend_after_days,
            data_match_sources=list(agency.data_match_sources or []),
            signing_key_id=agency.signing_key_id, public_key_pem=pem,
        )


class ExportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["csv", "ndjson"] = "csv"
    period: str | None = Field(None, max_length=16)
    region: str | None = Field(None, max_length=6, description="e.g. a whole province: 440000")
    status: str | None = None
    scheme: str | None = None
    lang: Literal["zh-CN", "en"] = Field("zh-CN", description="the words of the *_label columns")


class ExportPublic(BaseModel):
    id: uuid.UUID
    state: Literal["queued", "running", "done", "failed"]
    format: str
    filters: dict[str, str]
    rows_total: int | None
    rows_done: int
    progress: float | None = Field(description="0..1")
    size_bytes: int | None
    cursor: str | None = Field(description="feed cursor at the export's snapshot")
    download_url: str | None
    error: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    files_purged_at: dt.datetime | None = Field(
        None, description="when the file was deleted after its retention time (download then answers 410)")

    @classmethod
    def of(cls, job: Any) -> ExportPublic:
        progress = None
        if job.rows_total is not None:
            progress = 1.0 if job.rows_total == 0 else min(1.0, job.rows_done / job.rows_total)
        return cls(
            id=job.id, state=job.state, format=job.format, filters=dict(job.filters),
            rows_total=job.rows_total, rows_done=job.rows_done, progress=progress,
            size_bytes=job.size_bytes, cursor=job.cursor,
            download_url=f"/v1/exports/{job.id}/download" if job.state == "done" and job.blob_key else None,
            error=job.error, created_at=job.created_at, finished_at=job.finished_at,
            files_purged_at=job.files_purged_at,
        )


class CertificatePublic(BaseModel):
    id: uuid.UUID
    record_id: uuid.UUID
    token: str = Field(description="the signed certificate")
    qr_token: str = Field(description="the compact signed form the QR code holds")
    payload: dict[str, Any]
    key_id: str
    valid_until: dt.date
    issued_at: dt.datetime
    revoked: bool
    revoked_at: dt.datetime | None = None
    revoke_reason: str | None = None
    qr_url: str
    public_key_url: str

    @classmethod
    def of(cls, certificate: Any, *, qr_url: str) -> CertificatePublic:
        return cls(
            id=certificate.id, record_id=certificate.record_id, token=certificate.token,
            qr_token=certificate.qr_token,
            payload=certificate.payload, key_id=certificate.key_id,
            valid_until=certificate.valid_until, issued_at=certificate.issued_at,
            revoked=certificate.revoked_at is not None, revoked_at=certificate.revoked_at,
            revoke_reason=certificate.revoke_reason, qr_url=qr_url,
            public_key_url=f"/v1/agencies/{certificate.payload['issuer']['region']}/public-key",
        )


class CertificateRevoke(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=200, description="why it is withdrawn (audited)")


class VerifyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    certificate: str = Field(min_length=10, max_length=4000)


class VerifyPublic(BaseModel):
    valid: bool = Field(description="signed by a known agency key, not revoked, not expired")
    code: str = Field(description="ok, signature_invalid, certificate_malformed, unknown_key, revoked, expired")
    payload: dict[str, Any] | None = None


class ReviewItemPublic(BaseModel):
    attempt_id: uuid.UUID
    pensioner_id: uuid.UUID
    national_id_masked: str
    name: str
    region_code: str
    kind: str
    state: str
    attempt_status: str
    reasons: list[str]
    period: str
    channel: str
    assisted_by: str | None
    appeal_note: str | None
    opened_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision: str | None
    reason: str | None
    other_pensioner_id: uuid.UUID | None = None
    """The other pensioner whose face this is (identity search: face_matches_other_pensioner,
    face_certified_other_pensioner); reviewers only."""


class ReviewDetailPublic(ReviewItemPublic):
    scores: dict[str, Any] | None
    match_distance: float | None
    actions: list[dict[str, Any]] | None
    thresholds_version: str | None
    engine_version: str | None
    key_frame_urls: list[str]
    reference_photo_urls: list[str]
    decision_reasons: dict[str, dict[str, str]]


class ReviewDecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["passed", "failed"]
    reason: str = Field(min_length=1, max_length=64, description="see decision_reasons of the review")
    note: str | None = Field(None, max_length=2000)


class EnrolmentBrief(BaseModel):
    """One enrolment as a hold's reviewers see it."""

    pensioner_id: uuid.UUID
    name: str
    national_id_masked: str
    region_code: str
    residence_region_code: str | None
    enrolment_status: str
    created_at: dt.datetime

    @classmethod
    def of(cls, pensioner: Any) -> EnrolmentBrief:
        return cls(
            pensioner_id=pensioner.id, name=pensioner.name, national_id_masked=pensioner.national_id_masked,
            region_code=pensioner.region_code, residence_region_code=pensioner.residence_region_code,
            enrolment_status=pensioner.enrolment_status, created_at=pensioner.created_at,
        )


class HoldReviewPublic(BaseModel):
    """An enrolment on hold, for reviewers of either region: the held enrolment and the
    earlier one it collides with, and what may be decided."""

    review_id: uuid.UUID
    kind: str
    hold_reason: str | None
    state: str
    opened_at: dt.datetime
    enrolment: EnrolmentBrief
    """The new enrolment, on hold."""
    other: EnrolmentBrief | None
    """The earlier enrolment of the same national ID."""
    may_decide: bool
    """The caller sees both regions and may decide."""
    decisions: dict[str, str]
    decision: str | None = None
    note: str | None = None
    decided_by: str | None = None
    decided_at: dt.datetime | None = None


class HoldDecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["keep_new", "reject_new"] = Field(
        description="keep_new: the person moved (the older enrolment is closed); reject_new: close the held one"
    )
    note: str | None = Field(None, max_length=2000)


class AppealCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=2000)


class AppealPublic(BaseModel):
    """What the person who appealed learns: that a person will look, nothing about whom."""

    attempt_id: uuid.UUID
    kind: str
    state: str
    opened_at: dt.datetime


class EvidencePublic(BaseModel):
    attempt_id: uuid.UUID
    pensioner_id: uuid.UUID
    status: str
    reasons: list[str]
    match_distance: float | None
    scores: dict[str, Any] | None
    actions: list[dict[str, Any]] | None
    timings_ms: dict[str, Any] | None
    thresholds_version: str | None
    engine_version: str | None
    key_frame_urls: list[str]
    reference_photo_urls: list[str]
    channel: str
    assisted_by: str | None
    device_id: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=500)
    region: str = Field(min_length=6, max_length=6, description="events of pensioners paid in this region")
    events: list[Literal["certified", "failed", "overdue", "suspended", "restored", "deceased", "death_reversed"]] = Field(
        default_factory=lambda: ["certified", "failed", "overdue", "suspended", "restored", "deceased",
                                 "death_reversed"], min_length=1
    )


class WebhookPublic(BaseModel):
    id: uuid.UUID
    url: str
    region: str
    events: list[str]
    active: bool
    created_at: dt.datetime
    secret: str | None = Field(None, description="signing secret: returned once, when the webhook is made")

    @classmethod
    def of(cls, webhook: Any, secret: str | None = None) -> WebhookPublic:
        return cls(id=webhook.id, url=webhook.url, region=webhook.region_code, events=list(webhook.events),
                   active=webhook.active, created_at=webhook.created_at, secret=secret)


class DeliveryPublic(BaseModel):
    id: uuid.UUID
    event: str
    status: str
    tries: int
    last_status_code: int | None
    last_error: str | None
    created_at: dt.datetime
    last_try_at: dt.datetime | None
    delivered_at: dt.datetime | None
    payload: dict[str, Any]

    @classmethod
    def of(cls, d: Any) -> DeliveryPublic:
        return cls(id=d.id, event=d.event, status=d.status, tries=d.tries, last_status_code=d.last_status_code,
                   last_error=d.last_error, created_at=d.created_at, last_try_at=d.last_try_at,
                   delivered_at=d.delivered_at, payload=d.payload)


class LifeEventItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    national_id: str | None = Field(None, max_length=32)
    pensioner_id: uuid.UUID | None = None
    kind: Literal["proof_of_life", "death"] = Field(
        "proof_of_life", description="proof_of_life (data matching) or death (a death reported elsewhere)")
    source: str = Field(min_length=1, max_length=32, description=(
        "proof of life: e.g. hospital_visit, card_payment; death: civil_registry, hospital, funeral_home, family"))
    occurred_on: dt.date = Field(description="the day of the event; for a death, the date of death")
    reference: str = Field(min_length=1, max_length=128, description="the source system's id of the event")


class LifeEventsCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[LifeEventItem] = Field(min_length=1, max_length=5000)


class LifeEventsReport(BaseModel):
    accepted: int
    duplicates: int
    certified_records: int
    not_accepted_source: int = Field(description="stored, but the agency does not certify by this source")
    deaths_recorded: int = 0
    records_suspended: int = Field(0, description="records suspended by the deaths recorded (method death_reported)")
    certificates_revoked: int = Field(0, description="certificates still valid after a date of death, revoked")
    errors: list[dict[str, Any]]


class LifeEventPublic(BaseModel):
    id: uuid.UUID
    pensioner_id: uuid.UUID
    kind: str = "proof_of_life"
    source: str
    occurred_on: dt.date
    reference: str
    imported_by: str
    created_at: dt.datetime
    effects: dict[str, Any] | None = Field(None, description=(
        "a death: the records suspended, certificates revoked, links and sessions closed (ids)"))
    reversed_at: dt.datetime | None = None
    reversed_by: str | None = None
    reversal_reason: str | None = None
    records_restored: int | None = Field(None, description="in the answer to a reversal: records put back")

    @classmethod
    def of(cls, event: Any, *, records_restored: int | None = None) -> LifeEventPublic:
        return cls(id=event.id, pensioner_id=event.pensioner_id, kind=event.kind, source=event.source,
                   occurred_on=event.occurred_on, reference=event.reference, imported_by=event.imported_by,
                   created_at=event.created_at, effects=event.effects, reversed_at=event.reversed_at,
                   reversed_by=event.reversed_by, reversal_reason=event.reversal_reason,
                   records_restored=records_restored)


class _BulkJobPublic(BaseModel):
    """What every bulk CSV job answers (bulk enrolment, a file of deaths)."""

    id: uuid.UUID
    state: Literal["queued", "running", "done", "failed"]
    rows_total: int | None
    rows_done: int
    rows_failed: int
    progress: float | None = Field(description="0..1")
    error: str | None = Field(description="why the whole file was refused (header, encoding, zip)")
    created_at: dt.datetime
    finished_at: dt.datetime | None
    rows_url: str

    @staticmethod
    def common(job: Any, *, rows_url: str) -> dict[str, Any]:
        progress = None
        if job.rows_total is not None:
            progress = 1.0 if job.rows_total == 0 else min(1.0, job.rows_done / job.rows_total)
        return {"id": job.id, "state": job.state, "rows_total": job.rows_total, "rows_done": job.rows_done,
                "rows_failed": job.rows_failed, "progress": progress, "error": job.error,
                "created_at": job.created_at, "finished_at": job.finished_at, "rows_url": rows_url}


class DeathReversalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=200, description="why the report is wrong (audited)")


class DeathReportsPublic(_BulkJobPublic):
    """A file of deaths being recorded (a bulk job)."""

    rows_recorded: int = Field(description="rows whose death is recorded (or was already)")

    @classmethod
    def of(cls, job: Any) -> DeathReportsPublic:
        return cls(**cls.common(job, rows_url=f"/v1/life-events/deaths/{job.id}/rows"), rows_recorded=job.rows_created)


class DeathReportRowPublic(BaseModel):
    line: int
    pensioner_id: uuid.UUID | None
    life_event_id: uuid.UUID | None
    errors: list[dict[str, str]]


class EnrolmentPublic(_BulkJobPublic):
    rows_created: int

    @classmethod
    def of(cls, job: Any) -> EnrolmentPublic:
        return cls(**cls.common(job, rows_url=f"/v1/enrolments/{job.id}/rows"), rows_created=job.rows_created)


class EnrolmentRowPublic(BaseModel):
    line: int
    pensioner_id: uuid.UUID | None
    enrolment_status: str | None = None
    """Of the pensioner made: `active`, or `on_hold` (waits for a reviewer; cannot be certified yet)."""
    errors: list[dict[str, str]]


class InPersonCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pensioner_id: uuid.UUID
    note: str = Field(min_length=3, max_length=2000, description="how the pensioner was seen (written to the audit log)")
