"""The pensioner flow in Safari's engine (WebKitGTK): an MP4/H.264+AAC recording, as
iPhones make, through the page, the resumable upload and the worker.

WebKit's mock camera shows a generated picture without a face, so the first test proves
the MP4 path end to end and expects the honest outcome, `no_face`. The second sends a
real face video, re-encoded as an iPhone writes it (H.264 + AAC in MP4, the picture
stored sideways with a rotation in the track header), through the same resumable
upload API the page uses, and gets the engine's real verdict.
"""

from __future__ import annotations

import hashlib
import time
import uuid

import httpx
import pytest
from sqlalchemy import select

from certify import parse_challenge
from certify.video import decode_video
from models import Attempt, CertificationSession
from models.uploads import Upload
from tests.media import ffmpeg, with_rotation

from .conftest import CAMERA_CLIP, LIVE_CHALLENGE, save_screenshot
from .webkit import WebKitPage, webkit_browser, xvfb_display  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.webkit, pytest.mark.data, pytest.mark.slow]

PAGE_USABLE_S = 15
"""The welcome screen of a freshly started WebKit shows within this."""


def shoot(page: WebKitPage, name: str) -> None:
    save_screenshot(page.driver.get_screenshot_as_png(), page.blur_boxes(), name)


def _attempts(app, pensioner_id: str) -> list[Attempt]:
    with app.services.sessions() as db:
        return list(db.scalars(select(Attempt).where(Attempt.pensioner_id == uuid.UUID(pensioner_id))))


def test_webkit_records_mp4_and_the_server_decodes_it(live_app, webkit_browser, tmp_path):  # noqa: F811
    pensioner = live_app.enrol("孙玉兰")
    page = WebKitPage(webkit_browser)
    started = time.monotonic()
    webkit_browser.get(live_app.link(pensioner))
    page.wait_for("#screen-welcome:not([hidden])", timeout_s=PAGE_USABLE_S)
    print(f"\nWebKit: welcome screen after {time.monotonic() - started:.1f} s")
    assert page.text("#welcome-hello") == "您好，孙*兰"
    # Safari's engine offers MP4 only: the page must record that, not WebM
    assert webkit_browser.execute_script(
        "return [MediaRecorder.isTypeSupported('video/webm'), MediaRecorder.isTypeSupported('video/mp4')]"
    ) == [False, True]
    shoot(page, "webkit-1-welcome")

    page.click("#agree")
    page.wait_for("#start-recording:not([disabled])")
    time.sleep(0.5)  # a hint or two from the in-page check
    shoot(page, "webkit-2-camera")
    page.click("#start-recording")
    page.wait_for("#rec-indicator:not([hidden])", timeout_s=20)
    page.wait_for("#step-count:not(:empty)")
    shoot(page, "webkit-2-recording")

    page.wait_for("#screen-result[data-status]", timeout_s=180)
    status = webkit_browser.execute_script("return document.querySelector('#screen-result').dataset.status")
    shoot(page, "webkit-5-result")
    print(f"WebKit: result '{status}' after {time.monotonic() - started:.1f} s")

    [attempt] = _attempts(live_app, pensioner)
    with live_app.services.sessions() as db:
        upload = db.scalar(select(Upload).where(Upload.session_id == attempt.session_id))
    assert upload is not None and upload.chunk_count > 1  # the resumable, chunked upload
    assert attempt.video_content_type.startswith("video/mp4")
    # the server read the MP4 WebKit made: size, length and a decision on its pictures
    assert (attempt.video_width, attempt.video_height) == (640, 480)
    assert attempt.video_duration_ms is not None and attempt.video_duration_ms >= 3000
    assert (status, attempt.status, attempt.reasons) == ("failed", "failed", ["no_face"])
    assert "没有拍到您的脸" in page.text("#screen-result")

    stored = tmp_path / "webkit.mp4"
    stored.write_bytes(live_app.services.store.read(attempt.video_key))
    assert stored.read_bytes()[4:8] == b"ftyp"
    decoded = decode_video(stored)
    print(f"WebKit MP4: {attempt.video_bytes} bytes, {decoded.info.codec}/{decoded.info.container}, "
          f"{decoded.info.duration_ms} ms, {len(decoded.frames)} frames sampled, "
          f"sound {decoded.audio.duration_ms if decoded.audio else 0} ms, truncated={decoded.truncated}")
    assert decoded.info.codec == "h264"
    # WebKitGTK's recorder (GStreamer's mp4mux fallback) repeats the fragment after its
    # final flush, so decoding stops at the repeat (truncated): most of it still decodes
    assert len(decoded.frames) >= 30  # 10 fps over at least 3 s of pictures


