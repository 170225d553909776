"""Issue 15, section 3: text at 200 % (a phone's largest font setting, a browser's text
scaling) cuts nothing off and draws nothing over anything else, on the pensioner pages
(a small 360 px Android phone), the staff pages (tablet) and the agency pages (desktop).
Screenshots: docs/screenshots/zoom-*.png."""

from __future__ import annotations

import pytest

from tests.integration.agency_helpers import (
    decided_attempt,
    make_pensioner,
    staff_account,
)

from .a11y import TEXT_ZOOM, agency_sign_in, layout_problems, open_agency_sign_in, scale_text
from .conftest import (
    LIVE_CHALLENGE,
    TABLET,
    _context,
    record_on_camera,
    shoot,
    sign_in,
    wait_for_result,
)

pytestmark = [pytest.mark.e2e, pytest.mark.data, pytest.mark.slow, pytest.mark.a11y]

SMALL_PHONE = {"width": 360, "height": 740}
"""A common small Android screen."""
DESKTOP = {"width": 1360, "height": 900}


class ZoomChecks:
    def __init__(self) -> None:
        self.problems: dict[str, list[str]] = {}

    def check(self, page, name: str, *, shot: str | None = None) -> None:
        scale_text(page, TEXT_ZOOM)
        page.wait_for_timeout(200)
        found = layout_problems(page)
        if found:
            self.problems[name] = found
        if shot:
            shoot(page, shot)

    def assert_none(self) -> None:
        text = "\n".join(f"{name}:\n  " + "\n  ".join(found) for name, found in self.problems.items())
        print(text)  # in full: pytest shortens the assertion message
        assert self.problems == {}, text


def test_pensioner_pages_with_large_text(live_app, browser):
    checks = ZoomChecks()
    pensioner = live_app.enrol("欧阳秀兰")
    context = _context(browser, SMALL_PHONE)
    try:
        page = context.new_page()
        live_app.force_challenge(page, LIVE_CHALLENGE)
        url = live_app.link(pensioner)
        page.goto(url)
        page.wait_for_selector("#screen-welcome:not([hidden])")
        checks.check(page, "welcome", shot="zoom-phone-1-welcome")
        page.click("#agree")
        page.wait_for_selector("#start-recording:not([disabled])")
        checks.check(page, "camera", shot="zoom-phone-2-camera")
        record_on_camera(page)
        assert wait_for_result(page) == "passed"
        page.wait_for_selector("#screen-result[data-certificates='1']")
        checks.check(page, "result", shot="zoom-phone-5-result")
        again = context.new_page()
        again.goto(url)
        again.wait_for_selector("#screen-message:not([hidden])")
        checks.check(again, "message")
        english = context.new_page()
        english.goto(f"{live_app.base_url}/?lang=en")
        checks.check(english, "index (en)")
    finally:
        context.close()
    checks.assert_none()


def test_recording_screen_with_large_text(live_app, browser):
    """The step prompt, its icon, the countdown and the recording badge while recording."""
    checks = ZoomChecks()
    context = _context(browser, SMALL_PHONE)
    try:
        page = context.new_page()
        live_app.force_challenge(page, LIVE_CHALLENGE)
        page.goto(live_app.link(live_app.enrol("司马光明")))
        page.click("#agree")
        page.wait_for_selector("#start-recording:not([disabled])")
        scale_text(page, TEXT_ZOOM)  # before the prompts appear
        page.click("#start-recording")
        page.wait_for_selector("#step-count:not(:empty)", timeout=30_000)
        checks.check(page, "recording", shot="zoom-phone-3-recording")
        page.locator("#panel-upload:visible, #screen-result:visible").first.wait_for(timeout=45_000)
        assert wait_for_result(page) == "passed"
    finally:
        context.close()
    checks.assert_none()


def test_staff_and_agency_pages_with_large_text(live_app, browser):
    checks = ZoomChecks()
    staff_account(live_app.services, username="zoom.staff", display_name="放大社工")
    staff_account(live_app.services, username="zoom.reviewer", role="reviewer", region="110000")
    staff_account(live_app.services, username="zoom.admin", role="admin", region="110000")
    pensioner = live_app.enrol("上官婉儿")
    decided_attempt(live_app.services, make_pensioner(live_app.services, name="皇甫嵩"), status="review",
                    reasons=["match_uncertain"], key_frames=1)
    tablet = _context(browser, TABLET)
    try:
        page = tablet.new_page()
        page.goto(f"{live_app.base_url}/staff/login")
        checks.check(page, "staff login")
        sign_in(page, live_app.base_url, "zoom.staff")
        page.wait_for_selector("#cases li")
        checks.check(page, "staff cases", shot="zoom-tablet-2-caseload")
        page.goto(f"{live_app.base_url}/staff/cases/{pensioner}")
        page.wait_for_selector("#case:not([hidden])")
        checks.check(page, "staff case", shot="zoom-tablet-3-case")
        page.goto(f"{live_app.base_url}/staff/cases/{pensioner}/assist")
        page.wait_for_selector("#screen-consent:not([hidden])")
        checks.check(page, "staff assist consent")
    finally:
        tablet.close()
    desktop = _context(browser, DESKTOP)
    try:
        page = desktop.new_page()
        open_agency_sign_in(page, f"{live_app.base_url}/agency/reviews")
        agency_sign_in(page, "zoom.reviewer", ready="#queue tr.clickable")
        page.locator("#queue tr.clickable").first.click()
        page.wait_for_selector("#detail .frames img")
        checks.check(page, "agency review", shot="zoom-agency-reviews")
        open_agency_sign_in(page, f"{live_app.base_url}/agency/results")
        agency_sign_in(page, "zoom.admin", ready="#results tbody tr td .badge")
        checks.check(page, "agency results", shot="zoom-agency-results")
    finally:
        desktop.close()
    checks.assert_none()
