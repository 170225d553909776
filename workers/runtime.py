"""The Services object of a worker process, built once and shared by every job it runs."""

from __future__ import annotations

from service.context import Services, build_services
from service.settings import get_settings

__all__ = ["current_services", "install_services"]

_services: Services | None = None


def install_services(services: Services) -> None:
    """Use these services for jobs run by this process (worker start-up, tests)."""
    global _services
    _services = services


def current_services() -> Services:
    """The process's services; built from the environment if no one installed any."""
    global _services
    if _services is None:
        _services = build_services(get_settings())
    _services.after_fork()
    return _services
