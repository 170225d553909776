"""The agency dashboard's figures: coverage, the failure funnel, the review queue and
channels, for one period and the caller's regions (read from the summary tables, except
the review queue, which is read live from its small table)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    RecordStatus,
    Review,
    ReviewKind,
    ReviewState,
    StatsAttemptCount,
    StatsReasonCount,
    StatsRecordCount,
)

from .scope import StatsScope
from .summaries import last_refresh

__all__ = ["DECIDED", "dashboard_figures", "percentile", "rate"]

DECIDED = ("passed", "failed", "review")


def rate(part: int, whole: int) -> float | None:
    """part / whole rounded to 4 places; None when nothing was counted."""
    return round(part / whole, 4) if whole else None


def _rank(count: int, q: float) -> int | None:
    """The 1-based nearest rank of the q-th percentile (q in 0-1) of `count` values."""
    if count <= 0:
        return None
    return min(count, max(1, -(-int(q * 10000) * count // 10000)))


def percentile(sorted_values: list[float], q: float) -> float | None:
    """The nearest-rank percentile (q in 0-1) of already sorted values."""
    rank = _rank(len(sorted_values), q)
    return None if rank is None else sorted_values[rank - 1]


def _coverage(db: Session, scope: StatsScope) -> dict[str, Any]:
    t = StatsRecordCount
    where = scope.where(t.region_code, t.period)
    digits = scope.child_digits
    child = func.substr(t.region_code, 1, digits)
    by_region: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(RecordStatus.ALL, 0))
    for code, status, n in db.execute(select(child, t.status, func.sum(t.n)).where(where).group_by(child, t.status)):
        by_region[code.ljust(6, "0")][status] = int(n)
    by_scheme: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(RecordStatus.ALL, 0))
    for scheme, status, n in db.execute(select(t.scheme, t.status, func.sum(t.n)).where(where).group_by(t.scheme, t.status)):
        by_scheme[scheme][status] = int(n)
    totals = dict.fromkeys(RecordStatus.ALL, 0)
    for counts in by_region.values():
        for status, n in counts.items():
            totals[status] += n
    weeks = db.execute(
        select(t.week, func.sum(t.n)).where(where, t.week.is_not(None)).group_by(t.week).order_by(t.week)
    ).all()
    running = 0
    trend = []
    for week, n in weeks:
        assert week is not None  # filtered above
        running += int(n)
        trend.append({"week": week.isoformat(), "certified": int(n), "cumulative": running})
    channels = dict(db.execute(
        select(t.method, func.sum(t.n)).where(where, t.status.in_(list(RecordStatus.SATISFIED))).group_by(t.method)
    ).all())

    def row(key: str, name: str, counts: dict[str, int]) -> dict[str, Any]:
        total = sum(counts.values())
        satisfied = counts[RecordStatus.CERTIFIED] + counts[RecordStatus.RESTORED]
        return {key: name, "counts": counts, "total": total, "certified_rate": rate(satisfied, total)}

    return {
        "statuses": list(RecordStatus.ALL),
        "totals": row("region_code", "all", totals),
        "by_region": [row("region_code", code, by_region[code]) for code in sorted(by_region)],
        "by_scheme": [row("scheme", name, by_scheme[name]) for name in sorted(by_scheme)],
        "trend": trend,
        "channels": [{"method": m or "unknown", "records": int(n)} for m, n in sorted(channels.items())],
    }


def _funnel(db: Session, scope: StatsScope) -> dict[str, Any]:
    a = StatsAttemptCount
    rows = db.execute(
        select(a.status, a.try_no, func.sum(a.n))
        .where(scope.where(a.region_code, a.period), a.dimension == "all")
        .group_by(a.status, a.try_no)
    ).all()
    outcomes = dict.fromkeys(DECIDED, 0)
    by_try: dict[int, int] = defaultdict(int)
    first_passed = 0
    for status, try_no, n in rows:
        outcomes[status] += int(n)
        by_try[int(try_no)] += int(n)
        if try_no == 1 and status == "passed":
            first_passed += int(n)
    # a pensioner-period with k decided tries has one attempt numbered 1, 2, ..., k
    tries_used = [
        {"tries": k, "pensioners": by_try[k] - by_try.get(k + 1, 0)} for k in sorted(by_try)
    ]
    r = StatsReasonCount
    reasons = db.execute(
        select(r.status, r.reason, func.sum(r.n))
        .where(scope.where(r.region_code, r.period), r.dimension == "all")
        .group_by(r.status, r.reason)
    ).all()
    return {
        "outcomes": outcomes,
        "attempts": sum(outcomes.values()),
        "first_try": {"pensioners": by_try.get(1, 0), "passed": first_passed, "pass_rate": rate(first_passed, by_try.get(1, 0))},
        "tries_used": tries_used,
        "reasons": sorted(
            ({"status": s, "reason": reason, "attempts": int(n)} for s, reason, n in reasons),
            key=lambda x: (-x["attempts"], x["status"], x["reason"]),
        ),
    }


def _reviews(db: Session, scope: StatsScope, now: dt.datetime) -> dict[str, Any]:
    # the queue is what waits now, whatever the period; only the regions apply
    cond = scope.regions(Review.region_code)
    waiting = (Review.state == ReviewState.OPEN, Review.kind.in_(list(ReviewKind.ATTEMPTS)), cond)
    size = db.scalar(select(func.count()).select_from(Review).where(*waiting)) or 0

    def age_h(q: float) -> float | None:
        """The nearest-rank waiting time: the k-th newest item waits the k-th shortest."""
        rank = _rank(size, q)
        if rank is None:
            return None
        opened = db.scalar(select(Review.opened_at).where(*waiting).order_by(Review.opened_at.desc())
                           .offset(rank - 1).limit(1))
        return None if opened is None else round(max(0.0, (now - opened).total_seconds() / 3600), 2)

    year = scope.period[:4]
    start = dt.datetime(int(year), 1, 1, tzinfo=dt.UTC) if year.isdigit() else None
    decided = select(Review.decided_by, Review.decision, func.count()).where(
        cond, Review.state == ReviewState.DECIDED, Review.kind.in_(list(ReviewKind.ATTEMPTS))
    )
    if start is not None:
        decided = decided.where(Review.decided_at >= start, Review.decided_at < start.replace(year=start.year + 1))
    by_reviewer: dict[str, dict[str, int]] = defaultdict(dict)
    for reviewer, decision, n in db.execute(decided.group_by(Review.decided_by, Review.decision)):
        by_reviewer[reviewer or "unknown"][decision or "unknown"] = int(n)
    return {
        "open": size,
        "age_p50_h": age_h(0.5),
        "age_p95_h": age_h(0.95),
        "by_reviewer": [
            {"reviewer": name, "decisions": counts, "total": sum(counts.values())}
            for name, counts in sorted(by_reviewer.items())
        ],
    }


def dashboard_figures(db: Session, *, scope: StatsScope, now: dt.datetime) -> dict[str, Any]:
    """Every figure of the dashboard, as plain JSON."""
    refreshed = last_refresh(db)
    return {
        "period": scope.period,
        "region": scope.region,
        "refreshed_at": refreshed.refreshed_at.isoformat() if refreshed else None,
        "coverage": _coverage(db, scope),
        "funnel": _funnel(db, scope),
        "reviews": _reviews(db, scope, now),
    }
