"""Issue 15, section 3: the pages for people with poor sight.

axe-core runs on every page (and every screen of the one-page flows) of the pensioner,
staff and agency flows, in Simplified Chinese and in English, and finds no serious or
critical violation. The capture flow is walked with the keyboard alone, in the order a
screen reader reads it, and the challenge prompts are shown in live regions that a
screen reader announces. The figures (violations by page and impact) are printed.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from models import FaceReference
from tests.integration.agency_helpers import (
    PASSWORD,
    decided_attempt,
    make_pensioner,
    staff_account,
)
from web.i18n import LANG_COOKIE

from .a11y import AxeReport, agency_sign_in, audit, finish, open_agency_sign_in
from .conftest import (
    LIVE_CHALLENGE,
    PHONE,
    TABLET,
    WRONG_CHALLENGE,
    _context,
    seed_failed_attempts,
    wait_for_result,
)

pytestmark = [pytest.mark.e2e, pytest.mark.data, pytest.mark.slow, pytest.mark.a11y]

LANGUAGES = ("zh-CN", "en")
DESKTOP = {"width": 1360, "height": 900}

_WATCH_LIVE_REGIONS = """() => {
  window.__announced = [];
  const watch = (id) => {
    const el = document.getElementById(id);
    new MutationObserver(() => {
      const text = el.innerText.trim();
      const seen = window.__announced;
      if (text && (!seen.length || seen[seen.length - 1][1] !== text)) seen.push([id, text]);
    }).observe(el, { childList: true, characterData: true, subtree: true });
  };
  ['step', 'countdown-overlay', 'hint', 'upload-percent'].forEach(watch);
}"""
"""Records every text a live region of the capture flow shows, in order."""


def _in_language(browser, viewport: dict[str, int], lang: str, base_url: str):
    context = _context(browser, viewport)
    context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": base_url}])
    return context


def _check(report: AxeReport, page, name: str) -> None:
    page.wait_for_timeout(150)  # let a screen that just changed settle
    report.add(name, audit(page))


def _tab_to(page, selector: str, limit: int = 40) -> None:
    """Press Tab until `selector` has the focus (the keyboard and screen-reader order)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} was not reached with Tab")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_pensioner_pages_and_the_capture_flow_by_keyboard(live_app, browser, lang):
    report = AxeReport()
    english = lang == "en"
    pensioner = live_app.enrol("周淑珍" if english else "吴德华")
    if english:  # this run ends on the last try: the locked result and the appeal
        seed_failed_attempts(live_app, pensioner, count=live_app.services.settings.max_failed_attempts - 1)
    context = _in_language(browser, PHONE, lang, live_app.base_url)
    try:
        page = context.new_page()
        page.goto(f"{live_app.base_url}/")
        assert page.locator("html").get_attribute("lang") == lang
        _check(report, page, f"{lang} /")

        live_app.force_challenge(page, WRONG_CHALLENGE if english else LIVE_CHALLENGE)
        held: list = []

        def hold_first_chunk(route) -> None:
            if route.request.method == "PUT" and not held:
                held.append(route)
                return
            route.continue_()

        page.route("**/v1/uploads/*/chunks/*", hold_first_chunk)
        url = live_app.link(pensioner)
        page.goto(url)
        page.wait_for_selector("#screen-welcome:not([hidden])")
        _check(report, page, f"{lang} /l welcome and consent")

        # the whole capture flow with the keyboard, in reading order
        _tab_to(page, "#agree")
        page.keyboard.press("Enter")
        page.wait_for_selector("#start-recording:not([disabled])")
        hint = page.locator("#hint")
        assert (hint.get_attribute("role"), hint.get_attribute("aria-live")) == ("status", "polite")
        _check(report, page, f"{lang} /l camera check")

        step = page.locator("#step")
        assert step.get_attribute("aria-live") == "assertive"
        assert page.locator("#countdown-overlay").get_attribute("aria-live") == "assertive"
        page.evaluate(_WATCH_LIVE_REGIONS)
        _tab_to(page, "#start-recording")
        page.keyboard.press("Enter")
        page.wait_for_selector("#step-count:not(:empty)", timeout=30_000)
        _check(report, page, f"{lang} /l recording")
        page.wait_for_selector("#panel-upload:not([hidden])", timeout=45_000)
        _check(report, page, f"{lang} /l sending")
        assert page.locator("#upload-percent").get_attribute("aria-live") == "polite"

        # the prompts were shown, one after another, inside the live region
        announced = page.evaluate("() => window.__announced")
        in_step = [text for region, text in announced if region == "step"]
        prompts = ["Turn your head to the left", "Please nod"] if english else ["请张张嘴"]
        for prompt in prompts:
            assert any(prompt in text for text in in_step), (prompt, announced)
        countdown = [text for region, text in announced if region == "countdown-overlay"]
        assert countdown[:3] == ["3", "2", "1"], announced

        held[0].continue_()
        status = wait_for_result(page)
        assert status == ("failed" if english else "passed"), live_app.last_attempt(pensioner)
        assert page.locator("#screen-result").get_attribute("aria-live") == "polite"
        focused = page.evaluate("() => document.activeElement.id")
        assert focused == "result-title"  # a new screen starts at its heading
        if english:
            _check(report, page, f"{lang} /l result: last try used")
            _tab_to(page, "#result-second")
            page.keyboard.press("Enter")
            page.wait_for_selector("#screen-result[data-appeal=sent]")
            _check(report, page, f"{lang} /l result: appeal sent")
        else:
            page.wait_for_selector("#screen-result[data-certificates='1']")
            _check(report, page, f"{lang} /l result: certified, certificate")
        attempt_id = page.evaluate("() => location.pathname.split('/').pop()") if "/r/" in page.url else None

        again = context.new_page()
        again.goto(url)
        again.wait_for_selector("#screen-message:not([hidden])")
        _check(report, again, f"{lang} /l message (link opened again)")
        if attempt_id is None:
            from models import Attempt

            with live_app.services.sessions() as db:
                attempt_id = str(db.scalars(select(Attempt.id).where(
                    Attempt.pensioner_id == uuid.UUID(pensioner)).order_by(Attempt.created_at.desc())).first())
        again.goto(f"{live_app.base_url}/r/{attempt_id}")
        wait_for_result(again)
        _check(report, again, f"{lang} /r/<attempt>")
    finally:
        context.close()
    finish(report, f"pensioner ({lang})")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_staff_pages(live_app, browser, lang):
    report = AxeReport()
    username = f"a11y.staff.{lang.lower().replace('-', '')}"
    staff_account(live_app.services, username=username, display_name="无障碍社工")
    pensioner = live_app.enrol("郑桂香" if lang == "zh-CN" else "何志刚")
    context = _in_language(browser, TABLET, lang, live_app.base_url)
    try:
        page = context.new_page()
        page.goto(f"{live_app.base_url}/staff/login")
        _check(report, page, f"{lang} /staff/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/staff/cases**")
        page.wait_for_selector("#cases li")
        _check(report, page, f"{lang} /staff/cases")
        page.goto(f"{live_app.base_url}/staff/cases/{pensioner}")
        page.wait_for_selector("#case:not([hidden])")
        _check(report, page, f"{lang} /staff/cases/<id>")
        page.goto(f"{live_app.base_url}/staff/cases/{pensioner}/assist")
        page.wait_for_selector("#screen-consent:not([hidden])")
        _check(report, page, f"{lang} /staff/cases/<id>/assist consent")
        _tab_to(page, "#agree")
        page.keyboard.press("Enter")
        page.wait_for_selector("#start-recording:not([disabled])")
        _check(report, page, f"{lang} /staff/cases/<id>/assist camera")
        page.goto(f"{live_app.base_url}/staff/cases/{pensioner}/photo")
        page.wait_for_selector("#take:not([disabled])")
        _check(report, page, f"{lang} /staff/cases/<id>/photo")
        page.click("#take")
        page.click("#submit")
        page.wait_for_selector("#photo-sent:not([hidden])", timeout=60_000)
        _check(report, page, f"{lang} /staff/cases/<id>/photo sent")
        with live_app.services.sessions() as db:
            reference = db.scalar(select(FaceReference.id).where(
                FaceReference.pensioner_id == uuid.UUID(pensioner), FaceReference.status == "pending"))
        page.goto(f"{live_app.base_url}/staff/approvals")
        page.locator(f"li[data-reference='{reference}']").wait_for()
        _check(report, page, f"{lang} /staff/approvals")
    finally:
        context.close()
    finish(report, f"staff ({lang})")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_agency_pages(live_app, browser, lang, shared_data):
    report = AxeReport()
    suffix = lang.lower().replace("-", "")
    staff_account(live_app.services, username=f"a11y.reviewer.{suffix}", role="reviewer", region="110000")
    staff_account(live_app.services, username=f"a11y.admin.{suffix}", role="admin", region="110000")
    pensioner = make_pensioner(live_app.services, region="110105", name="孔德明", external_ref=f"A11Y-{suffix}")
    frame = (shared_data / "people/barack_obama/2.jpg").read_bytes()
    decided_attempt(live_app.services, pensioner, status="review", reasons=["match_uncertain"],
                    key_frame_jpegs=[frame])
    decided_attempt(live_app.services, make_pensioner(live_app.services, region="110108"), status="failed",
                    reasons=["too_dark"])
    context = _in_language(browser, DESKTOP, lang, live_app.base_url)
    try:
        page = context.new_page()
        open_agency_sign_in(page, f"{live_app.base_url}/agency/reviews")
        _check(report, page, f"{lang} /agency/reviews sign-in")
        agency_sign_in(page, f"a11y.reviewer.{suffix}", ready="#queue tr.clickable")
        _check(report, page, f"{lang} /agency/reviews queue")
        page.focus("#queue tr.clickable")  # a review opens from the keyboard too
        page.keyboard.press("Enter")
        page.wait_for_selector("#detail .frames img")
        _check(report, page, f"{lang} /agency/reviews review")
        open_agency_sign_in(page, f"{live_app.base_url}/agency/results")
        _check(report, page, f"{lang} /agency/results sign-in")
        agency_sign_in(page, f"a11y.admin.{suffix}", ready="#results tbody tr td .badge")
        _check(report, page, f"{lang} /agency/results")
    finally:
        context.close()
    finish(report, f"agency ({lang})")
