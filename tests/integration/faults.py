"""Real faults for the reliability tests: a redis-server we can stop and start, a
PostgreSQL database we can take away, and `certify worker` processes we can SIGKILL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import harness
from bench.harness import horse_pids, kill_worker, start_worker, stop_worker, wait_for

__all__ = [
    "RedisServer", "DatabaseSwitch", "horse_pids", "kill_worker", "start_worker", "stop_worker", "wait_for",
]


def RedisServer(workdir: Path) -> harness.RedisServer:  # noqa: N802 - a factory standing for the class
    try:
        return harness.RedisServer(workdir)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


class DatabaseSwitch:
    """Takes a PostgreSQL database away (new connections refused, open ones terminated)
    and gives it back, through the server itself."""

    def __init__(self, admin, url: str) -> None:
        self.admin = admin
        self.name = make_url(url).database

    def down(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS false'))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = :name AND pid <> pg_backend_pid()"),
                {"name": self.name},
            )

    def up(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS true'))
