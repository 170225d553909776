"""Whether a death stands for a pensioner: reported (service/deaths.py) and not reversed.

Queries only, so that every use case that must not certify a dead person's period (the
record lifecycle, certification outcomes, proof-of-life imports) can ask without
importing the death use cases themselves.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import LifeEvent, LifeEventKind

from .error_codes import ErrorCode
from .errors import ConflictError

__all__ = ["standing_death", "check_not_deceased"]


def standing_death(db: Session, *, pensioner_id: uuid.UUID) -> LifeEvent | None:
    """The pensioner's death report that is not reversed (the earliest date of death
    when several sources reported one), or None."""
    return db.scalar(
        select(LifeEvent)
        .where(
            LifeEvent.pensioner_id == pensioner_id,
            LifeEvent.kind == LifeEventKind.DEATH,
            LifeEvent.reversed_at.is_(None),
        )
        .order_by(LifeEvent.occurred_on, LifeEvent.created_at)
        .limit(1)
    )


def check_not_deceased(db: Session, *, pensioner_id: uuid.UUID) -> None:
    """409 `pensioner_deceased` while a death report stands: nothing certifies the
    pensioner's periods until a reviewer reverses it."""
    death = standing_death(db, pensioner_id=pensioner_id)
    if death is not None:
        raise ConflictError(
            ErrorCode.PENSIONER_DECEASED,
            "a death is reported for this pensioner; a reviewer must reverse the report before any certification",
            life_event_id=str(death.id),
        )
