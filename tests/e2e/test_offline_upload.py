"""The network goes away: mid-upload (the upload resumes where it stopped), and during
the recording (the recording waits in IndexedDB, bound to its challenge, and is sent
when the network is back - even from a new visit after the tab was closed)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

import pytest
from sqlalchemy import select

from models import Attempt, CertificationSession

from .conftest import LIVE_CHALLENGE, record_on_camera, shoot, wait_for_result

pytestmark = [pytest.mark.e2e, pytest.mark.data, pytest.mark.slow]

READ_OUTBOX = """async () => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open('certify', 1);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const items = await new Promise((resolve, reject) => {
    const request = db.transaction('outbox', 'readonly').objectStore('outbox').getAll();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  db.close();
  return items.map((i) => ({ id: i.id, owner: i.owner, nonce: i.session.nonce, size: i.blob.size,
                             uploadId: i.uploadId, type: i.mimeType }));
}"""


def _chunk_index(url: str) -> int:
    return int(url.rsplit("/", 1)[1])


def test_the_upload_resumes_after_the_network_drops(live_app, phone):
    pensioner = live_app.enrol("吴桂香")
    page = phone.new_page()
    opened = live_app.force_challenge(page, LIVE_CHALLENGE)
    held: list = []
    stored: Counter[int] = Counter()

    def cut_at_chunk_two(route) -> None:
        if _chunk_index(route.request.url) == 2 and not held:
            held.append(route)  # the connection drops while this chunk is on its way
            return
        route.continue_()

    page.route("**/v1/uploads/*/chunks/*", cut_at_chunk_two)
    page.on("response", lambda r: stored.update([_chunk_index(r.url)])
            if "/chunks/" in r.url and r.request.method == "PUT" and r.status == 200 else None)
    page.goto(live_app.link(pensioner))
    page.click("#agree")
    record_on_camera(page)
    for _ in range(300):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the upload never reached chunk 2"

    phone.set_offline(True)
    held[0].abort("internetdisconnected")
    page.wait_for_selector("#upload-state:not([hidden])")
    assert "网络断开了" in page.inner_text("#upload-state")
    assert page.evaluate("() => navigator.onLine") is False
    outbox = page.evaluate(READ_OUTBOX)
    assert len(outbox) == 1 and outbox[0]["id"] == opened[0] and outbox[0]["uploadId"]
    assert outbox[0]["type"] == "video/webm"
    shoot(page, "phone-4-upload-offline")
    page.wait_for_timeout(1500)
    assert sorted(stored) == [0, 1]  # nothing more went out while offline

    phone.set_offline(False)
    assert wait_for_result(page) == "passed"
    chunk_count = max(stored) + 1
    assert chunk_count > 3
    assert stored == Counter({i: 1 for i in range(chunk_count)})  # every chunk sent once: resumed, not restarted
    assert page.evaluate(READ_OUTBOX) == []
    with live_app.services.sessions() as db:
        attempt = db.scalar(select(Attempt).where(Attempt.session_id == uuid.UUID(opened[0])))
        assert attempt.status == "passed" and attempt.video_bytes == outbox[0]["size"]


def test_a_recording_made_offline_waits_and_is_sent_later(live_app, phone):
    pensioner = live_app.enrol("郑福生")
    url = live_app.link(pensioner)
    page = phone.new_page()
    opened = live_app.force_challenge(page, LIVE_CHALLENGE)
    page.goto(url)
    page.click("#agree")
    page.wait_for_selector("#start-recording:not([disabled])")
    page.click("#start-recording")
    page.wait_for_selector("#rec-indicator:not([hidden])", timeout=20_000)
    phone.set_offline(True)  # the signal goes while the pensioner is recording
    page.wait_for_selector("#upload-state:not([hidden])", timeout=30_000)
    assert "网络断开了" in page.inner_text("#upload-state")
    outbox = page.evaluate(READ_OUTBOX)
    assert [item["id"] for item in outbox] == opened and outbox[0]["uploadId"] is None
    page.close()  # ... and the tab is closed

    # it comes back much later than the 5 minutes allowed for starting a recording
    with live_app.services.sessions() as db:
        session = db.get(CertificationSession, uuid.UUID(opened[0]))
        issued = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
        session.created_at = issued
        session.expires_at = issued + dt.timedelta(seconds=live_app.services.settings.session_ttl_s)
        session.upload_deadline = issued + dt.timedelta(seconds=live_app.services.settings.upload_window_s)
        db.commit()
    phone.set_offline(False)
    later = phone.new_page()
    later.goto(url)  # the same link, the same phone: the kept recording is sent first
    assert wait_for_result(later) == "passed"
    with live_app.services.sessions() as db:
        attempts = db.scalars(select(Attempt).where(Attempt.pensioner_id == uuid.UUID(pensioner))).all()
        assert len(attempts) == 1
        assert str(attempts[0].session_id) == opened[0]  # still bound to the challenge it answered
        assert attempts[0].uploaded_late is True
    assert later.evaluate(READ_OUTBOX) == []
