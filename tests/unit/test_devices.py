"""Device families from User-Agent headers (service.rules.devices)."""

from __future__ import annotations

import pytest

from service.rules.devices import device_family


@pytest.mark.parametrize("agent,family", [
    ("Mozilla/5.0 (Linux; Android 12; HarmonyOS; NOH-AN00) AppleWebKit/537.36 ArkWeb/4.1", "harmonyos"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "ios"),
    ("Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15", "ios"),
    ("Mozilla/5.0 (Linux; Android 13; 23021RAA2Y) AppleWebKit/537.36 Chrome/120 Mobile", "android"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120", "windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Safari/605.1.15", "mac"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120", "linux"),
    ("curl/8.5.0", "other"),
    ("", "unknown"),
    (None, "unknown"),
])
def test_device_family(agent, family):
    assert device_family(agent) == family
