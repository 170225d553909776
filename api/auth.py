"""Who is calling: the principal behind a request (what it may do: api/permissions.py).

    operator   the bootstrap bearer token from settings (all regions)
    staff      community staff, signed-in by cookie (their region)
    reviewer   reviews attempts and reference photos (their region)
    admin      manages accounts (all regions below their region code)
    agency     an API key: scopes + regions

Staff sign in with username and password (argon2 hashes); the sign-in is a database
row (service/staff_sessions.py) whose id the HttpOnly session cookie carries, signed,
and unsafe requests made with the cookie must send the sign-in's CSRF token (an HMAC of
its id, readable by the pages from the certify_csrf cookie) in an X-CSRF-Token header.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from models import StaffSession, StaffUser
from service.accounts import verify_api_key
from service.context import Services
from service.error_codes import ErrorCode
from service.errors import ForbiddenError, ServiceError
from service.infra.tokens import read_token
from service.settings import Settings
from service.staff_sessions import csrf_token_matches, live_staff_session

from .credentials import STAFF_COOKIE, Credentials, CredentialsDep, credentials_of
from .deps import DbDep, ServicesDep

__all__ = [
    "Principal",
    "OPERATOR_KIND",
    "AGENCY_KIND",
    "PrincipalDep",
    "OptionalPrincipalDep",
    "SESSION_COOKIE",
    "CSRF_COOKIE",
    "SESSION_PURPOSE",
    "UnauthorizedError",
    "read_staff_cookie",
    "check_csrf",
    "BearerDep",
    "principal_for_bearer",
    "staff_for_cookie",
    "verified_actor",
    "get_principal",
    "require_principal",
]

OPERATOR_KIND = "operator"
"""The principal of the bootstrap bearer token (`CERTIFY_API_TOKEN`): every region."""
AGENCY_KIND = "agency"
"""The principal of an agency API key: its scopes, its regions."""

SESSION_COOKIE = STAFF_COOKIE
CSRF_COOKIE = "certify_csrf"
SESSION_PURPOSE = "staff-session"

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer_scheme = HTTPBearer(auto_error=False)


def _bearer(
    credentials: CredentialsDep,
    _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)] = None,
) -> str | None:
    # the scheme above only documents the header; the value comes from parse_credentials
    return credentials.bearer


BearerDep = Annotated[str | None, Depends(_bearer)]
"""The token of the request's `Authorization: Bearer ...`, if any (one parsing shared
with the rate limiter: a second Authorization header is a 400)."""


class UnauthorizedError(ServiceError):
    status = 401


@dataclass(frozen=True)
class Principal:
    """An `Actor` (service/actors.py) behind a request: who it is and which regions and
    scopes it holds. What that lets it do is decided in api/permissions.py."""

    kind: str
    """operator | staff | reviewer | admin | agency"""
    actor_id: str
    regions: tuple[str, ...]
    """Region codes this principal may see; ("*",) means every region."""
    scopes: frozenset[str] = field(default_factory=frozenset)
    display_name: str = ""


def _staff_principal(user: StaffUser) -> Principal:
    return Principal(
        kind=user.role,
        actor_id=str(user.id),
        regions=(user.region_code,),
        display_name=user.display_name,
    )


def principal_for_bearer(db: Session, settings: Settings, *, token: str, now: dt.datetime) -> Principal | None:
    """The operator or the agency key behind a bearer token; None if it is not valid."""
    if secrets.compare_digest(
        token.encode("utf-8", "surrogateescape"), settings.api_token.get_secret_value().encode()
    ):
        return Principal(kind=OPERATOR_KIND, actor_id="operator", regions=("*",))
    key = verify_api_key(db, text=token, now=now)
    if key is None:
        return None
    return Principal(
        kind=AGENCY_KIND,
        actor_id=f"apikey:{key.prefix}",
        regions=tuple(key.regions),
        scopes=frozenset(key.scopes),
        display_name=key.agency,
    )


def staff_for_cookie(
    db: Session, settings: Settings, *, cookie: str, now: dt.datetime
) -> tuple[StaffSession, StaffUser] | None:
    """The live sign-in behind a session cookie and its account; None when its signature
    or expiry fails, or the sign-in has ended (logout, new password, deactivated account,
    idle too long). Marks the sign-in seen (the caller commits)."""
    payload = read_token(
        settings.secret_key.get_secret_value(), purpose=SESSION_PURPOSE, token=cookie, now=now
    )
    session_id = _uuid(payload.get("sid")) if payload is not None else None
    if session_id is None:
        return None
    return live_staff_session(db, session_id=session_id, now=now, idle_s=settings.staff_session_idle_s)


def verified_actor(db: Session, settings: Settings, credentials: Credentials, *, now: dt.datetime) -> str | None:
    """Who a staff-side credential really is (for per-key rate limits); None when the
    request carries none or it does not verify: an unverified claim buys nothing."""
    if credentials.bearer is not None:
        principal = principal_for_bearer(db, settings, token=credentials.bearer, now=now)
        return principal.actor_id if principal is not None else None
    if credentials.staff_cookie is not None:
        found = staff_for_cookie(db, settings, cookie=credentials.staff_cookie, now=now)
        return f"staff:{found[1].id}" if found is not None else None
    return None


def get_principal(
    request: Request,
    services: ServicesDep,
    db: DbDep,
    token: BearerDep,
) -> Principal | None:
    if token is not None:
        principal = principal_for_bearer(db, services.settings, token=token, now=services.clock())
        if principal is None:
            raise UnauthorizedError(ErrorCode.UNAUTHORIZED, "the bearer token is not valid")
        if principal.kind == AGENCY_KIND:
            db.commit()  # last_used_at
        return principal
    return _cookie_principal(request, services, db)


def read_staff_cookie(
    request: Request, services: Services, db: Session
) -> tuple[StaffSession, StaffUser] | None:
    """The live sign-in behind the request's session cookie (read by api.credentials, the
    parsing the rate limiter shares) and its account; None when there is none."""
    cookie = credentials_of(request.scope).staff_cookie
    if cookie is None:
        return None
    found = staff_for_cookie(db, services.settings, cookie=cookie, now=services.clock())
    if found is not None and found[0] in db.dirty:
        db.commit()  # last_seen_at
    return found


def check_csrf(request: Request, services: Services, staff_session: StaffSession) -> None:
    """Unsafe requests made with the cookie must carry this sign-in's CSRF token."""
    if request.method in _SAFE_METHODS:
        return
    sent = request.headers.get("X-CSRF-Token", "")
    secret = services.settings.secret_key.get_secret_value()
    if not csrf_token_matches(secret, staff_session.id, sent):
        raise ForbiddenError(
            ErrorCode.CSRF_FAILED, f"send the X-CSRF-Token header with the value of the {CSRF_COOKIE} cookie"
        )


def _cookie_principal(request: Request, services: Services, db: Session) -> Principal | None:
    found = read_staff_cookie(request, services, db)
    if found is None:
        return None
    staff_session, user = found
    check_csrf(request, services, staff_session)
    return _staff_principal(user)


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


OptionalPrincipalDep = Annotated[Principal | None, Depends(get_principal)]


def require_principal(principal: OptionalPrincipalDep) -> Principal:
    if principal is None:
        raise UnauthorizedError(ErrorCode.UNAUTHORIZED, "sign in or send a bearer token")
    return principal


PrincipalDep = Annotated[Principal, Depends(require_principal)]
"""Someone known is calling (else 401). Routes name a permission of api/permissions.py
instead, which builds on this."""
