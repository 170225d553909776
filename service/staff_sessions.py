"""Staff sign-ins kept server-side, so that they can be ended, and the CSRF token bound
to each one. Data functions: they never commit.

A sign-in is a `StaffSession` row; the session cookie carries its id, signed. A request
with the cookie is signed in only while the row is live: not revoked (logout, a new
password, a deactivated account, a sign-in again in the same browser), not past
`expires_at`, not idle longer than `staff_session_idle_s`, and its account active.

The CSRF token is an HMAC of the session id under the secret key: the page's scripts
read it from the certify_csrf cookie and echo it in X-CSRF-Token, and the server checks
it against the session, so a cookie planted by someone else or another sign-in's token
does not pass.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import uuid
from typing import cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from models import StaffSession, StaffUser

__all__ = [
    "open_staff_session",
    "live_staff_session",
    "revoke_staff_session",
    "revoke_staff_sessions",
    "csrf_token",
    "csrf_token_matches",
    "LAST_SEEN_RESOLUTION_S",
    "USER_AGENT_MAX",
]

LAST_SEEN_RESOLUTION_S = 60
"""`last_seen_at` is written at most this often per sign-in (not on every request)."""

USER_AGENT_MAX = 200


def open_staff_session(
    db: Session,
    *,
    user: StaffUser,
    now: dt.datetime,
    ttl_s: int,
    ip: str | None,
    user_agent: str | None,
) -> StaffSession:
    """A new sign-in for `user`, lasting at most `ttl_s`."""
    row = StaffSession(
        id=uuid.uuid4(),
        user_id=user.id,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=ttl_s),
        last_seen_at=now,
        ip=ip,
        user_agent=(user_agent or "")[:USER_AGENT_MAX] or None,
    )
    db.add(row)
    db.flush()
    return row


def live_staff_session(
    db: Session, *, session_id: uuid.UUID, now: dt.datetime, idle_s: int
) -> tuple[StaffSession, StaffUser] | None:
    """The sign-in and its account if both are live; None otherwise. Marks it seen."""
    row = db.get(StaffSession, session_id)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.last_seen_at + dt.timedelta(seconds=idle_s) <= now:
        return None
    user = db.get(StaffUser, row.user_id)
    if user is None or not user.active:
        return None
    if (now - row.last_seen_at).total_seconds() >= LAST_SEEN_RESOLUTION_S:
        row.last_seen_at = now
    return row, user


def revoke_staff_session(
    db: Session, *, staff_session: StaffSession, now: dt.datetime, reason: str
) -> None:
    if staff_session.revoked_at is None:
        staff_session.revoked_at = now
        staff_session.revoked_reason = reason


def revoke_staff_sessions(db: Session, *, user_id: uuid.UUID, now: dt.datetime, reason: str) -> int:
    """End every sign-in of one account that has not ended yet; returns how many."""
    result = cast(CursorResult, db.execute(
        update(StaffSession)
        .where(
            StaffSession.user_id == user_id,
            StaffSession.revoked_at.is_(None),
            StaffSession.expires_at > now,
        )
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session="fetch")
    ))
    return int(result.rowcount or 0)


def _csrf_key(secret: str) -> bytes:
    return hashlib.sha256(f"csrf\x00staff-session\x00{secret}".encode()).digest()


def csrf_token(secret: str, session_id: uuid.UUID) -> str:
    """The CSRF token of one sign-in (deterministic: the server need not store it)."""
    mac = hmac.new(_csrf_key(secret), session_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def csrf_token_matches(secret: str, session_id: uuid.UUID, sent: str) -> bool:
    return hmac.compare_digest(sent.encode(), csrf_token(secret, session_id).encode())
