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
