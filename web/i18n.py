"""The pages' message catalogue: Simplified Chinese by default, English as a choice.

One JSON file per language in web/catalogue/ holds every text the pages show, including
a translation of every reason code the engine can produce and every API error code. The
server renders pages in the chosen language and embeds that catalogue for the scripts;
the language switch is kept in a cookie (and the browser's storage) for later visits.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from pathlib import Path

from fastapi import Request

__all__ = [
    "LANGUAGES",
    "DEFAULT_LANGUAGE",
    "LANG_COOKIE",
    "LANG_COOKIE_MAX_AGE_S",
    "catalogue",
    "pick_language",
    "translator",
]

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
"""Pages speak Simplified Chinese unless the person chose English."""
LANG_COOKIE = "certify_lang"
LANG_COOKIE_MAX_AGE_S = 365 * 24 * 3600
"""The language choice is remembered for a year."""

_DIR = Path(__file__).resolve().parent / "catalogue"


@functools.cache
def catalogue(lang: str) -> Mapping[str, str]:
    """Every message of one language, by key."""
    if lang not in LANGUAGES:
        raise KeyError(lang)
    return json.loads((_DIR / f"{lang}.json").read_text(encoding="utf-8"))


def pick_language(request: Request) -> str:
    """?lang= (an explicit switch), then the remembered choice, then Chinese."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def translator(lang: str) -> Callable[..., str]:
    messages = catalogue(lang)

    def t(key: str, **params: object) -> str:
        text = messages.get(key, key)
        for name, value in params.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    return t
