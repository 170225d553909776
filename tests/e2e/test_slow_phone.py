"""A low-end phone on a weak network: Chromium's CPU slowed six times and its network
held to about 400 kbit/s up with 300 ms latency (Chrome DevTools Protocol), the
network dropping in the middle of the upload. The flow must still complete: the page
is usable in time, the progress bar moves, the upload resumes where it stopped and the
result arrives. The timings are printed."""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest

from .conftest import LIVE_CHALLENGE, record_on_camera, wait_for_result

pytestmark = [pytest.mark.e2e, pytest.mark.data, pytest.mark.slow]

CPU_SLOWDOWN = 6
"""Emulation.setCPUThrottlingRate: a cheap phone is several times slower than a laptop core."""
WEAK_NETWORK = {
    "offline": False,
    "latency": 300,  # ms, round trip
    "uploadThroughput": 400_000 // 8,  # bytes/s: 400 kbit/s up
    "downloadThroughput": 1_000_000 // 8,  # bytes/s: 1 Mbit/s down
}
PAGE_USABLE_S = 12.0
"""The welcome screen, with its button, shows within this on the slow phone and network."""
OFFLINE_S = 3.0


def _percent(page) -> int | None:
    match = re.search(r"(\d+)%", page.inner_text("#upload-percent") or "")
    return int(match.group(1)) if match else None


def test_a_slow_phone_on_a_weak_network_completes_the_flow(live_app, phone):
    pensioner = live_app.enrol("冯秀英")
    url = live_app.link(pensioner)
    page = phone.new_page()
    live_app.force_challenge(page, LIVE_CHALLENGE)
    cdp = phone.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", WEAK_NETWORK)
    stored: Counter[int] = Counter()
    page.on("response", lambda r: stored.update([int(r.url.rsplit("/", 1)[1])])
            if "/chunks/" in r.url and r.request.method == "PUT" and r.status == 200 else None)
    timings: dict[str, float] = {}
    started = time.monotonic()

    page.goto(url, wait_until="commit")
    page.wait_for_selector("#agree:visible:not([disabled])", timeout=PAGE_USABLE_S * 1000)
    timings["page usable"] = time.monotonic() - started
    page.click("#agree")
    record_on_camera(page)  # camera check, countdown, the steps, until the upload starts
    timings["recorded, upload started"] = time.monotonic() - started

    # the progress bar moves on the weak network
    seen: list[int] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (len(set(seen)) < 3 or seen[-1] < 30):
        percent = _percent(page)
        if percent is not None and (not seen or percent != seen[-1]):
            seen.append(percent)
        page.wait_for_timeout(250)
    assert len(set(seen)) >= 3 and seen == sorted(seen), f"the progress bar showed {seen}"
    assert seen[-1] < 100, "the upload finished before the network could drop"
    timings[f"upload at {seen[-1]}%"] = time.monotonic() - started

    # the network drops in the middle of the upload ...
    cdp.send("Network.emulateNetworkConditions", {**WEAK_NETWORK, "offline": True})
    page.wait_for_selector("#upload-state:not([hidden])", timeout=30_000)
    assert "网络断开了" in page.inner_text("#upload-state")
    before_drop = sorted(stored)
    page.wait_for_timeout(OFFLINE_S * 1000)
    assert sorted(stored) == before_drop  # nothing goes out while offline
    # ... and comes back, as slow as before
    cdp.send("Network.emulateNetworkConditions", WEAK_NETWORK)
    timings["network back"] = time.monotonic() - started
    status = wait_for_result(page, timeout_s=240)
    timings["result shown"] = time.monotonic() - started

    chunk_count = max(stored) + 1
    assert status == "passed", page.inner_text("#screen-result")
    assert 0 < len(before_drop) < chunk_count
    assert stored == Counter({i: 1 for i in range(chunk_count)})  # resumed: no chunk sent twice
    print(f"\nslow phone (CPU /{CPU_SLOWDOWN}, {WEAK_NETWORK['uploadThroughput'] * 8 // 1000} kbit/s up, "
          f"{WEAK_NETWORK['latency']} ms, offline {OFFLINE_S:g} s mid-upload; {chunk_count} chunks): "
          + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items()))
