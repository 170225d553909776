"""Agency statistics: the dashboard's figures, the fairness monitor, their charts (SVG)
and the printable monthly report (PDF). Keys with `results:read`, administrators and the
operator; every figure covers only the caller's regions (a region named outside them
answers 403 `region_forbidden`)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from service.error_codes import ErrorCode
from service.errors import InvalidInputError, NotFoundError
from service.stats.dashboard import dashboard_figures
from service.stats.fairness import FairnessRules, fairness_figures
from service.stats.scope import StatsScope
from web.i18n import DEFAULT_LANGUAGE, LANGUAGES
from web.stats.charts import CHARTS, chart, svg
from web.stats.report import monthly_report

from ..deps import DbDep, NowDep, ServicesDep
from ..permissions import ResultsReaderDep, allowed_prefixes, check_region_filter
from .results import RegionQuery

__all__ = ["router", "dashboard", "fairness", "chart_svg", "report_pdf", "LangQuery", "StatsPeriodQuery"]

router = APIRouter(prefix="/v1/stats", tags=["agency: statistics"])

_PERIOD = re.compile(r"^[0-9]{4}(-[0-9]{2}-[0-9]{2})?$")
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")

StatsPeriodQuery = Annotated[
    str | None, Query(max_length=16, description="2026 (default: this year; also rolling windows starting then)")
]
LangQuery = Annotated[str, Query(description="zh-CN or en: the words of charts and reports")]


def _scope(principal, now, period: str | None, region: str | None) -> StatsScope:
    period = period or str(now.year)
    if not _PERIOD.match(period):
        raise InvalidInputError(ErrorCode.STATS_PERIOD_INVALID, "period must be a year (2026) or a window's first day")
    return StatsScope(period=period, prefixes=allowed_prefixes(principal),
                      region=check_region_filter(principal, region))


def _lang(lang: str) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def _rules(services) -> FairnessRules:
    return FairnessRules(margin=services.settings.fairness_margin,
                         min_attempts=services.settings.fairness_min_attempts)


@router.get("/dashboard")
def dashboard(
    db: DbDep, principal: ResultsReaderDep, now: NowDep, period: StatsPeriodQuery = None, region: RegionQuery = None
) -> dict[str, Any]:
    """Coverage (certified / due / overdue / suspended / restored per child region and
    per scheme, the weekly trend, channels), the failure funnel (outcomes, reasons,
    first-try pass rate, tries used) and the review queue (size, waiting time p50/p95,
    decisions per reviewer). Figures come from summaries rebuilt every
    `CERTIFY_STATS_REFRESH_INTERVAL_S` (`refreshed_at`); the review queue is live."""
    return dashboard_figures(db, scope=_scope(principal, now, period, region), now=now)


@router.get("/fairness")
def fairness(
    db: DbDep, services: ServicesDep, principal: ResultsReaderDep, now: NowDep,
    period: StatsPeriodQuery = None, region: RegionQuery = None,
) -> dict[str, Any]:
    """Pass rate, review rate, false rejects and their reasons, tries to pass by age band,
    sex, channel, device family and reference class, each by thresholds version; bands
    more than `CERTIFY_FAIRNESS_MARGIN` below the overall pass rate are `flagged`."""
    return fairness_figures(db, scope=_scope(principal, now, period, region), rules=_rules(services))


@router.get("/charts/{name}.svg", response_class=Response)
def chart_svg(
    name: str, db: DbDep, services: ServicesDep, principal: ResultsReaderDep, now: NowDep,
    period: StatsPeriodQuery = None, region: RegionQuery = None, lang: LangQuery = DEFAULT_LANGUAGE,
) -> Response:
    """One chart of the dashboard (coverage, schemes, trend, outcomes, reasons, tries,
    channels) or of the fairness monitor (fairness-age_band, -sex, -channel, -device,
    -reference_class), drawn on the server; the same figures as the JSON."""
    if name not in CHARTS:
        raise NotFoundError(ErrorCode.CHART_NOT_FOUND, "no such chart")
    scope = _scope(principal, now, period, region)
    figures = (fairness_figures(db, scope=scope, rules=_rules(services)) if name.startswith("fairness-")
               else dashboard_figures(db, scope=scope, now=now))
    return Response(svg(chart(name, figures, _lang(lang))), media_type="image/svg+xml")


@router.get("/report.pdf", response_class=Response)
async def report_pdf(
    db: DbDep, services: ServicesDep, principal: ResultsReaderDep, now: NowDep,
    month: Annotated[str | None, Query(max_length=7, description="2026-11 (default: this month)")] = None,
    region: RegionQuery = None, lang: LangQuery = DEFAULT_LANGUAGE,
) -> Response:
    """The monthly report of a region as PDF: the dashboard's and the fairness monitor's
    figures for the month's period, with the same charts and tables."""
    month = month or now.strftime("%Y-%m")
    if not _MONTH.match(month):
        raise InvalidInputError(ErrorCode.STATS_MONTH_INVALID, "month must look like 2026-11")
    scope = _scope(principal, now, month[:4], region)
    dash = dashboard_figures(db, scope=scope, now=now)
    fair = fairness_figures(db, scope=scope, rules=_rules(services))
    pdf = await run_in_threadpool(monthly_report, dash, fair, month=month, lang=_lang(lang), now=now)
    name = f"certify-report-{region or 'all'}-{month}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
