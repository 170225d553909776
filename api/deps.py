"""Dependencies for routes, as Annotated aliases (ServicesDep, DbDep, NowDep)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from service.context import Services

__all__ = ["ServicesDep", "DbDep", "NowDep", "client_ip", "get_services", "get_db", "get_now"]


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_db(services: ServicesDep) -> Iterator[Session]:
    session = services.sessions()
    try:
        yield session
    finally:
        session.close()


DbDep = Annotated[Session, Depends(get_db)]


def get_now(services: ServicesDep) -> dt.datetime:
    return services.clock()


NowDep = Annotated[dt.datetime, Depends(get_now)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
