"""Words for codes (statuses, methods, schemes, decisions, reasons, bands) from the
pages' catalogue, for what the server itself writes: charts, the PDF report, exports."""

from __future__ import annotations

from collections.abc import Callable

from .i18n import catalogue

__all__ = ["LABEL_KINDS", "label", "labeller"]

LABEL_KINDS = {
    "status": ("agency.status.",),
    "method": ("agency.method.",),
    "scheme": ("scheme.",),
    "decision": ("attempt.status.",),
    "reason": ("reason.{}.title", "agency.review_reason."),
    "dimension": ("stats.dimension.",),
    "band": ("stats.band.",),
}
"""Where each kind of code finds its words (the first key that exists wins)."""


def label(lang: str, kind: str, code: str | None) -> str:
    """The catalogue's words for `code` (a code it does not know stays as it is)."""
    if code is None or code == "":
        return ""
    messages = catalogue(lang)
    for pattern in LABEL_KINDS[kind]:
        key = pattern.format(code) if "{}" in pattern else pattern + code
        if key in messages:
            return messages[key]
    return code


def labeller(lang: str) -> Callable[[str, str | None], str]:
    """label() with the language fixed."""
    return lambda kind, code: label(lang, kind, code)
