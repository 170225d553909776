"""Community staff on a tablet: sign in, their region's caseload, the assisted check
(the result records who helped and on which device), and a reference photo that only a
second person can approve."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from models import Attempt, FaceReference, QualificationRecord
from service.reference_review import distance_to_active, likeness
from service.rules.periods import period_for
from tests.integration.agency_helpers import staff_account

from .conftest import (
    LIVE_CHALLENGE,
    TABLET,
    record_on_camera,
    seed_failed_attempts,
    shoot,
    sign_in,
    wait_for_result,
)

pytestmark = [pytest.mark.e2e, pytest.mark.data, pytest.mark.slow]


def _certify_record(app, pensioner_id: str) -> None:
    now = app.services.clock()
    with app.services.sessions() as db:
        record = db.scalar(select(QualificationRecord).where(
            QualificationRecord.pensioner_id == uuid.UUID(pensioner_id), QualificationRecord.period == period_for(now)))
        record.status, record.certified_at, record.method = "certified", now, "in_person"
        record.valid_until = (now + dt.timedelta(days=365)).date()
        db.commit()


def distance_to_active_of(app, reference_id: str) -> tuple[float, str] | None:
    with app.services.sessions() as db:
        reference = db.get(FaceReference, uuid.UUID(reference_id))
        return distance_to_active(db, keyring=app.services.keyring, reference=reference)


def test_staff_see_their_caseload_and_run_an_assisted_check(live_app, tablet):
    wang = staff_account(live_app.services, username="wang.e2e", display_name="王社工")
    due = live_app.enrol("周建国")
    failed = live_app.enrol("冯秀英")
    seed_failed_attempts(live_app, failed, count=1)
    _certify_record(live_app, live_app.enrol("陈志明"))
    live_app.enrol("沈阿婆", region="310104")  # another region: never shown to this account

    page = tablet.new_page()
    page.goto(f"{live_app.base_url}/staff")
    page.wait_for_url("**/staff/login**")
    shoot(page, "tablet-1-login")
    sign_in(page, live_app.base_url, "wang.e2e")
    page.wait_for_selector("#cases li")
    assert "王社工" in page.inner_text("#who")
    page.click(".tab[data-state=failed]")
    page.wait_for_selector(f"#cases a[data-pensioner='{failed}']")
    assert "过暗" not in page.inner_text("#cases")
    shoot(page, "tablet-2-caseload")
    page.fill("#q", "沈")
    page.click("#search button")
    page.wait_for_selector("#cases-empty:not([hidden])")  # the other region's pensioner does not exist here
    page.fill("#q", "")
    page.click("#search button")
    page.click(".tab[data-state=due]")
    page.click(f"#cases a[data-pensioner='{due}']")

    page.wait_for_selector("#case:not([hidden])")
    assert page.inner_text("#case-name") == "周建国"
    assert page.inner_text("#case-state") == "待认证"
    shoot(page, "tablet-3-case")
    page.click("#assist")
    page.wait_for_selector("#screen-consent:not([hidden])")
    page.wait_for_selector("#assist-for:has-text('周建国')")
    shoot(page, "tablet-4-assist-consent")
    live_app.force_challenge(page, LIVE_CHALLENGE)
    page.click("#agree")
    record_on_camera(page, shots="tablet-5-assist")
    assert wait_for_result(page) == "passed"
    assert "认证成功" in page.inner_text("#screen-result")
    shoot(page, "tablet-6-assist-result")

    device = page.evaluate("() => localStorage.getItem('certify.deviceId')")
    with live_app.services.sessions() as db:
        attempt = db.scalar(select(Attempt).where(Attempt.pensioner_id == uuid.UUID(due)))
        assert (attempt.status, attempt.channel, attempt.assisted_by, attempt.device_id) == (
            "passed", "assisted", wang, device)
        assert attempt.consent_at is not None
        record = db.scalar(select(QualificationRecord).where(QualificationRecord.attempt_id == attempt.id))
        assert (record.method, record.assisted_by) == ("assisted", wang)

    page.click("#result-main")  # back to the case
    page.wait_for_selector("#case:not([hidden])")
    history = page.inner_text("#attempts")
    assert "协助认证" in history and "协助人：王社工" in history and device[:8] in history
    assert page.inner_text("#case-state") == "已认证"
    shoot(page, "tablet-7-case-after")


def test_a_reference_photo_needs_a_second_person(live_app, tablet, browser):
    li = staff_account(live_app.services, username="li.e2e", display_name="李社工")
    zhao = staff_account(live_app.services, username="zhao.e2e", display_name="赵社工")
    pensioner = live_app.enrol("孙玉兰")

    page = tablet.new_page()
    sign_in(page, live_app.base_url, "li.e2e")
    page.goto(f"{live_app.base_url}/staff/cases/{pensioner}/photo")
    page.wait_for_selector("#take:not([disabled])")
    page.wait_for_timeout(400)
    shoot(page, "tablet-8-photo")
    page.click("#take")
    page.click("#submit")
    page.wait_for_selector("#photo-sent:not([hidden])", timeout=60_000)
    shoot(page, "tablet-8-photo-sent")
    with live_app.services.sessions() as db:
        pending = db.scalar(select(FaceReference).where(
            FaceReference.pensioner_id == uuid.UUID(pensioner), FaceReference.status == "pending"))
        assert pending is not None and pending.created_by == li and pending.source == "staff_capture"
        reference_id = str(pending.id)

    page.goto(f"{live_app.base_url}/staff/approvals")
    card = page.locator(f"li[data-reference='{reference_id}']")
    card.wait_for()
    assert "这是您拍的照片" in card.inner_text() and card.locator(".approve").count() == 0
    # The fake camera's frame is the enrolled person (or close to them): never "different",
    # and the words shown are the server's verdict band for the distance it measured.
    nearest = distance_to_active_of(live_app, reference_id)
    assert nearest is not None
    shown = {"same": "很像", "unsure": "不太确定"}[likeness(*nearest)]
    assert shown in card.inner_text(), (nearest, card.inner_text())
    shoot(page, "tablet-9-approvals-own")

    second = browser.new_context(viewport=TABLET, locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        other = second.new_page()
        sign_in(other, live_app.base_url, "zhao.e2e")
        other.goto(f"{live_app.base_url}/staff/approvals")
        card = other.locator(f"li[data-reference='{reference_id}']")
        card.wait_for()
        shoot(other, "tablet-10-approvals")
        card.locator(".approve").click()
        card.locator(".outcome.ok").wait_for()
        assert "已批准" in card.inner_text()
        shoot(other, "tablet-11-approved")
    finally:
        second.close()
    with live_app.services.sessions() as db:
        reference = db.get(FaceReference, uuid.UUID(reference_id))
        assert (reference.status, reference.created_by, reference.decided_by) == ("active", li, zhao)
