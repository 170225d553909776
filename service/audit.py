"""The append-only audit log: every read of biometric evidence and every decision."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from models import AuditEvent

__all__ = ["record_audit"]


def record_audit(
    db: Session,
    *,
    actor_type: str,
    actor_id: str,
    action: str,
    subject_type: str,
    subject_id: str,
    now: dt.datetime,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=now,
        actor_type=actor_type,
        actor_id=actor_id[:64],
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id)[:64],
        reason=reason,
        details=details,
        ip=ip,
    )
    db.add(event)
    return event
