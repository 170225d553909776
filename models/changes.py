"""Numbering changes of qualification records in commit order (the results feed's cursor).

Every flush that adds or changes qualification records takes a block of numbers from
the `records` counter row with one `UPDATE ... SET value = value + n RETURNING value`.
That row stays locked until the transaction ends, so a second writer waits for the
first to commit (or roll back) before it gets its numbers: numbers are handed out in
commit order, and a reader that sees change N committed can never later find a smaller
number appear. On SQLite the database write lock gives the same guarantee. Autoincrement
ids or timestamps would not: they are taken at insert time and committed in any order.

The same flush writes a RecordEvent for each status change or decision (the outbox
that webhooks are sent from), carrying the same change number.
"""

from __future__ import annotations

import uuid
from itertools import chain
from typing import Any, cast

from sqlalchemy import Table, event, inspect, update
from sqlalchemy.orm import Session

from .base import utcnow
from .qualification import FeedCounter, Method, QualificationRecord, RecordEvent, RecordStatus

__all__ = ["RECORDS_COUNTER", "DECEASED_EVENT", "DEATH_REVERSED_EVENT", "take_change_numbers", "event_for"]

RECORDS_COUNTER = "records"
"""Name of the counter row that numbers qualification record changes."""

DECEASED_EVENT = "deceased"
"""The event of a record suspended because a death was reported (instead of `suspended`)."""
DEATH_REVERSED_EVENT = "death_reversed"
"""The event of a record put back as it was when a wrong death report was reversed."""

_UNTRACKED = frozenset({"change_seq", "updated_at"})


def take_change_numbers(session: Session, count: int) -> int:
    """Reserve `count` consecutive change numbers; returns the first. Locks the counter."""
    table = cast(Table, FeedCounter.__table__)
    top = session.connection().execute(
        update(table)
        .where(table.c.name == RECORDS_COUNTER)
        .values(value=table.c.value + count)
        .returning(table.c.value)
    ).scalar_one()
    return int(top) - count + 1


def _changed(record: QualificationRecord) -> bool:
    state = inspect(record)
    if state.pending or state.transient:
        return True
    return any(
        attr.history.has_changes() for attr in state.attrs if attr.key not in _UNTRACKED
    )


def event_for(record: QualificationRecord) -> str | None:
    """The event a change of `record` is, or None (a change of no interest)."""
    state = inspect(record)
    if state.pending or state.transient:
        return record.status
    method = state.attrs.method.history
    if method.has_changes():
        if record.method == Method.DEATH_REPORTED:
            return DECEASED_EVENT
        if method.deleted and method.deleted[0] == Method.DEATH_REPORTED:
            return DEATH_REVERSED_EVENT
    status = state.attrs.status.history
    if status.has_changes() and status.deleted and status.deleted[0] != record.status:
        return record.status
    decision = state.attrs.decision.history
    if decision.has_changes() and record.decision in ("failed", "review"):
        return record.decision
    return None


def _details(record: QualificationRecord) -> dict[str, Any]:
    return {
        "status": record.status,
        "scheme": record.scheme,
        "period": record.period,
        "decision": record.decision,
        "reasons": list(record.reasons or []),
        "method": record.method,
        "life_event_id": str(record.life_event_id) if record.life_event_id else None,
    }


@event.listens_for(Session, "before_flush")
def _number_record_changes(session: Session, _context: Any, _instances: Any) -> None:
    changed = sorted(
        (
            obj
            for obj in chain(session.new, session.dirty)
            if isinstance(obj, QualificationRecord) and _changed(obj)
        ),
        key=lambda r: str(r.id),
    )
    if not changed:
        return
    first = take_change_numbers(session, len(changed))
    for offset, record in enumerate(changed):
        if record.id is None:
            record.id = uuid.uuid4()
        if record.status is None:
            record.status = RecordStatus.DUE
        if record.reasons is None:
            record.reasons = []
        record.change_seq = first + offset
        name = event_for(record)
        if name is not None:
            session.add(
                RecordEvent(
                    change_seq=record.change_seq,
                    record_id=record.id,
                    pensioner_id=record.pensioner_id,
                    event=name,
                    at=record.updated_at or utcnow(),
                    details=_details(record),
                )
            )
