"""The fairness monitor: how the check treats each group of pensioners.

For every dimension (age band, sex where recorded, channel, device family, reference
class) and each of its bands: decided attempts, pass rate, review rate, false rejects
(failed attempts of pensioners who passed later in the same period: the check refused
someone who was there), their reasons, and tries to pass; each band also split by the
thresholds version that decided its attempts, so a threshold change can be judged by its
effect. A band is flagged when its pass rate is more than `margin` below the overall
rate and it has at least `min_attempts` attempts (smaller bands say nothing reliable).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import StatsAttemptCount, StatsReasonCount

from .dashboard import DECIDED, rate
from .scope import StatsScope
from .summaries import AGE_BANDS, DIMENSIONS, last_refresh

__all__ = ["FairnessRules", "FAIRNESS_DIMENSIONS", "fairness_figures", "flagged_bands"]

FAIRNESS_DIMENSIONS = tuple(d for d in DIMENSIONS if d != "all")


@dataclass(frozen=True)
class FairnessRules:
    margin: float
    """How far (as a rate, 0.05 = 5 points) below the overall pass rate flags a band."""
    min_attempts: int
    """Bands with fewer decided attempts are shown but never flagged."""


class _Tally:
    def __init__(self) -> None:
        self.by_status: dict[str, int] = dict.fromkeys(DECIDED, 0)
        self.false_rejects = 0
        self.tries_sum = 0
        self.by_version: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(DECIDED, 0))

    def add(self, status: str, version: str, try_no: int, passed_in_period: int, n: int) -> None:
        self.by_status[status] += n
        self.by_version[version][status] += n
        if status == "passed":
            self.tries_sum += try_no * n
        elif status == "failed" and passed_in_period:
            self.false_rejects += n

    def figures(self) -> dict[str, Any]:
        attempts = sum(self.by_status.values())
        passed = self.by_status["passed"]
        return {
            "attempts": attempts,
            **self.by_status,
            "pass_rate": rate(passed, attempts),
            "review_rate": rate(self.by_status["review"], attempts),
            "false_rejects": self.false_rejects,
            "false_reject_rate": rate(self.false_rejects, attempts),
            "tries_to_pass": round(self.tries_sum / passed, 3) if passed else None,
            "by_thresholds": [
                {"thresholds_version": v, "attempts": sum(c.values()), "pass_rate": rate(c["passed"], sum(c.values())),
                 "review_rate": rate(c["review"], sum(c.values()))}
                for v, c in sorted(self.by_version.items())
            ],
        }


def _band_order(dimension: str, band: str) -> tuple[int, str]:
    if dimension == "age_band" and band in AGE_BANDS:
        return (AGE_BANDS.index(band), band)
    return (len(AGE_BANDS) if band != "unknown" else len(AGE_BANDS) + 1, band)


def fairness_figures(db: Session, *, scope: StatsScope, rules: FairnessRules) -> dict[str, Any]:
    """Every dimension's bands with their rates and flags, and the overall figures."""
    a = StatsAttemptCount
    tallies: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    for dimension, band, version, status, try_no, passed_in_period, n in db.execute(
        select(a.dimension, a.band, a.thresholds_version, a.status, a.try_no, a.passed_in_period, func.sum(a.n))
        .where(scope.where(a.region_code, a.period))
        .group_by(a.dimension, a.band, a.thresholds_version, a.status, a.try_no, a.passed_in_period)
    ):
        tallies[(dimension, band)].add(status, version, int(try_no), int(passed_in_period), int(n))
    r = StatsReasonCount
    reasons: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for dimension, band, reason, n in db.execute(
        select(r.dimension, r.band, r.reason, func.sum(r.n))
        .where(scope.where(r.region_code, r.period), r.false_reject == 1)
        .group_by(r.dimension, r.band, r.reason)
    ):
        reasons[(dimension, band)].append({"reason": reason, "attempts": int(n)})
    overall = tallies.get(("all", "all"), _Tally()).figures()
    overall["false_reject_reasons"] = _top(reasons.get(("all", "all"), []))
    dimensions = []
    for dimension in FAIRNESS_DIMENSIONS:
        bands = []
        for (dim, band), tally in sorted(
            ((k, v) for k, v in tallies.items() if k[0] == dimension), key=lambda kv: _band_order(dimension, kv[0][1])
        ):
            figures = tally.figures()
            figures["band"] = band
            figures["false_reject_reasons"] = _top(reasons.get((dim, band), []))
            figures["flagged"] = _flagged(figures, overall, rules)
            bands.append(figures)
        dimensions.append({"dimension": dimension, "bands": bands})
    refreshed = last_refresh(db)
    return {
        "period": scope.period,
        "region": scope.region,
        "refreshed_at": refreshed.refreshed_at.isoformat() if refreshed else None,
        "margin": rules.margin,
        "min_attempts": rules.min_attempts,
        "overall": overall,
        "dimensions": dimensions,
    }


def _top(items: list[dict[str, Any]], limit: int = 5) -> list[dict[str, Any]]:
    return sorted(items, key=lambda x: (-x["attempts"], x["reason"]))[:limit]


def _flagged(band: dict[str, Any], overall: dict[str, Any], rules: FairnessRules) -> bool:
    if band["pass_rate"] is None or overall["pass_rate"] is None or band["attempts"] < rules.min_attempts:
        return False
    return band["pass_rate"] < overall["pass_rate"] - rules.margin


def flagged_bands(figures: dict[str, Any]) -> list[tuple[str, str, float]]:
    """(dimension, band, pass rate) of every flagged band."""
    return [
        (d["dimension"], b["band"], b["pass_rate"])
        for d in figures["dimensions"] for b in d["bands"] if b["flagged"]
    ]
