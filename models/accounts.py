"""Who acts: staff accounts (staff, reviewer, admin) and their sign-ins, agency API keys,
and the audit log."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum, nonmember
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONValue, new_id, utcnow

__all__ = ["StaffUser", "StaffRole", "StaffSession", "ApiKey", "AuditEvent"]


class StaffRole(StrEnum):
    STAFF = "staff"
    """Community staff: assist pensioners of their region, see its caseload."""
    REVIEWER = "reviewer"
    """Decides attempts sent to review and approves new reference photos."""
    ADMIN = "admin"
    """Manages accounts and keys; sees every region."""

    ALL = nonmember(frozenset({STAFF, REVIEWER, ADMIN}))


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str] = mapped_column(String(6))
    """The region this account works in: a province, city or county code."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]


class StaffSession(Base):
    """One sign-in of a member of staff. The session cookie carries this id, signed; a
    request with the cookie is signed in only while the row is neither revoked (logout,
    a new password, a deactivated account) nor expired nor idle too long."""

    __tablename__ = "staff_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    """Updated at most once a minute: a sign-in unused for `staff_session_idle_s` ends."""
    revoked_at: Mapped[dt.datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    """logout | password_changed | deactivated | signed_in_again"""
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class ApiKey(Base):
    """An agency's key: `ck_<prefix>_<secret>`; only a hash of the secret is stored."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    agency: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSONValue)
    regions: Mapped[list[str]] = mapped_column(JSONValue)
    """Region codes (province/city/county) this key may see; empty means none."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]


class AuditEvent(Base):
    """Append-only (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        # failed sign-ins are counted per account and per client address (login throttling)
        Index("ix_audit_log_action_actor_id_at", "action", "actor_id", "at"),
        Index("ix_audit_log_action_ip_at", "action", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    ip: Mapped[str | None] = mapped_column(String(45))
