"""The device family of a browser, from its User-Agent header (pure, no I/O).

Only the family is kept (never the full header): enough to see whether the check works
as well on a cheap Android phone as on an iPhone, too little to single anyone out.
"""

from __future__ import annotations

import re
from enum import StrEnum, nonmember

__all__ = ["DeviceFamily", "device_family"]


class DeviceFamily(StrEnum):
    ANDROID = "android"
    IOS = "ios"
    HARMONYOS = "harmonyos"
    WINDOWS = "windows"
    MAC = "mac"
    LINUX = "linux"
    OTHER = "other"
    UNKNOWN = "unknown"
    """No User-Agent was sent (API clients, sessions opened before it was recorded)."""

    ALL = nonmember((ANDROID, IOS, HARMONYOS, WINDOWS, MAC, LINUX, OTHER, UNKNOWN))


# Order matters: HarmonyOS phones also say "Android", iPads say "Mac OS X" and
# Android says "Linux".
_RULES: tuple[tuple[re.Pattern[str], DeviceFamily], ...] = (
    (re.compile(r"HarmonyOS|OpenHarmony|ArkWeb", re.I), DeviceFamily.HARMONYOS),
    (re.compile(r"iPhone|iPad|iPod|CPU (iPhone )?OS \d", re.I), DeviceFamily.IOS),
    (re.compile(r"Android", re.I), DeviceFamily.ANDROID),
    (re.compile(r"Windows", re.I), DeviceFamily.WINDOWS),
    (re.compile(r"Macintosh|Mac OS X", re.I), DeviceFamily.MAC),
    (re.compile(r"Linux|X11|CrOS", re.I), DeviceFamily.LINUX),
)


def device_family(user_agent: str | None) -> DeviceFamily:
    """android, ios, harmonyos, windows, mac, linux, other; unknown without a header."""
    if not user_agent or not user_agent.strip():
        return DeviceFamily.UNKNOWN
    for pattern, family in _RULES:
        if pattern.search(user_agent):
            return family
    return DeviceFamily.OTHER
