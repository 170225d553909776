"""A pensioner's self-service lockout, as community staff see and lift it."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Response
from pydantic import BaseModel

from service.audit import record_audit
from service.lockout import LockoutPolicy, clear_lockout, lockout_state

from ..deps import DbDep, NowDep, ServicesDep
from ..permissions import CaseworkerDep, visible_pensioner

__all__ = ["router", "LockoutPublic", "read", "lift"]

router = APIRouter(prefix="/v1/pensioners/{pensioner_id}/lockout", tags=["pensioners"])


class LockoutPublic(BaseModel):
    locked: bool
    locked_until: dt.datetime | None
    recent_failures: int


@router.get("", response_model=LockoutPublic)
def read(
    pensioner_id: uuid.UUID, db: DbDep, services: ServicesDep, now: NowDep, principal: CaseworkerDep
) -> LockoutPublic:
    """Whether repeated failures locked the pensioner out of self-service, and until when."""
    visible_pensioner(db, principal, pensioner_id)
    state = lockout_state(
        db, pensioner_id=pensioner_id, now=now, policy=LockoutPolicy.of(services.settings)
    )
    return LockoutPublic(
        locked=state.locked, locked_until=state.locked_until, recent_failures=state.recent_failures
    )


@router.delete("", status_code=204)
def lift(pensioner_id: uuid.UUID, db: DbDep, now: NowDep, principal: CaseworkerDep) -> Response:
    """Lift the lock (staff have spoken to the pensioner); audited."""
    visible_pensioner(db, principal, pensioner_id)
    clear_lockout(db, pensioner_id=pensioner_id, now=now, lifted_by=principal.actor_id)
    record_audit(
        db, actor_type=principal.kind, actor_id=principal.actor_id, action="lockout.lift",
        subject_type="pensioner", subject_id=str(pensioner_id), now=now,
    )
    db.commit()
    return Response(status_code=204)
