"""Response bodies of the staff caseload and of reference photo approval."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.caseload import CaseRow

__all__ = ["CasePublic", "CaseloadPublic", "CaseDetail", "AttemptSummary", "ReferenceView",
           "PendingReference", "ReferenceReject"]


class CasePublic(BaseModel):
    pensioner_id: uuid.UUID
    name: str
    national_id_masked: str
    birth_date: dt.date
    age: int
    region_code: str
    residence_region_code: str | None
    period: str
    state: str
    record_status: str | None
    certified_at: dt.datetime | None
    valid_until: dt.date | None
    due_by: dt.date | None
    previous_valid_until: dt.date | None
    failed_attempts: int
    tries_left: int
    last_attempt_id: uuid.UUID | None
    last_attempt_status: str | None
    last_attempt_at: dt.datetime | None

    @classmethod
    def of(cls, row: CaseRow, *, today: dt.date) -> CasePublic:
        born = row.birth_date
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        return cls(
            pensioner_id=row.pensioner_id, name=row.name, national_id_masked=row.national_id_masked,
            birth_date=born, age=age, region_code=row.region_code,
            residence_region_code=row.residence_region_code, period=row.period, state=row.state,
            record_status=row.record_status, certified_at=row.certified_at,
            valid_until=row.valid_until, due_by=row.due_by,
            previous_valid_until=row.previous_valid_until,
            failed_attempts=row.failed_attempts, tries_left=row.tries_left,
            last_attempt_id=row.last_attempt_id, last_attempt_status=row.last_attempt_status,
            last_attempt_at=row.last_attempt_at,
        )


class CaseloadPublic(BaseModel):
    period: str
    counts: dict[str, int]
    """Cases per state in the caller's regions (for the tabs)."""
    state: str | None
    total: int
    limit: int
    offset: int
    items: list[CasePublic]


class AttemptSummary(BaseModel):
    id: uuid.UUID
    period: str
    status: str
    reasons: list[str]
    channel: str
    assisted_by: str | None
    assisted_by_name: str | None
    device_id: str | None
    consent_at: dt.datetime | None
    uploaded_late: bool
    created_at: dt.datetime
    finished_at: dt.datetime | None


class ReferenceView(BaseModel):
    id: uuid.UUID
    pensioner_id: uuid.UUID
    source: str
    status: str
    created_by: str | None
    created_by_name: str | None
    created_at: dt.datetime
    decided_by: str | None
    decided_by_name: str | None
    decided_at: dt.datetime | None
    decision_reason: str | None
    has_photo: bool
    photo_url: str | None


class CaseDetail(BaseModel):
    case: CasePublic
    attempts: list[AttemptSummary]
    references: list[ReferenceView]
    max_attempts: int


class PendingReference(BaseModel):
    reference: ReferenceView
    pensioner_name: str
    national_id_masked: str
    region_code: str
    distance_to_active: float | None
    """Face distance to the pensioner's enrolled photos (lower: more alike)."""
    likeness: Literal["same", "unsure", "different", "no_enrolled"]
    """That distance in the engine's verdict bands: `same` where a certification would
    accept the match, `unsure` where it would go to review, `different` beyond."""
    active_photo_urls: list[str]
    mine: bool
    """Captured by the caller: someone else must decide it."""
    may_approve: bool
    """The caller may approve it: not its taker, and of the paying region (a reviewer of
    it when the photo was taken outside the paying region)."""


class ReferenceReject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200)
