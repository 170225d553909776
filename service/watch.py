"""Assisted captures under watch (issue 13, section 3): flags on each decided assisted
attempt, and the per staff member / per device figures reviewers and agency
administrators look at.

Functional core, imperative shell: `gather_facts` reads the history an attempt is judged
against, `watch_flags` (pure) turns those facts into reason codes with the thresholds of
`WatchRules`, and `watch_outcome` records what was found. A flag never fails anyone: it
turns a pass into a review. Data functions never commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from certify.bystanders import Bystanders
from certify.match import embedding_distance
from models import Attempt, AttemptStatus, AttemptWatch, Channel, Pensioner, StaffUser

from .certification import Outcome
from .infra.crypto import Keyring
from .pensioners import EMBEDDING_DTYPE, encryption_context
from .settings import Settings

__all__ = [
    "WatchFlag",
    "WatchRules",
    "WatchFacts",
    "watch_flags",
    "gather_facts",
    "watch_outcome",
    "staff_summary",
    "device_summary",
    "flagged_attempts",
    "busiest_in",
    "home_region",
]


class WatchFlag(StrEnum):
    """Reason codes of the watch; each sends a pass to review."""

    HOURLY_RATE = "watch_hourly_rate"
    DAILY_RATE = "watch_daily_rate"
    DEVICE_PENSIONERS = "watch_device_pensioners"
    SECOND_FACE_SHARE = "watch_second_face_share"
    SECOND_FACE_RECURRING = "watch_second_face_recurring"
    UNUSUAL_HOUR = "watch_unusual_hour"
    FAR_FROM_DEVICE_REGION = "watch_far_from_device_region"


@dataclass(frozen=True)
class WatchRules:
    """The thresholds (service/settings.py `watch_*`, documented in the README)."""

    window_days: int = 30
    max_per_hour: int = 6
    max_per_day: int = 30
    device_max_pensioners: int = 100
    second_face_min_frames: int = 2
    second_face_max_share: float = 0.5
    second_face_min_attempts: int = 5
    same_face_max_distance: float = 0.5
    same_face_min_pensioners: int = 3
    quiet_hours: tuple[int, int] = (22, 6)
    timezone: str = "Asia/Shanghai"
    region_digits: int = 4
    usual_region_min_attempts: int = 5

    @classmethod
    def of(cls, settings: Settings) -> WatchRules:
        return cls(
            window_days=settings.watch_window_days,
            max_per_hour=settings.watch_max_per_hour,
            max_per_day=settings.watch_max_per_day,
            device_max_pensioners=settings.watch_device_max_pensioners,
            second_face_min_frames=settings.watch_second_face_min_frames,
            second_face_max_share=settings.watch_second_face_max_share,
            second_face_min_attempts=settings.watch_second_face_min_attempts,
            same_face_max_distance=settings.watch_same_face_max_distance,
            same_face_min_pensioners=settings.watch_same_face_min_pensioners,
            quiet_hours=settings.watch_quiet_hours,
            timezone=settings.watch_timezone,
            region_digits=settings.watch_region_digits,
            usual_region_min_attempts=settings.watch_usual_region_min_attempts,
        )

    def is_quiet_hour(self, at: dt.datetime) -> bool:
        hour = at.astimezone(ZoneInfo(self.timezone)).hour
        start, end = self.quiet_hours
        return start <= hour < end if start <= end else hour >= start or hour < end


@dataclass(frozen=True)
class WatchFacts:
    """What one assisted attempt is judged by (this attempt included in every count)."""

    passed: bool
    staff_last_hour: int = 0
    staff_last_day: int = 0
    device_last_hour: int = 0
    device_last_day: int = 0
    device_pensioners: int = 0
    second_face: bool = False
    staff_attempts: int = 0
    """The staff member's watched assisted attempts in the window."""
    staff_second_faces: int = 0
    same_face_pensioners: int = 0
    """Distinct pensioners whose recordings show this recording's second face."""
    quiet_hour: bool = False
    home_region: str = ""
    device_usual_region: str | None = None


