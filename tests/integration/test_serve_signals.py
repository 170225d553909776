"""Issue 10, item 13: `certify serve` stopped with SIGTERM stops everything it started: the
API, its RQ worker (and the worker's scheduler and work horse), and the embedded Redis
server, and exits 0. (SIGINT takes the same way out.)

uvicorn takes the signal while it serves and raises it again after its shutdown; with
nothing to catch it then, the process died there and its cleanup never ran, so the
worker and the embedded redis-server (which daemonises, so it is no child) ran on.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from bench.harness import free_port

REPO = Path(__file__).resolve().parents[2]


def _embedded_redis(var_dir: Path) -> list[psutil.Process]:
    """redis-server processes working in `var_dir` (the embedded one of that serve)."""
    found = []
    for process in psutil.process_iter(["name", "cwd"]):
        if process.info["name"] == "redis-server" and process.info["cwd"] == str(var_dir):
            found.append(process)
    return found


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


def _wait_for(condition, timeout_s: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    pytest.fail(f"{what} within {timeout_s:.0f} s; output:\n{log.read_text()[-3000:]}")


def test_sigterm_stops_serve_and_everything_it_started(tmp_path):
    var_dir = (tmp_path / "var").resolve()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CERTIFY_") and k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(CERTIFY_VAR_DIR=str(var_dir), DATABASE_URL=f"sqlite:///{tmp_path}/certify.db")
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--workers", "1", "--no-demo"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    parent = psutil.Process(serve.pid)
    started: list[psutil.Process] = []
    try:
        def ready() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        _wait_for(ready, 120, "the API was not ready", log)
        _wait_for(lambda: "Listening on certify" in log.read_text(), 120, "the worker did not listen", log)
        _wait_for(lambda: len(parent.children(recursive=True)) >= 2, 30, "no worker scheduler", log)
        started = parent.children(recursive=True) + _embedded_redis(var_dir)
        assert len(started) >= 3, started  # worker, its scheduler, the embedded redis-server

        serve.send_signal(signal.SIGTERM)  # what systemd, Docker and Kubernetes send
        assert serve.wait(timeout=60) == 0
        _wait_for(lambda: not _alive(started), 30, f"still running: {_alive(started)}", log)
        assert "stopped" in log.read_text()
    finally:
        for process in _alive([parent, *started]):  # a failed test leaves nothing behind
            process.kill()
