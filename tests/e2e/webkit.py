"""Safari's engine for the browser tests: Debian's WebKitGTK, driven over WebDriver.

MiniBrowser (WebKitGTK's small browser) is started by WebKitWebDriver and driven with
Selenium's `webdriver.WebKitGTK`, on an Xvfb display of its own. Its mock capture
devices stand in for the camera and microphone: a generated picture (no face) and a
tone. WebKit records what iPhones record: MP4 with H.264 video and AAC sound, made here
by GStreamer (openh264enc, avenc_aac/voaacenc, mp4mux).

GStreamer 1.22 (Debian 12) lacks the `autovideoflip` element that WebKit's recorder
needs; without it every recording is an empty Blob. tests/e2e/gstreamer/ supplies one
(see its docstring), put on GST_PLUGIN_PATH only when GStreamer has none.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT, in_ci

__all__ = [
    "MINIBROWSER",
    "MINIBROWSER_ARGS",
    "WEBKIT_DRIVER",
    "WebKitPage",
    "gstreamer_plugin_path",
    "webkit_browser",
    "xvfb_display",
]

WEBKIT_DRIVER = Path(os.environ.get("CERTIFY_WEBKIT_DRIVER", "/usr/bin/WebKitWebDriver"))
MINIBROWSER = Path(os.environ.get("CERTIFY_MINIBROWSER", "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"))
MINIBROWSER_ARGS = ["--automation", "--enable-media-stream=true", "--enable-mock-capture-devices=true"]
GSTREAMER_SHIM = REPO_ROOT / "tests" / "e2e" / "gstreamer"
WINDOW = (390, 844)
XVFB_START_S = 20


def _need(path: Path, what: str) -> None:
    if path.exists():
        return
    message = f"{what} not found at {path}; run scripts/test-services.sh"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def gstreamer_plugin_path() -> str | None:
    """The folder with our `autovideoflip`, when GStreamer has no element of that name."""
    inspect = shutil.which("gst-inspect-1.0")
    if inspect is None:
        return str(GSTREAMER_SHIM)
    found = subprocess.run([inspect, "--exists", "autovideoflip"], capture_output=True, check=False)
    return None if found.returncode == 0 else str(GSTREAMER_SHIM)


@pytest.fixture(scope="session")
def xvfb_display(tmp_path_factory) -> Iterator[str]:
    """An X display of our own (Xvfb picks a free number and tells it on a pipe)."""
    xvfb = Path(shutil.which("Xvfb") or "/usr/bin/Xvfb")
    _need(xvfb, "Xvfb")
    read_end, write_end = os.pipe()
    log = open(tmp_path_factory.mktemp("xvfb") / "xvfb.log", "wb")
    process = subprocess.Popen(
        [str(xvfb), "-displayfd", str(write_end), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=(write_end,), stdout=log, stderr=log,
    )
    os.close(write_end)
    try:
        number = b""
        deadline = time.monotonic() + XVFB_START_S
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = os.read(read_end, 16)
            if not chunk:
                break
            number += chunk
        if not number.strip():
            raise RuntimeError("Xvfb did not start")
        yield f":{number.strip().decode()}"
    finally:
        os.close(read_end)
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        log.close()


@pytest.fixture
def webkit_browser(xvfb_display, tmp_path) -> Iterator[Any]:
    """A fresh MiniBrowser (WebKitGTK) under WebDriver, phone-sized, Chinese first."""
    _need(WEBKIT_DRIVER, "WebKitWebDriver")
    _need(MINIBROWSER, "MiniBrowser")
    from selenium import webdriver
    from selenium.webdriver.webkitgtk.options import Options
    from selenium.webdriver.webkitgtk.service import Service

    env = dict(os.environ, DISPLAY=xvfb_display, LANG="zh_CN.UTF-8", LANGUAGE="zh_CN:zh")
    plugins = gstreamer_plugin_path()
    if plugins:
        env["GST_PLUGIN_PATH"] = os.pathsep.join(filter(None, [plugins, os.environ.get("GST_PLUGIN_PATH")]))
    options = Options()
    options.binary_location = str(MINIBROWSER)
    for argument in MINIBROWSER_ARGS:
        options.add_argument(argument)
    service = Service(executable_path=str(WEBKIT_DRIVER), env=env, log_output=str(tmp_path / "webkit-driver.log"))
    driver = webdriver.WebKitGTK(options=options, service=service)
    try:
        driver.set_window_size(*WINDOW)
        driver.set_script_timeout(60)
        yield driver
    finally:
        driver.quit()


class WebKitPage:
    """The few things the tests ask of a page, in Selenium's words."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def wait_for(self, css: str, timeout_s: float = 30) -> Any:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout_s, poll_frequency=0.2).until(
            lambda d: next(iter(d.find_elements(By.CSS_SELECTOR, css)), None),
            message=f"nothing matched {css!r}; the page shows: {self.visible_text()}",
        )

    def wait_until(self, script: str, timeout_s: float = 30, message: str = "") -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout_s, poll_frequency=0.2).until(
            lambda d: d.execute_script(script), message=message or f"never true: {script}")

    def text(self, css: str) -> str:
        return str(self.driver.execute_script(
            "const el = document.querySelector(arguments[0]); return el ? el.innerText : null;", css))

    def click(self, css: str) -> None:
        self.wait_for(css).click()

    def visible_text(self) -> list[str]:
        with contextlib.suppress(Exception):
            return list(self.driver.execute_script(
                "return [...document.querySelectorAll('section:not([hidden]), .panel:not([hidden])')]"
                ".map((el) => `${el.id}: ${el.innerText.replace(/\\s+/g, ' ').slice(0, 300)}`)"))
        return []

    def blur_boxes(self) -> list[dict[str, float]]:
        """Where the camera picture and face photos are, in screenshot pixels."""
        return list(self.driver.execute_script(
            "const scale = window.devicePixelRatio || 1;"
            "return [...document.querySelectorAll('video, img.face, #still')]"
            ".filter((el) => el.offsetParent !== null)"
            ".map((el) => { const r = el.getBoundingClientRect();"
            " return { x: r.x * scale, y: r.y * scale, width: r.width * scale, height: r.height * scale }; });"))