def _iphone_mp4(source, target, work) -> None:
    """H.264 (High) + AAC in MP4, a portrait picture stored landscape with a 90-degree
    display rotation in the track header, as an iPhone stores a portrait recording."""
    sideways = work / "sideways.mp4"
    # the square clip made portrait (480x640, bands above and below), then turned a
    # quarter clockwise for storage; the tag (rotate=90) turns it back for display
    ffmpeg("-i", str(source), "-vf", "pad=480:640:0:80,transpose=1", "-c:v", "libx264", "-profile:v", "high",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", str(sideways))
    with_rotation(sideways, target, 90)


def test_an_iphone_recording_goes_through_the_resumable_upload(live_app, shared_data, tmp_path):
    video = tmp_path / "iphone.mp4"
    _iphone_mp4(shared_data / CAMERA_CLIP, video, tmp_path)
    probe = decode_video(video)
    assert probe.info.rotation_deg == 270 and (probe.info.width, probe.info.height) == (480, 640)
    assert probe.audio is not None

    pensioner = live_app.enrol("周文华")
    token = live_app.link(pensioner).split("#", 1)[1]
    data = video.read_bytes()
    with httpx.Client(base_url=live_app.base_url, timeout=60) as client:
        # what the page does with the link: redeem it, agree, open a session
        redeemed = client.post("/v1/links/redeem", json={"token": token, "device_id": "iphone-test"})
        assert redeemed.status_code == 200, redeemed.text
        holder = {"X-Link-Pass": redeemed.json()["page_pass"]}
        version = redeemed.json()["link"]["consent_version"]
        agreed = client.post("/v1/links/current/consent", headers=holder, json={"version": version, "agree": True})
        assert agreed.status_code == 200, agreed.text
        opened = client.post("/v1/links/current/sessions", headers=holder, json={"device_id": "iphone-test"})
        assert opened.status_code == 201, opened.text
        session = opened.json()
        with live_app.services.sessions() as db:  # the challenge the clip performs (see conftest)
            row = db.get(CertificationSession, uuid.UUID(session["id"]))
            row.challenge = parse_challenge(LIVE_CHALLENGE).to_json()
            db.commit()
        nonce = {"X-Session-Nonce": session["nonce"]}
        declared = client.post(
            f"/v1/pensioners/{pensioner}/sessions/{session['id']}/uploads", headers=nonce,
            json={"size_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "content_type": "video/mp4"})
        assert declared.status_code == 201, declared.text
        upload = declared.json()
        assert upload["chunk_count"] > 1
        size = upload["chunk_bytes"]
        for index in range(upload["chunk_count"]):
            put = client.put(upload["chunk_url"].format(index=index), headers=nonce,
                             content=data[index * size:(index + 1) * size])
            assert put.status_code == 200, put.text
        done = client.post(upload["complete_url"], headers=nonce)
        assert done.status_code == 202, done.text
        attempt_id = done.json()["id"]
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            attempt = client.get(f"/v1/attempts/{attempt_id}", headers=holder).json()
            if attempt["status"] not in ("queued", "processing"):
                break
            time.sleep(0.5)
    with live_app.services.sessions() as db:
        row = db.get(Attempt, uuid.UUID(attempt_id))
        assert row.video_content_type == "video/mp4"
        assert (row.video_width, row.video_height) == (480, 640)  # upright, by its rotation tag
    print(f"\niPhone-style MP4 ({len(data)} bytes, rotation {probe.info.rotation_deg}): "
          f"{attempt['status']} {attempt.get('reasons')}")
    assert (attempt["status"], attempt.get("reasons") or []) == ("passed", [])
