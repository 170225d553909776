"""Processes for fault tests, the soak and the benchmarks: a redis-server of our own that
can be killed and restarted, `certify worker` processes that can be SIGKILLed with their
horses, a fresh benchmark database and the API served by uvicorn in its own process."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.context import Services

REPO_ROOT = Path(__file__).resolve().parents[1]

POSTGRES_URL = os.environ.get("CERTIFY_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
"""The PostgreSQL server the benchmarks create their throw-away databases on."""
OPERATOR_HEADERS = {"Authorization": "Bearer dev-operator-token"}
"""The development operator token (the benchmarks' API runs in development)."""


@contextlib.contextmanager
def bench_database(database: str, workdir: Path) -> Iterator[str]:
    """The URL of a new, empty database ("postgres" or "sqlite"), dropped afterwards."""
    if database != "postgres":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    name = f"certify_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def api_server(database_url: str, workdir: Path, **env: str) -> Iterator[tuple[subprocess.Popen, httpx.Client]]:
    """The real API (uvicorn, one process, development settings) on a free port, and a
    client for it with the operator token, once /healthz answers."""
    port = free_port()
    environment = dict(
        os.environ, DATABASE_URL=database_url, CERTIFY_VAR_DIR=str(workdir / "var"), CERTIFY_ENVIRONMENT="development",
        PYTHONPATH=str(REPO_ROOT), **env,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        env=environment,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=OPERATOR_HEADERS, timeout=120) as client:
            for _ in range(300):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield server, client
    finally:
        server.terminate()
        server.wait(timeout=10)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the one definition the
    benchmarks and the tests share)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of our own on a free port, without persistence (a restart loses
    everything, as a crashed cache node would)."""

    def __init__(self, workdir: Path) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise FileNotFoundError("redis-server is not installed (apt-get install redis-server)")
        self.exe = exe
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        """SIGKILL: the server and everything in it are gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def worker_env(services: Services, **extra: str) -> dict[str, str]:
    s = services.settings
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO_ROOT),
        DATABASE_URL=s.database_url,
        REDIS_URL=s.redis_url or "",
        CERTIFY_ENVIRONMENT="test",
        CERTIFY_VAR_DIR=str(s.var_dir),
        CERTIFY_SECRET_KEY=s.secret_key.get_secret_value(),
        CERTIFY_DATA_KEYS=s.data_keys.get_secret_value(),
        CERTIFY_API_TOKEN=s.api_token.get_secret_value(),
        CERTIFY_JOB_RETRY_INTERVALS_S=str(list(s.job_retry_intervals_s)),
        CERTIFY_WORKER_HEARTBEAT_INTERVAL_S=str(s.worker_heartbeat_interval_s),
        CERTIFY_WORKER_HEARTBEAT_GRACE_S=str(s.worker_heartbeat_grace_s),
        CERTIFY_WORKER_MAINTENANCE_INTERVAL_S=str(s.worker_maintenance_interval_s),
        CERTIFY_ENCRYPT_BLOBS=str(s.encrypt_blobs).lower(),
        CERTIFY_IDENTITY_SEARCH=str(s.identity_search).lower(),
    )
    env.update(extra)
    return env


def start_worker(services: Services, log: Path, **extra: str) -> subprocess.Popen:
    """A real `certify worker` process (forking RQ worker, models loaded once)."""
    out = open(log, "ab")  # noqa: SIM115 - the process owns it
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "worker"],
        cwd=REPO_ROOT, env=worker_env(services, **extra), stdout=out, stderr=subprocess.STDOUT,
    )


def horse_pids(worker: subprocess.Popen) -> list[int]:
    """The work horse (the forked child running a job) of a worker process: RQ puts it in
    a process group of its own, unlike the worker's scheduler process."""
    try:
        children = psutil.Process(worker.pid).children()
    except psutil.NoSuchProcess:
        return []
    horses = []
    for child in children:
        try:
            if os.getpgid(child.pid) == child.pid:
                horses.append(child.pid)
        except ProcessLookupError:
            continue
    return horses


def kill_worker(worker: subprocess.Popen) -> list[int]:
    """SIGKILL the worker with everything it started (horse, scheduler) at once, as when
    its machine or container is lost."""
    try:
        family = psutil.Process(worker.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    worker.send_signal(signal.SIGKILL)
    for child in family:
        try:
            os.kill(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    worker.wait(timeout=10)
    return [c.pid for c in family]


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kill_worker(worker)


def wait_for(predicate: Callable[[], object], *, timeout_s: float, interval_s: float = 0.05, what: str = ""):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what or predicate}")
