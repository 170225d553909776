"""The printable monthly report of a region (PDF, ReportLab's platypus): the dashboard's
and the fairness monitor's figures with the same charts as the pages, a table beside
(below) each, in the chosen language."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from service.labels import labeller

from ..i18n import translator
from .charts import CHART_FONT, chart

__all__ = ["monthly_report"]

_TITLE = ParagraphStyle("title", fontName=CHART_FONT, fontSize=18, leading=24, spaceAfter=6)
_HEADING = ParagraphStyle("heading", fontName=CHART_FONT, fontSize=13, leading=18, spaceBefore=10, spaceAfter=4)
_BODY = ParagraphStyle("body", fontName=CHART_FONT, fontSize=9.5, leading=13)


def _table(header: list[str], rows: list[list[Any]]) -> Table:
    data = [header] + [["" if v is None else str(v) for v in row] for row in rows]
    table = Table(data, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), CHART_FONT, 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#d8dde3")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def monthly_report(dash: dict[str, Any], fair: dict[str, Any], *, month: str, lang: str, now: dt.datetime) -> bytes:
    """The PDF bytes."""
    t, label = translator(lang), labeller(lang)
    coverage, funnel, reviews = dash["coverage"], dash["funnel"], dash["reviews"]
    statuses = coverage["statuses"]
    story: list[Any] = [
        Paragraph(t("stats.report.title", region=dash["region"] or t("stats.all_regions"), month=month), _TITLE),
        Paragraph(t("stats.report.generated", at=now.strftime("%Y-%m-%d %H:%M"), period=dash["period"],
                    refreshed=(dash["refreshed_at"] or "–")[:16].replace("T", " ")), _BODY),
        Paragraph(t("stats.heading.coverage"), _HEADING),
        chart("coverage", dash, lang),
        _table([t("agency.col.region")] + [label("status", s) for s in statuses] + [t("stats.col.certified_rate")],
               [[r["region_code"] if r["region_code"] != "all" else t("stats.total")]
                + [r["counts"][s] for s in statuses] + [_pct(r["certified_rate"])]
                for r in [*coverage["by_region"], coverage["totals"]]]),
        chart("schemes", dash, lang),
        _table([t("agency.col.scheme")] + [label("status", s) for s in statuses] + [t("stats.col.certified_rate")],
               [[label("scheme", r["scheme"])] + [r["counts"][s] for s in statuses] + [_pct(r["certified_rate"])]
                for r in coverage["by_scheme"]]),
        chart("trend", dash, lang),
        _table([t("stats.col.week"), t("stats.col.certified"), t("stats.col.cumulative")],
               [[w["week"], w["certified"], w["cumulative"]] for w in coverage["trend"] if w["week"][:7] == month]
               or [[t("agency.none"), "", ""]]),
        chart("channels", dash, lang),
        _table([t("stats.col.method"), t("stats.col.records")],
               [[label("method", c["method"]), c["records"]] for c in coverage["channels"]]),
        Paragraph(t("stats.heading.funnel"), _HEADING),
        Paragraph(t("stats.funnel.first_try", rate=_pct(funnel["first_try"]["pass_rate"]),
                    n=funnel["first_try"]["pensioners"]), _BODY),
        chart("outcomes", dash, lang),
        _table([t("stats.col.outcome"), t("stats.col.attempts")],
               [[label("decision", k), v] for k, v in funnel["outcomes"].items()]),
        chart("reasons", dash, lang),
        _table([t("stats.col.reason"), t("stats.col.code"), t("stats.col.outcome"), t("stats.col.attempts")],
               [[label("reason", r["reason"]), r["reason"], label("decision", r["status"]), r["attempts"]]
                for r in funnel["reasons"]]),
        chart("tries", dash, lang),
        _table([t("stats.col.tries"), t("stats.col.pensioners")],
               [[x["tries"], x["pensioners"]] for x in funnel["tries_used"]]),
        Paragraph(t("stats.heading.reviews"), _HEADING),
        _table([t("stats.col.open"), t("stats.col.age_p50_h"), t("stats.col.age_p95_h")],
               [[reviews["open"], reviews["age_p50_h"], reviews["age_p95_h"]]]),
        _table([t("stats.col.reviewer"), t("stats.col.decisions"), t("stats.col.total")],
               [[r["reviewer"], ", ".join(f"{label('decision', k)} {v}" for k, v in r["decisions"].items()), r["total"]]
                for r in reviews["by_reviewer"]] or [[t("agency.none"), "", ""]]),
        Paragraph(t("stats.heading.fairness"), _HEADING),
        Paragraph(t("stats.fairness.rule", margin=_pct(fair["margin"]), n=fair["min_attempts"],
                    rate=_pct(fair["overall"]["pass_rate"])), _BODY),
    ]
    for dimension in fair["dimensions"]:
        story.append(chart(f"fairness-{dimension['dimension']}", fair, lang))
        story.append(_table(
            [label("dimension", dimension["dimension"]), t("stats.col.attempts"), t("stats.col.pass_rate"),
             t("stats.col.review_rate"), t("stats.col.false_rejects"), t("stats.col.tries_to_pass"),
             t("stats.col.thresholds"), t("stats.col.flag")],
            [[label("band", b["band"]), b["attempts"], _pct(b["pass_rate"]), _pct(b["review_rate"]),
              b["false_rejects"], b["tries_to_pass"],
              "; ".join(f"{v['thresholds_version']}: {_pct(v['pass_rate'])}" for v in b["by_thresholds"]),
              t("stats.flagged") if b["flagged"] else ""]
             for b in dimension["bands"]]))
        story.append(Spacer(1, 4 * mm))
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=t("stats.report.title", region=dash["region"] or "",
                                                          month=month), author="certify")
    doc.build(story)
    return out.getvalue()
