"""What the commands that work on the service's own database share: the services, built
once and always closed, and a refusal of the service turned into one line on stderr and
exit code 2 (`error: CODE: MESSAGE`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer

from service.settings import Settings, get_settings

if TYPE_CHECKING:
    from service.context import Services

__all__ = [
    "REFUSED_EXIT_CODE",
    "fail",
    "services_for_command",
]

REFUSED_EXIT_CODE = 2
"""Exit code of a command the service refused: invalid input, not found, conflict, or an
error answer of the API for the remote agency commands (1 is kept for "done, but not all
of it passed": a failed check, refused rows)."""


def fail(message: str) -> NoReturn:
    """Print `error: MESSAGE` on stderr and exit with `REFUSED_EXIT_CODE`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(REFUSED_EXIT_CODE)


@contextmanager
def services_for_command(settings: Settings | None = None, *, install: bool = False) -> Iterator[Services]:
    """The services of one command (from `get_settings()` unless given), closed when it
    ends however it ends; a `ServiceError` (service/errors.py) raised inside becomes
    `error: CODE: MESSAGE` and exit code 2. `install=True` also hands them to the job
    code of this process (workers/runtime.py), as housekeeping needs."""
    from service.context import build_services
    from service.errors import ServiceError

    services = build_services(settings or get_settings())
    try:
        if install:
            from workers.runtime import install_services

            install_services(services)  # RQ's registry cleanup may run the job failure callback
        yield services
    except ServiceError as exc:
        fail(f"{exc.code}: {exc.message}")
    finally:
        services.close()