def watch_flags(facts: WatchFacts, rules: WatchRules) -> tuple[list[str], dict[str, Any]]:
    """The flags an attempt raises, and what each measured against its threshold."""
    flags: list[str] = []
    details: dict[str, Any] = {}

    def flag(code: WatchFlag, **measured: Any) -> None:
        flags.append(code.value)
        details[code.value] = measured

    hourly = max(facts.staff_last_hour, facts.device_last_hour)
    if hourly > rules.max_per_hour:
        flag(WatchFlag.HOURLY_RATE, staff=facts.staff_last_hour, device=facts.device_last_hour,
             threshold=rules.max_per_hour)
    daily = max(facts.staff_last_day, facts.device_last_day)
    if daily > rules.max_per_day:
        flag(WatchFlag.DAILY_RATE, staff=facts.staff_last_day, device=facts.device_last_day,
             threshold=rules.max_per_day)
    if facts.device_pensioners > rules.device_max_pensioners:
        flag(WatchFlag.DEVICE_PENSIONERS, pensioners=facts.device_pensioners,
             threshold=rules.device_max_pensioners, days=rules.window_days)
    if facts.second_face and facts.staff_attempts >= rules.second_face_min_attempts:
        share = facts.staff_second_faces / facts.staff_attempts
        if share > rules.second_face_max_share:
            flag(WatchFlag.SECOND_FACE_SHARE, share=round(share, 3), attempts=facts.staff_attempts,
                 threshold=rules.second_face_max_share)
    if facts.second_face and facts.same_face_pensioners >= rules.same_face_min_pensioners:
        flag(WatchFlag.SECOND_FACE_RECURRING, pensioners=facts.same_face_pensioners,
             threshold=rules.same_face_min_pensioners)
    if facts.quiet_hour:
        flag(WatchFlag.UNUSUAL_HOUR, quiet_hours=list(rules.quiet_hours), timezone=rules.timezone)
    digits = rules.region_digits
    if (
        facts.passed
        and facts.device_usual_region is not None
        and facts.home_region[:digits] != facts.device_usual_region[:digits]
    ):
        flag(WatchFlag.FAR_FROM_DEVICE_REGION, home_region=facts.home_region,
             device_region=facts.device_usual_region, digits=digits)
    return flags, details


def home_region(pensioner: Pensioner) -> str:
    """Where the pensioner lives: the residence region, else the paying region."""
    return pensioner.residence_region_code or pensioner.region_code


def _count(db: Session, query: Select) -> int:
    return int(db.scalar(query) or 0)


def _embedding_context(watch_id: uuid.UUID) -> bytes:
    return encryption_context("second_face", watch_id).encode()


def gather_facts(
    db: Session,
    *,
    attempt: Attempt,
    pensioner: Pensioner,
    passed: bool,
    second_face: np.ndarray | None,
    keyring: Keyring,
    rules: WatchRules,
) -> WatchFacts:
    """The history of the attempt's staff member and device, as WatchFacts."""
    at = attempt.created_at
    since = at - dt.timedelta(days=rules.window_days)
    assisted = select(func.count()).select_from(Attempt).where(
        Attempt.channel == Channel.ASSISTED, Attempt.created_at <= at
    )
    by_staff = assisted.where(Attempt.assisted_by == attempt.assisted_by)
    facts: dict[str, Any] = {
        "staff_last_hour": _count(db, by_staff.where(Attempt.created_at > at - dt.timedelta(hours=1))),
        "staff_last_day": _count(db, by_staff.where(Attempt.created_at > at - dt.timedelta(days=1))),
    }
    if attempt.device_id:
        by_device = assisted.where(Attempt.device_id == attempt.device_id)
        facts["device_last_hour"] = _count(db, by_device.where(Attempt.created_at > at - dt.timedelta(hours=1)))
        facts["device_last_day"] = _count(db, by_device.where(Attempt.created_at > at - dt.timedelta(days=1)))
        facts["device_pensioners"] = _count(db, select(func.count(func.distinct(Attempt.pensioner_id))).where(
            Attempt.device_id == attempt.device_id, Attempt.channel == Channel.ASSISTED,
            Attempt.created_at > since, Attempt.created_at <= at,
        ))
        facts["device_usual_region"] = _usual_region(db, attempt=attempt, since=since, rules=rules)
    earlier = (
        select(AttemptWatch, Attempt.pensioner_id)
        .join(Attempt, Attempt.id == AttemptWatch.attempt_id)
        .where(Attempt.created_at > since, Attempt.created_at <= at, Attempt.id != attempt.id)
    )
    own = db.execute(earlier.where(Attempt.assisted_by == attempt.assisted_by)).all()
    has_second_face = second_face is not None
    facts["staff_attempts"] = len(own) + 1
    facts["staff_second_faces"] = sum(
        1 for w, _ in own if w.second_face_frames >= rules.second_face_min_frames
    ) + int(has_second_face)
    if second_face is not None:
        same = {pensioner.id}
        for w, pensioner_id in db.execute(
            earlier.where(AttemptWatch.second_face_embedding_encrypted.is_not(None))
        ).all():
            assert w.second_face_embedding_encrypted is not None  # the query keeps only those
            other = np.frombuffer(
                keyring.decrypt(w.second_face_embedding_encrypted, context=_embedding_context(w.id)),
                dtype=EMBEDDING_DTYPE,
            )
            if embedding_distance(second_face, other) <= rules.same_face_max_distance:
                same.add(pensioner_id)
        facts["same_face_pensioners"] = len(same)
    return WatchFacts(
        passed=passed, second_face=has_second_face, quiet_hour=rules.is_quiet_hour(at),
        home_region=home_region(pensioner), **facts,
    )


