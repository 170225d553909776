"""Request and response bodies of one-time pensioner links."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from models import PensionerLink

__all__ = ["LinkCreate", "LinkIssued", "LinkPublic", "LinkRedeem", "LinkView", "LinkOpened",
           "ConsentCreate", "LinkSessionCreate", "AttemptBrief"]


class LinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ttl_days: int | None = Field(None, ge=1, le=90, description="default: the service setting")


class LinkIssued(BaseModel):
    id: uuid.UUID
    pensioner_id: uuid.UUID
    token: str
    """Shown once; only a hash is stored."""
    url: str
    """What to send the pensioner (SMS, letter)."""
    expires_at: dt.datetime


class LinkPublic(BaseModel):
    """A link as staff see it (never the token)."""

    id: uuid.UUID
    pensioner_id: uuid.UUID
    created_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    redeemed_at: dt.datetime | None
    consent_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @classmethod
    def of(cls, link: PensionerLink) -> LinkPublic:
        return cls(
            id=link.id, pensioner_id=link.pensioner_id, created_by=link.created_by,
            created_at=link.created_at, expires_at=link.expires_at, redeemed_at=link.redeemed_at,
            consent_at=link.consent_at, revoked_at=link.revoked_at,
        )


class LinkRedeem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=8, max_length=128)
    page_pass: str | None = Field(None, max_length=128, description="the pass this browser got before")
    device_id: str | None = Field(None, max_length=128)


class AttemptBrief(BaseModel):
    id: uuid.UUID
    status: str
    reasons: list[str]
    created_at: dt.datetime


class LinkView(BaseModel):
    """What the pensioner's page needs to know."""

    link_id: uuid.UUID
    expires_at: dt.datetime
    name_masked: str
    consent_version: str
    """The consent text version the page must show and send back."""
    consent_at: dt.datetime | None
    period: str
    record_status: str | None
    certified_at: dt.datetime | None
    valid_until: dt.date | None
    tries_left: int
    max_attempts: int
    latest_attempt: AttemptBrief | None
    with_digits: bool
    """Sessions ask for digits read aloud (the page then needs the microphone)."""
    help_phone: str


class LinkOpened(BaseModel):
    page_pass: str
    """Send as the X-Link-Pass header; keep it in this browser only."""
    link: LinkView


class ConsentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=16)
    agree: bool


class LinkSessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: str | None = Field(None, max_length=128)
