"""The statistics charts as ReportLab drawings (SVG for the pages, the same in the PDF).

Every chart is drawn from the figures of service.stats (the JSON the API returns), with
the catalogue's words in the chosen language; the pages show a table beside each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

from service.labels import labeller

from ..i18n import translator

__all__ = ["CHART_FONT", "CHARTS", "chart", "svg"]

CHART_FONT = "STSong-Light"
"""A CID font every PDF reader has (Chinese and Latin), so no font file is shipped; it has
no middle dot or flag glyph, so labels use plain ASCII punctuation."""
pdfmetrics.registerFont(UnicodeCIDFont(CHART_FONT))

_STATUS_COLOURS = {
    "certified": colors.HexColor("#137333"), "restored": colors.HexColor("#5bb974"),
    "due": colors.HexColor("#0b57d0"), "overdue": colors.HexColor("#e37400"),
    "suspended": colors.HexColor("#b3261e"),
}
_PALETTE = [colors.HexColor(c) for c in ("#0b57d0", "#137333", "#e37400", "#b3261e", "#8430ce", "#5f6368")]
_WIDTH, _HEIGHT = 500, 260

_Label = Callable[[str, str | None], str]


def _frame(title: str, height: int = _HEIGHT) -> Drawing:
    drawing = Drawing(_WIDTH, height)
    drawing.add(String(8, height - 18, title, fontName=CHART_FONT, fontSize=13, fillColor=colors.HexColor("#1b1f24")))
    return drawing


def _legend(drawing: Drawing, items: Sequence[tuple[Any, str]], y: float) -> None:
    legend = Legend()
    legend.x, legend.y = 8, y
    legend.fontName, legend.fontSize = CHART_FONT, 9
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 90
    legend.dx = legend.dy = 8
    legend.colorNamePairs = list(items)
    drawing.add(legend)


def _bars(title: str, categories: list[str], series: list[tuple[str, list[float]]], *, stacked: bool = False,
          horizontal: bool = False, percent: bool = False, colours: list[Any] | None = None) -> Drawing:
    rows = max(1, len(categories))
    height = max(_HEIGHT, 70 + rows * (22 if horizontal else 0)) if horizontal else _HEIGHT
    drawing = _frame(title, height)
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    chart.x, chart.y = (150 if horizontal else 50), 50
    chart.width = _WIDTH - chart.x - 20
    chart.height = height - 100
    if horizontal:  # ReportLab puts the first category at the bottom; read top-down like the table
        categories = categories[::-1]
        series = [(name, values[::-1]) for name, values in series]
    chart.data = [values or [0] for _, values in series] or [[0]]
    chart.categoryAxis.categoryNames = categories or ["-"]
    chart.categoryAxis.labels.fontName = CHART_FONT
    chart.categoryAxis.labels.fontSize = 9
    if not horizontal:
        chart.categoryAxis.labels.angle = 30 if rows > 6 else 0
        chart.categoryAxis.labels.boxAnchor = "ne" if rows > 6 else "n"
    chart.valueAxis.labels.fontName = CHART_FONT
    chart.valueAxis.labels.fontSize = 9
    chart.valueAxis.valueMin = 0
    if percent:
        chart.valueAxis.valueMax = 1
        chart.valueAxis.valueStep = 0.25
        chart.valueAxis.labelTextFormat = lambda v: f"{v * 100:.0f}%"
    if stacked:
        chart.categoryAxis.style = "stacked"
    colours = colours or _PALETTE
    for i in range(len(series)):
        chart.bars[i].fillColor = colours[i % len(colours)]
        chart.bars[i].strokeColor = None
    drawing.add(chart)
    if len(series) > 1:
        _legend(drawing, [(colours[i % len(colours)], name) for i, (name, _) in enumerate(series)], 14)
    return drawing


def _coverage(figures: dict[str, Any], label: _Label) -> Drawing:
    coverage = figures["coverage"]
    regions = coverage["by_region"]
    statuses = coverage["statuses"]
    return _bars(
        label("chart", "stats.chart.coverage"), [r["region_code"] for r in regions],
        [(label("status", s), [r["counts"][s] for r in regions]) for s in statuses],
        stacked=True, horizontal=True, colours=[_STATUS_COLOURS[s] for s in statuses],
    )


def _schemes(figures: dict[str, Any], label: _Label) -> Drawing:
    coverage = figures["coverage"]
    rows = coverage["by_scheme"]
    statuses = coverage["statuses"]
    return _bars(
        label("chart", "stats.chart.schemes"), [label("scheme", r["scheme"]) for r in rows],
        [(label("status", s), [r["counts"][s] for r in rows]) for s in statuses],
        stacked=True, horizontal=True, colours=[_STATUS_COLOURS[s] for s in statuses],
    )


def _trend(figures: dict[str, Any], label: _Label) -> Drawing:
    trend = figures["coverage"]["trend"]
    drawing = _frame(label("chart", "stats.chart.trend"))
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 60, 50, _WIDTH - 80, _HEIGHT - 100
    chart.data = [[w["cumulative"] for w in trend] or [0]]
    names = [w["week"][5:] for w in trend] or ["-"]
    step = max(1, len(names) // 10)
    chart.categoryAxis.categoryNames = [n if i % step == 0 else "" for i, n in enumerate(names)]
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = CHART_FONT
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 9
    chart.valueAxis.valueMin = 0
    chart.lines[0].strokeColor = _STATUS_COLOURS["certified"]
    chart.lines[0].strokeWidth = 2
    drawing.add(chart)
    return drawing


def _outcomes(figures: dict[str, Any], label: _Label) -> Drawing:
    outcomes = figures["funnel"]["outcomes"]
    return _bars(label("chart", "stats.chart.outcomes"), [label("decision", s) for s in outcomes],
                 [("", list(outcomes.values()))])


def _reasons(figures: dict[str, Any], label: _Label) -> Drawing:
    reasons = figures["funnel"]["reasons"][:10]
    return _bars(label("chart", "stats.chart.reasons"),
                 [f"{label('reason', r['reason'])} - {label('decision', r['status'])}" for r in reasons],
                 [("", [r["attempts"] for r in reasons])], horizontal=True, colours=[_PALETTE[3]])


def _tries(figures: dict[str, Any], label: _Label) -> Drawing:
    tries = figures["funnel"]["tries_used"]
    return _bars(label("chart", "stats.chart.tries"), [str(t["tries"]) for t in tries],
                 [("", [t["pensioners"] for t in tries])])


def _channels(figures: dict[str, Any], label: _Label) -> Drawing:
    channels = figures["coverage"]["channels"]
    return _bars(label("chart", "stats.chart.channels"), [label("method", c["method"]) for c in channels],
                 [("", [c["records"] for c in channels])], colours=[_PALETTE[1]])


def _fairness(dimension: str) -> Callable[[dict[str, Any], _Label], Drawing]:
    def draw(figures: dict[str, Any], label: _Label) -> Drawing:
        bands = next((d["bands"] for d in figures["dimensions"] if d["dimension"] == dimension), [])
        return _bars(
            f"{label('chart', 'stats.chart.pass_rate')} - {label('dimension', dimension)}",
            [label("band", b["band"]) + (" (!)" if b["flagged"] else "") for b in bands],
            [(label("chart", "stats.col.pass_rate"), [b["pass_rate"] or 0 for b in bands]),
             (label("chart", "stats.col.review_rate"), [b["review_rate"] or 0 for b in bands])],
            horizontal=True, percent=True,
        )
    return draw


CHARTS: dict[str, Callable[[dict[str, Any], _Label], Drawing]] = {
    "coverage": _coverage,
    "schemes": _schemes,
    "trend": _trend,
    "outcomes": _outcomes,
    "reasons": _reasons,
    "tries": _tries,
    "channels": _channels,
    **{f"fairness-{d}": _fairness(d) for d in ("age_band", "sex", "channel", "device", "reference_class")},
}
"""Chart name -> drawing function; `fairness-*` take the fairness figures, the others the
dashboard's."""


def chart(name: str, figures: dict[str, Any], lang: str) -> Drawing:
    """One chart in one language (KeyError for an unknown name)."""
    words, t = labeller(lang), translator(lang)

    def label(kind: str, code: str | None) -> str:
        return t(code or "") if kind == "chart" else words(kind, code)

    return CHARTS[name](figures, label)


def svg(drawing: Drawing) -> str:
    """The drawing as an SVG document."""
    return renderSVG.drawToString(drawing)