def _usual_region(db: Session, *, attempt: Attempt, since: dt.datetime, rules: WatchRules) -> str | None:
    """The home region (cut to rules.region_digits) of most of the device's earlier
    assisted attempts in the window, when there are enough and most are there."""
    rows = db.execute(
        select(Pensioner.residence_region_code, Pensioner.region_code)
        .join(Attempt, Attempt.pensioner_id == Pensioner.id)
        .where(
            Attempt.device_id == attempt.device_id, Attempt.channel == Channel.ASSISTED,
            Attempt.created_at > since, Attempt.created_at <= attempt.created_at, Attempt.id != attempt.id,
        )
    ).all()
    if len(rows) < rules.usual_region_min_attempts:
        return None
    regions = Counter((residence or paying)[: rules.region_digits] for residence, paying in rows)
    region, count = regions.most_common(1)[0]
    return region if count * 2 > len(rows) else None


def watch_outcome(
    db: Session,
    *,
    attempt: Attempt,
    pensioner: Pensioner,
    outcome: Outcome,
    bystanders: Bystanders | None,
    keyring: Keyring,
    rules: WatchRules,
    now: dt.datetime,
) -> Outcome:
    """Judge a decided assisted attempt, record what was found (AttemptWatch), and return
    the outcome to record: a pass with any flag becomes a review (reasons: the flags);
    a failure or a review keeps its decision, the flags are only noted."""
    if attempt.channel != Channel.ASSISTED or outcome.status not in AttemptStatus.DECIDED:
        return outcome
    second_face = None
    if bystanders is not None and bystanders.frames_with_second_face >= rules.second_face_min_frames:
        second_face = bystanders.embedding
    facts = gather_facts(
        db, attempt=attempt, pensioner=pensioner, passed=outcome.status == AttemptStatus.PASSED,
        second_face=second_face, keyring=keyring, rules=rules,
    )
    flags, details = watch_flags(facts, rules)
    row = AttemptWatch(
        id=uuid.uuid4(), attempt_id=attempt.id, region_code=pensioner.region_code,
        frames_checked=bystanders.frames_checked if bystanders is not None else 0,
        second_face_frames=bystanders.frames_with_second_face if bystanders is not None else 0,
        flags=flags, details=details, created_at=now,
    )
    if second_face is not None:
        row.second_face_embedding_encrypted = keyring.encrypt(
            np.asarray(second_face, dtype=EMBEDDING_DTYPE).tobytes(), context=_embedding_context(row.id)
        )
    db.add(row)
    if not flags:
        return outcome
    result = dict(outcome.result or {})
    result["watch"] = {"flags": flags, "details": details}
    if outcome.status == AttemptStatus.PASSED:
        return replace(outcome, status=AttemptStatus.REVIEW, reasons=flags, result=result)
    return replace(outcome, result=result)


# --- the figures for reviewers and agency administrators ------------------------------


def busiest_in(times: Sequence[dt.datetime], span: dt.timedelta) -> int:
    """The most of `times` that fall within any one `span` (a sliding window)."""
    ordered = sorted(times)
    best = start = 0
    for end, t in enumerate(ordered):
        while t - ordered[start] >= span:
            start += 1
        best = max(best, end - start + 1)
    return best


@dataclass
class _Tally:
    times: list[dt.datetime] = field(default_factory=list)
    passed: int = 0
    pensioners: set[uuid.UUID] = field(default_factory=set)
    others: set[str] = field(default_factory=set)
    """Devices of a staff member, or staff members of a device."""
    second_faces: int = 0
    quiet: int = 0
    flagged: int = 0
    flags: Counter[str] = field(default_factory=Counter)
    regions: Counter[str] = field(default_factory=Counter)
    user_agent: str | None = None


def _watched_rows(db: Session, *, prefixes: Sequence[str] | None, since: dt.datetime):
    query = (
        select(AttemptWatch, Attempt, Pensioner)
        .join(Attempt, Attempt.id == AttemptWatch.attempt_id)
        .join(Pensioner, Pensioner.id == Attempt.pensioner_id)
        .where(Attempt.created_at >= since)
        .order_by(Attempt.created_at)
    )
    if prefixes is not None:
        query = query.where(or_(*(AttemptWatch.region_code.like(f"{p}%") for p in prefixes)))
    return db.execute(query).all()


