"""Words for codes (statuses, methods, schemes, decisions, reasons, bands) from the
pages' catalogue (web/catalogue/<lang>.json, the one place words live), for what the
server itself writes: exports, charts, the PDF report. Codes stay in their own columns;
these are the words beside them."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from pathlib import Path

__all__ = ["DEFAULT_LABEL_LANGUAGE", "LABEL_KINDS", "LABEL_LANGUAGES", "label", "labeller", "labels_of"]

LABEL_LANGUAGES = ("zh-CN", "en")
DEFAULT_LABEL_LANGUAGE = "zh-CN"
"""Exports and reports speak Simplified Chinese unless English is asked for."""
_CATALOGUE = Path(__file__).resolve().parents[1] / "web" / "catalogue"


@functools.cache
def _messages(lang: str) -> Mapping[str, str]:
    if lang not in LABEL_LANGUAGES:
        raise KeyError(lang)
    return json.loads((_CATALOGUE / f"{lang}.json").read_text(encoding="utf-8"))

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
    messages = _messages(lang)
    for pattern in LABEL_KINDS[kind]:
        key = pattern.format(code) if "{}" in pattern else pattern + code
        if key in messages:
            return messages[key]
    return code


def labeller(lang: str) -> Callable[[str, str | None], str]:
    """label() with the language fixed."""
    return lambda kind, code: label(lang, kind, code)


def labels_of(lang: str, kind: str) -> dict[str, str]:
    """Every code of one kind the catalogue has words for, with those words."""
    messages = _messages(lang)
    found: dict[str, str] = {}
    for pattern in reversed(LABEL_KINDS[kind]):  # the first pattern wins, as in label()
        before, _, after = (pattern.partition("{}") if "{}" in pattern else (pattern, "", ""))
        for key, words in messages.items():
            if key.startswith(before) and key.endswith(after) and len(key) > len(before) + len(after):
                code = key[len(before):len(key) - len(after)] if after else key[len(before):]
                if "." not in code:
                    found[code] = words
    return found
