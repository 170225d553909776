"""Assisted captures under watch (issue 13, section 3): per staff member, per device and
the flagged attempts, for reviewers and agency administrators of their regions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from service.rules.regions import region_prefix
from service.watch import WatchFlag, WatchRules, device_summary, flagged_attempts, staff_summary

from ..auth import Principal
from ..deps import DbDep, NowDep, ServicesDep
from ..permissions import ReviewerDep, allowed_prefixes, check_region_filter
from ..schemas_watch import WatchAttemptReport, WatchDeviceReport, WatchStaffReport
from .results import RegionQuery

__all__ = ["router", "staff", "devices", "attempts", "DaysQuery", "FLAG_PATTERN"]

router = APIRouter(prefix="/v1/watch", tags=["agency: watch"])

DaysQuery = Annotated[int | None, Query(ge=1, le=366, description="days back (default CERTIFY_WATCH_WINDOW_DAYS)")]
FLAG_PATTERN = "^(" + "|".join(f.value for f in WatchFlag) + ")$"


def _scope(principal: Principal, region: str | None) -> tuple[str, ...] | None:
    named = check_region_filter(principal, region)  # 400 region_code_invalid / 403 region_forbidden
    return (region_prefix(named),) if named is not None else allowed_prefixes(principal)


def _period(services, now: dt.datetime, days: int | None) -> tuple[WatchRules, int, dt.datetime]:
    rules = WatchRules.of(services.settings)
    days = days or rules.window_days
    return rules, days, now - dt.timedelta(days=days)


def _thresholds(rules: WatchRules) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(rules).items()}


@router.get("/staff", response_model=WatchStaffReport)
def staff(
    db: DbDep, services: ServicesDep, now: NowDep, principal: ReviewerDep,
    region: RegionQuery = None, days: DaysQuery = None,
) -> WatchStaffReport:
    """Per staff member: assisted attempts of pensioners paid in the caller's regions
    (or `region`), per day and in the busiest hour and day, distinct pensioners, devices,
    the share with a second face in the picture, unusual hours and the flags raised."""
    rules, days, since = _period(services, now, days)
    rows = staff_summary(db, prefixes=_scope(principal, region), since=since, days=days, rules=rules)
    return WatchStaffReport(since=since, days=days, thresholds=_thresholds(rules), staff=rows)


@router.get("/devices", response_model=WatchDeviceReport)
def devices(
    db: DbDep, services: ServicesDep, now: NowDep, principal: ReviewerDep,
    region: RegionQuery = None, days: DaysQuery = None,
) -> WatchDeviceReport:
    """Per device: the same figures, plus its browser, staff accounts, usual region and
    the passes sent to review for pensioners living away from it."""
    rules, days, since = _period(services, now, days)
    rows = device_summary(db, prefixes=_scope(principal, region), since=since, days=days, rules=rules)
    return WatchDeviceReport(since=since, days=days, thresholds=_thresholds(rules), devices=rows)


@router.get("/attempts", response_model=WatchAttemptReport)
def attempts(
    db: DbDep, services: ServicesDep, now: NowDep, principal: ReviewerDep,
    region: RegionQuery = None, days: DaysQuery = None,
    flag: Annotated[str | None, Query(pattern=FLAG_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> WatchAttemptReport:
    """Assisted attempts that raised a watch flag (newest first), with what each flag
    measured against its threshold. A flagged pass is in the review queue."""
    rules, days, since = _period(services, now, days)
    rows = flagged_attempts(db, prefixes=_scope(principal, region), since=since, flag=flag, limit=limit)
    return WatchAttemptReport(since=since, days=days, thresholds=_thresholds(rules), attempts=rows)