def _tallies(db: Session, *, prefixes: Sequence[str] | None, since: dt.datetime, rules: WatchRules,
             by_device: bool) -> dict[str, _Tally]:
    tallies: dict[str, _Tally] = {}
    for watch, attempt, pensioner in _watched_rows(db, prefixes=prefixes, since=since):
        key = attempt.device_id if by_device else attempt.assisted_by
        if not key:
            continue
        tally = tallies.setdefault(key, _Tally())
        tally.times.append(attempt.created_at)
        tally.passed += attempt.status == AttemptStatus.PASSED
        tally.pensioners.add(attempt.pensioner_id)
        other = attempt.assisted_by if by_device else attempt.device_id
        if other:
            tally.others.add(other)
        tally.second_faces += watch.second_face_frames >= rules.second_face_min_frames
        tally.quiet += rules.is_quiet_hour(attempt.created_at)
        tally.flagged += bool(watch.flags)
        tally.flags.update(watch.flags)
        tally.regions[home_region(pensioner)[: rules.region_digits]] += 1
        tally.user_agent = attempt.user_agent or tally.user_agent
    return tallies


def _common(tally: _Tally, days: int) -> dict[str, Any]:
    attempts = len(tally.times)
    return {
        "attempts": attempts,
        "passed": tally.passed,
        "pensioners": len(tally.pensioners),
        "per_day": round(attempts / days, 2),
        "busiest_hour": busiest_in(tally.times, dt.timedelta(hours=1)),
        "busiest_day": busiest_in(tally.times, dt.timedelta(days=1)),
        "second_face_share": round(tally.second_faces / attempts, 3) if attempts else 0.0,
        "unusual_hour": tally.quiet,
        "flagged": tally.flagged,
        "flags": dict(tally.flags),
        "last_at": max(tally.times) if tally.times else None,
    }


def staff_summary(
    db: Session, *, prefixes: Sequence[str] | None, since: dt.datetime, days: int, rules: WatchRules
) -> list[dict[str, Any]]:
    """Per staff member: assisted attempts of pensioners paid in `prefixes` since `since`."""
    tallies = _tallies(db, prefixes=prefixes, since=since, rules=rules, by_device=False)
    ids = [uuid.UUID(k) for k in tallies if _is_uuid(k)]
    users = {str(u.id): u for u in db.scalars(select(StaffUser).where(StaffUser.id.in_(ids)))} if ids else {}
    rows = []
    for key, tally in tallies.items():
        user = users.get(key)
        rows.append({
            "staff_id": key, "username": user.username if user else None,
            "display_name": user.display_name if user else None,
            "region_code": user.region_code if user else None,
            "devices": len(tally.others), **_common(tally, days),
        })
    return sorted(rows, key=lambda r: (-r["flagged"], -r["attempts"], r["staff_id"]))


def device_summary(
    db: Session, *, prefixes: Sequence[str] | None, since: dt.datetime, days: int, rules: WatchRules
) -> list[dict[str, Any]]:
    """Per device: assisted attempts of pensioners paid in `prefixes` since `since`."""
    tallies = _tallies(db, prefixes=prefixes, since=since, rules=rules, by_device=True)
    rows = []
    for key, tally in tallies.items():
        region, count = tally.regions.most_common(1)[0]
        rows.append({
            "device_id": key, "user_agent": tally.user_agent, "staff": len(tally.others),
            "usual_region": region if count * 2 > len(tally.times) else None,
            "far_passes": tally.flags.get(WatchFlag.FAR_FROM_DEVICE_REGION.value, 0),
            **_common(tally, days),
        })
    return sorted(rows, key=lambda r: (-r["flagged"], -r["attempts"], r["device_id"]))


def flagged_attempts(
    db: Session, *, prefixes: Sequence[str] | None, since: dt.datetime, flag: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Assisted attempts that raised a flag (newest first), optionally one flag only."""
    rows = []
    for watch, attempt, pensioner in reversed(_watched_rows(db, prefixes=prefixes, since=since)):
        if not watch.flags or (flag is not None and flag not in watch.flags):
            continue
        rows.append({
            "attempt_id": attempt.id, "pensioner_id": pensioner.id,
            "national_id_masked": pensioner.national_id_masked, "region_code": pensioner.region_code,
            "home_region": home_region(pensioner), "staff_id": attempt.assisted_by,
            "device_id": attempt.device_id, "created_at": attempt.created_at, "status": attempt.status,
            "flags": list(watch.flags), "details": dict(watch.details),
            "second_face_frames": watch.second_face_frames, "frames_checked": watch.frames_checked,
        })
        if len(rows) >= limit:
            break
    return rows


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
