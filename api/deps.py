"""Dependencies for routes, as Annotated aliases (ServicesDep, DbDep, OperatorDep, NowDep)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.context import Services
from service.errors import ServiceError

__all__ = ["ServicesDep", "DbDep", "OperatorDep", "NowDep", "OptionalOperatorDep"]

_bearer = HTTPBearer(auto_error=False)


class UnauthorizedError(ServiceError):
    status = 401


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


def _is_operator(services: Services, credentials: HTTPAuthorizationCredentials | None) -> bool:
    expected = services.settings.api_token.get_secret_value()
    return credentials is not None and secrets.compare_digest(
        credentials.credentials.encode(), expected.encode()
    )


def require_operator(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """Operator endpoints (enrolment, sessions) need the operator bearer token."""
    if not _is_operator(services, credentials):
        raise UnauthorizedError("unauthorized", "a valid operator bearer token is required")
    return "operator"


OperatorDep = Annotated[str, Depends(require_operator)]


def optional_operator(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> bool:
    return _is_operator(services, credentials)


OptionalOperatorDep = Annotated[bool, Depends(optional_operator)]
