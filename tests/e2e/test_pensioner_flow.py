"""A pensioner on a phone, from the one-time link to the result, in a real browser with
a real face video as the camera, and the real worker deciding."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import select

from models import Attempt, Certificate, CertificationSession, Review
from tests.qr import decode_qr_png

from .conftest import (
    LIVE_CHALLENGE,
    WRONG_CHALLENGE,
    record_on_camera,
    seed_failed_attempts,
    shoot,
    wait_for_result,
)

pytestmark = [pytest.mark.e2e, pytest.mark.data, pytest.mark.slow]


def _attempts(app, pensioner_id: str) -> list[Attempt]:
    with app.services.sessions() as db:
        return list(db.scalars(select(Attempt).where(Attempt.pensioner_id == uuid.UUID(pensioner_id))
                               .order_by(Attempt.created_at)))


def test_a_pensioner_certifies_from_the_link_to_the_result(live_app, phone):
    pensioner = live_app.enrol("张桂兰")
    url = live_app.link(pensioner)
    page = phone.new_page()
    opened = live_app.force_challenge(page, LIVE_CHALLENGE)

    page.goto(url)
    page.wait_for_selector("#screen-welcome:not([hidden])")
    assert page.inner_text("#welcome-hello") == "您好，张*兰"
    assert "#" not in page.url and page.url.endswith("/l")  # the token left the address bar
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    body_px = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_px >= 24
    shoot(page, "phone-1-welcome")

    page.click("#agree")
    # the preview is mirrored for the pensioner; the recording itself is not
    page.wait_for_selector("#preview.mirrored")
    record_on_camera(page, shots="phone-2")
    step_texts = page.locator("#plan li").all_inner_texts()
    assert step_texts == ["请张张嘴", "请张张嘴"]

    # hold one chunk for a moment to see the progress bar mid-upload
    status = wait_for_result(page)
    assert status == "passed", page.inner_text("#screen-result")
    text = page.inner_text("#screen-result")
    assert "认证成功" in text
    valid = (dt.date.today() + dt.timedelta(days=365))
    assert f"有效期至 {valid.year}年{valid.month}月{valid.day}日" in text
    shoot(page, "phone-5-result-passed")

    # the signed certificate, shown with a QR code that holds its compact signed form
    page.wait_for_selector("#screen-result[data-certificates='1']")
    card = page.locator("#result-certificates .certificate")
    assert "基本养老金" in card.inner_text() and "扫码即可核验真伪" in card.inner_text()
    qr = card.locator("img.qr")
    qr.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    png = page.request.get(live_app.base_url + qr.get_attribute("src")).body()
    decoded = decode_qr_png(png)
    with live_app.services.sessions() as db:
        certificate = db.scalar(select(Certificate).where(Certificate.pensioner_id == uuid.UUID(pensioner)))
    assert decoded == certificate.qr_token and card.get_attribute("data-certificate") == str(certificate.id)
    card.locator("figcaption").scroll_into_view_if_needed()
    shoot(page, "phone-5-result-certificate")

    attempts = _attempts(live_app, pensioner)
    assert len(attempts) == 1 and attempts[0].status == "passed"
    attempt = attempts[0]
    assert attempt.consent_at is not None and attempt.channel == "self" and attempt.device_id
    assert attempt.video_content_type.startswith("video/webm")  # Chromium records WebM
    assert 4000 <= attempt.video_duration_ms <= 10000
    assert str(attempt.session_id) == opened[0]
    with live_app.services.sessions() as db:
        session = db.get(CertificationSession, attempt.session_id)
        assert session.link_id is not None and session.consent_at == attempt.consent_at

    # the result can be reloaded on its own page, and the link now says "already certified"
    page.goto(f"{live_app.base_url}/r/{attempt.id}")
    assert wait_for_result(page) == "passed"
    again = phone.new_page()
    again.goto(url)
    again.wait_for_selector("#screen-message:not([hidden])")
    assert "您今年已经认证过了" in again.inner_text("#screen-message")
    shoot(again, "phone-6-already-certified")


def test_upload_progress_is_shown(live_app, phone):
    """The progress bar while chunks go up (one chunk is held back to look at it)."""
    pensioner = live_app.enrol("王秀珍")
    page = phone.new_page()
    live_app.force_challenge(page, LIVE_CHALLENGE)
    held: list = []

    def hold_third(route) -> None:
        if route.request.method == "PUT" and route.request.url.endswith("/chunks/3") and not held:
            held.append(route)
            return
        route.continue_()

    page.route("**/v1/uploads/*/chunks/*", hold_third)
    page.goto(live_app.link(pensioner))
    page.click("#agree")
    record_on_camera(page)
    deadline = 200
    while not held and deadline:
        page.wait_for_timeout(100)
        deadline -= 1
    assert held, "the upload never reached chunk 3"
    page.wait_for_selector("#upload-percent:has-text('%')")
    percent = int(re.search(r"(\d+)%", page.inner_text("#upload-percent")).group(1))
    assert 0 < percent < 100
    shoot(page, "phone-3-upload")
    held[0].continue_()
    assert wait_for_result(page) == "passed"


def test_failure_in_english_says_why_and_how_many_tries_are_left(live_app, phone):
    pensioner = live_app.enrol("李明")
    page = phone.new_page()
    live_app.force_challenge(page, WRONG_CHALLENGE)
    page.goto(live_app.link(pensioner))
    page.wait_for_selector("#screen-welcome:not([hidden])")
    page.click("[data-lang-switch]")
    page.wait_for_selector("html[lang=en]")
    assert page.inner_text("#welcome-hello") == "Hello, 李*"
    assert page.inner_text("#agree") == "I agree, start"
    shoot(page, "phone-1-welcome-en")
    page.click("#agree")
    record_on_camera(page)
    assert wait_for_result(page) == "failed"
    text = page.inner_text("#screen-result")
    assert "This try did not pass" in text
    assert "The requested movements were not seen" in text
    assert "Follow the prompts one at a time" in text
    assert "You can try 2 more times." in text
    assert page.inner_text("#result-main") == "Try again"
    shoot(page, "phone-5-result-failed-en")
    assert [a.reasons for a in _attempts(live_app, pensioner)] == [["challenge_not_followed"]]

    # the choice of language is remembered for the next visit
    later = phone.new_page()
    later.goto(f"{live_app.base_url}/")
    assert later.locator("html").get_attribute("lang") == "en"


def test_after_the_last_try_the_page_sends_the_pensioner_to_staff(live_app, phone):
    pensioner = live_app.enrol("赵淑芬")
    seed_failed_attempts(live_app, pensioner, count=live_app.services.settings.max_failed_attempts - 1)
    page = phone.new_page()
    live_app.force_challenge(page, WRONG_CHALLENGE)
    url = live_app.link(pensioner)
    page.goto(url)
    page.click("#agree")
    record_on_camera(page)
    assert wait_for_result(page) == "failed"
    text = page.inner_text("#screen-result")
    assert "本年度的手机认证次数已用完" in text and "请联系社区工作人员" in text
    assert "没有看到要求的动作" in text
    assert page.get_attribute("#result-main", "href") == "tel:12333"
    shoot(page, "phone-5-result-no-tries-left")

    # the last recording can go to a person: the appeal lands in the review queue
    assert page.inner_text("#result-second") == "请工作人员复核这次录像"
    page.click("#result-second")
    page.wait_for_selector("#screen-result[data-appeal=sent]")
    assert "已请工作人员复核您的录像" in page.inner_text("#result-extra")
    assert page.is_hidden("#result-second")
    last = _attempts(live_app, pensioner)[-1]
    with live_app.services.sessions() as db:
        review = db.scalar(select(Review).where(Review.attempt_id == last.id))
        assert (review.kind, review.state) == ("appeal", "open")
    shoot(page, "phone-5-result-appeal-sent")

    # coming back to the link: no new session can be opened, the page says where to get help
    again = phone.new_page()
    again.goto(url)
    again.wait_for_selector("#screen-message:not([hidden])")
    assert "本年度的手机认证次数已用完" in again.inner_text("#screen-message")


def test_a_link_opened_on_another_phone_is_refused(live_app, phone, browser):
    from .conftest import PHONE

    url = live_app.link(live_app.enrol("钱国华"))
    first = phone.new_page()
    first.goto(url)
    first.wait_for_selector("#screen-welcome:not([hidden])")
    other_phone = browser.new_context(viewport=PHONE, locale="zh-CN")
    try:
        second = other_phone.new_page()
        second.goto(url)
        second.wait_for_selector("#screen-message:not([hidden])")
        text = second.inner_text("#screen-message")
        assert "无法打开这个链接" in text and "已经在另一部手机上打开过" in text
        shoot(second, "phone-7-link-used")
    finally:
        other_phone.close()
