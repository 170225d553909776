"""One-time pensioner links: a token (sent by SMS or letter) naming one pensioner.

Only a keyed hash of the token is stored. The first browser that opens the link redeems
it and receives a page pass (also stored only as a hash); from then on the link works in
that browser only, so a forwarded or leaked link cannot be used by anyone else.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_id, utcnow

__all__ = ["PensionerLink"]


class PensionerLink(Base):
    __tablename__ = "pensioner_links"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    pensioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pensioners.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """Keyed hash of the link token (the token itself is shown once, never stored)."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    redeemed_at: Mapped[dt.datetime | None]
    """When a browser first opened the link; after that only that browser's pass works."""
    pass_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    """Keyed hash of the page pass handed to the browser that redeemed the link."""
    device_id: Mapped[str | None] = mapped_column(String(128))
    """The id the redeeming browser gave itself (for accountability, not for trust)."""
    consent_at: Mapped[dt.datetime | None]
    """When the pensioner agreed to the biometric check on the page."""
    consent_version: Mapped[str | None] = mapped_column(String(16))
    """Which consent text they agreed to."""
    revoked_at: Mapped[dt.datetime | None]
