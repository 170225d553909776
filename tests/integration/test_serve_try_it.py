"""Issue 15, section 4: on embedded defaults (development) a real `certify serve` prints,
once the API answers, a "try it" block: a one-time link per demo pensioner as a full URL,
demo sign-ins for the staff and agency pages, and a curl line for the API, each of which
works. In production the same command on the same database prints none of it, enrols no
demo pensioner and turns the demo sign-ins off."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bench.harness import free_port
from cli.try_it import TRY_IT_TITLE
from service.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_PENSIONERS
from service.rules.names import mask_name

pytestmark = [pytest.mark.data, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 180


def _env(tmp_path: Path, shared_data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CERTIFY_") and k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(CERTIFY_VAR_DIR=str(tmp_path / "var"), DATABASE_URL=f"sqlite:///{tmp_path}/certify.db",
               CERTIFY_DATA_DIR=str(shared_data), **extra)
    return env


class Serve:
    """`certify serve --workers 0` in a subprocess, its stdout and stderr in files."""

    def __init__(self, tmp_path: Path, env: dict[str, str], name: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.out, self.err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "serve", "--port", str(self.port), "--workers", "0"],
                cwd=REPO, env=env, stdout=out, stderr=err)

    def wait_for(self, condition, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"{what}; stdout:\n{self.out.read_text()[-3000:]}\nstderr:\n{self.err.read_text()[-3000:]}")

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _sign_in(url: str, username: str) -> int:
    with httpx.Client(base_url=url, timeout=10) as client:
        return client.post("/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}).status_code


def test_try_it_block_in_development_and_nothing_of_it_in_production(tmp_path, shared_data):
    dev = Serve(tmp_path, _env(tmp_path, shared_data), "development")
    try:
        dev.wait_for(lambda: dev.out.read_text().count("-" * 72) >= 3, "no try-it block was printed")
        assert dev.ready()  # printed once the API answers
        block = dev.out.read_text()
        assert TRY_IT_TITLE in block

        # a full one-time link per demo pensioner, each one opening its pensioner's page
        links = re.findall(r"^  (\S+)  (http://\S+)$", block, flags=re.M)
        assert [name for name, _ in links] == [demo.name for demo in DEMO_PENSIONERS]
        for name, url in links:
            assert url.startswith(f"{dev.url}/l#"), url
            token = url.split("#", 1)[1]
            opened = httpx.post(f"{dev.url}/v1/links/redeem", json={"token": token}, timeout=10)
            assert opened.status_code == 200, opened.text
            assert opened.json()["link"]["name_masked"] == mask_name(name)  # "王*国", never "演* 王*国"
            page = httpx.get(f"{dev.url}/l", timeout=10)
            assert page.status_code == 200 and "text/html" in page.headers["content-type"]

        # the demo sign-ins, for the pages named beside them
        for account in DEMO_ACCOUNTS:
            line = next(line for line in block.splitlines() if f"user {account.username} " in line)
            assert f"{dev.url}{account.page}" in line and f"password {DEMO_PASSWORD}" in line
            assert _sign_in(dev.url, account.username) == 200
            assert httpx.get(f"{dev.url}{account.page}", timeout=10, follow_redirects=True).status_code == 200

        # the curl line, run as printed
        curl = next(line.strip() for line in block.splitlines() if line.strip().startswith("curl "))
        answer = subprocess.run(shlex.split(curl) + ["-w", "\n%{http_code}"], capture_output=True, text=True,
                                timeout=30, check=True).stdout
        body, code = answer.rsplit("\n", 1)
        assert code == "200", answer
        assert isinstance(json.loads(body), dict), body[:300]
    finally:
        dev.stop()
    assert dev.process.returncode == 0

    production = Serve(tmp_path, _env(
        tmp_path, shared_data, CERTIFY_ENVIRONMENT="production", CERTIFY_SECRET_KEY="p" * 40,
        CERTIFY_API_TOKEN="production-token-" + "x" * 24, CERTIFY_METRICS_TOKEN="m" * 32,
        CERTIFY_DATA_KEYS="prod:" + "cHJvZHVjdGlvbi1kYXRhLWtleS0zMi1ieXRlcy0uLi4=",
    ), "production")
    try:
        production.wait_for(production.ready, "the production API was not ready")
        time.sleep(1.0)  # the block would be printed right after start-up
        assert TRY_IT_TITLE not in production.out.read_text()
        assert "/l#" not in production.out.read_text() + production.err.read_text()
        for account in DEMO_ACCOUNTS:
            assert _sign_in(production.url, account.username) == 401  # turned off
    finally:
        production.stop()
    assert production.process.returncode == 0
    assert "demo sign-ins deactivated" in production.err.read_text() + production.out.read_text()
    with sqlite3.connect(tmp_path / "certify.db") as db:  # no demo pensioner enrolled again
        demo_rows = db.execute("select count(*) from pensioners where external_ref like 'DEMO-%'").fetchone()[0]
    assert demo_rows == len(DEMO_PENSIONERS)
