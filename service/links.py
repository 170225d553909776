"""Data functions for one-time pensioner links. They never commit.

A link token names one pensioner and expires. The first browser that opens it redeems it
and receives a page pass; the link then works only with that pass (in that browser), so
a forwarded or leaked link is useless to anyone else. Tokens and passes are stored only
as keyed hashes. A pass lets the page record consent and open sessions for that one
pensioner; the upload itself is authorised by the session's nonce, as for every session.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from models import Attempt, PensionerLink

from .error_codes import ErrorCode
from .errors import (
    ConflictError,
    ForbiddenError,
    GoneError,
    InvalidInputError,
    NotFoundError,
    ServiceError,
)
from .infra.crypto import keyed_hash
from .pensioners import get_pensioner
from .records import check_certifiable

__all__ = [
    "IssuedLink",
    "Redemption",
    "create_link",
    "redeem_link",
    "link_for_pass",
    "pensioner_of_pass",
    "record_consent",
    "revoke_link",
    "latest_attempt",
    "CONSENT_VERSION",
    "LINK_TOKEN_BYTES",
    "PASS_BYTES",
]

LINK_TOKEN_BYTES = 24
"""Random bytes in a link token (32 URL-safe characters): unguessable, short enough for SMS."""

PASS_BYTES = 32
"""Random bytes in a page pass."""

CONSENT_VERSION = "2025-1"
"""Version of the consent text the pages show (web catalogue key `consent.text`); change
it whenever that text changes, so every recorded consent names what was agreed to."""


@dataclass(frozen=True)
class Redemption:
    link: PensionerLink
    page_pass: str
    """What the browser must keep and send (X-Link-Pass)."""
    first: bool
    """This call redeemed the link (rather than a return visit with the pass)."""


@dataclass(frozen=True)
class IssuedLink:
    link: PensionerLink
    token: str
    """The token itself: shown once (in the URL sent to the pensioner), never stored."""


def _hash(secret: str, value: str, purpose: str) -> str:
    return keyed_hash(secret, value, purpose=f"pensioner-link:{purpose}")


def create_link(
    db: Session,
    *,
    secret: str,
    pensioner_id: uuid.UUID,
    created_by: str,
    ttl_s: int,
    now: dt.datetime,
) -> IssuedLink:
    """A new link for one pensioner, valid for `ttl_s` seconds (not for an enrolment on
    hold or closed: it cannot be certified)."""
    pensioner = get_pensioner(db, pensioner_id)
    check_certifiable(pensioner)
    if ttl_s <= 0:
        raise InvalidInputError(ErrorCode.LINK_TTL_INVALID, "a link must be valid for some time")
    token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
    link = PensionerLink(
        id=uuid.uuid4(),
        pensioner_id=pensioner.id,
        token_hash=_hash(secret, token, "token"),
        created_by=created_by[:64],
        created_at=now,
        expires_at=now + dt.timedelta(seconds=ttl_s),
    )
    db.add(link)
    db.flush()
    return IssuedLink(link=link, token=token)


def _check_usable(link: PensionerLink, now: dt.datetime) -> None:
    if link.revoked_at is not None:
        raise GoneError(ErrorCode.LINK_REVOKED, "this link was withdrawn; ask for a new one")
    if now > link.expires_at:
        raise GoneError(ErrorCode.LINK_EXPIRED, "this link has expired; ask for a new one")


def redeem_link(
    db: Session,
    *,
    secret: str,
    token: str,
    now: dt.datetime,
    page_pass: str | None = None,
    device_id: str | None = None,
) -> Redemption:
    """Open a link: the first time, hand out a page pass; later, only with that pass."""
    link = db.scalar(
        select(PensionerLink).where(PensionerLink.token_hash == _hash(secret, token, "token"))
    )
    if link is None:
        raise NotFoundError(ErrorCode.LINK_NOT_FOUND, "no such link; check the address")
    _check_usable(link, now)
    if link.redeemed_at is not None:
        if (
            page_pass
            and link.pass_hash
            and secrets.compare_digest(_hash(secret, page_pass, "pass"), link.pass_hash)
        ):
            return Redemption(link=link, page_pass=page_pass, first=False)
        raise ConflictError(
            ErrorCode.LINK_USED,
            "this link was already opened on another phone; ask for a new one if that was not you",
        )
    new_pass = secrets.token_urlsafe(PASS_BYTES)
    claimed = cast(CursorResult, db.execute(
        update(PensionerLink)
        .where(PensionerLink.id == link.id, PensionerLink.redeemed_at.is_(None))
        .values(
            redeemed_at=now,
            pass_hash=_hash(secret, new_pass, "pass"),
            device_id=device_id[:128] if device_id else None,
        )
        .execution_options(synchronize_session=False)
    )).rowcount
    if claimed != 1:
        raise ConflictError(ErrorCode.LINK_USED, "this link was already opened on another phone")
    db.refresh(link)
    return Redemption(link=link, page_pass=new_pass, first=True)


def link_for_pass(db: Session, *, secret: str, page_pass: str | None, now: dt.datetime) -> PensionerLink:
    """The usable link a page pass belongs to."""
    if not page_pass:
        raise ForbiddenError(ErrorCode.LINK_PASS_MISSING, "open the link from your SMS or letter first")
    link = db.scalar(
        select(PensionerLink).where(PensionerLink.pass_hash == _hash(secret, page_pass, "pass"))
    )
    if link is None:
        raise ForbiddenError(ErrorCode.LINK_PASS_INVALID, "open the link from your SMS or letter again")
    _check_usable(link, now)
    return link


def pensioner_of_pass(
    db: Session, *, secret: str, page_pass: str | None, now: dt.datetime
) -> uuid.UUID | None:
    """The pensioner whose usable link this page pass belongs to; None for no pass, an
    unknown one, or one of an expired or withdrawn link (for reads that answer 404)."""
    try:
        return link_for_pass(db, secret=secret, page_pass=page_pass, now=now).pensioner_id
    except ServiceError:
        return None


def record_consent(db: Session, *, link: PensionerLink, version: str, now: dt.datetime) -> None:
    """The pensioner agreed to the biometric check (text `version`) on the page."""
    if version != CONSENT_VERSION:
        raise InvalidInputError(
            ErrorCode.CONSENT_VERSION_UNKNOWN, "the consent text has changed; reload the page",
            current=CONSENT_VERSION,
        )
    if link.consent_at is None or link.consent_version != version:
        link.consent_at = now
        link.consent_version = version


def revoke_link(db: Session, *, link_id: uuid.UUID, now: dt.datetime) -> PensionerLink:
    link = db.get(PensionerLink, link_id)
    if link is None:
        raise NotFoundError(ErrorCode.LINK_NOT_FOUND, "no such link")
    if link.revoked_at is None:
        link.revoked_at = now
    return link


def latest_attempt(db: Session, *, pensioner_id: uuid.UUID, period: str) -> Attempt | None:
    """The pensioner's most recent attempt in a period (by any channel)."""
    return db.scalar(
        select(Attempt)
        .where(Attempt.pensioner_id == pensioner_id, Attempt.period == period)
        .order_by(Attempt.created_at.desc())
        .limit(1)
    )
