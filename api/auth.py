"""Who is calling: the principal behind a request, and what it may see.

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

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from models import Pensioner, StaffRole, StaffSession, StaffUser
from service.accounts import verify_api_key
from service.context import Services
from service.errors import ForbiddenError, ServiceError
from service.regions import region_matches, region_prefix
from service.staff_sessions import csrf_token_matches, live_staff_session
from service.tokens import read_token

from .deps import DbDep, ServicesDep

__all__ = [
    "Principal",
    "PrincipalDep",
    "OptionalPrincipalDep",
    "require_roles",
    "require_scope",
    "SESSION_COOKIE",
    "CSRF_COOKIE",
    "SESSION_PURPOSE",
    "UnauthorizedError",
    "read_staff_cookie",
    "check_csrf",
    "BearerDep",
]

SESSION_COOKIE = "certify_session"
CSRF_COOKIE = "certify_csrf"
SESSION_PURPOSE = "staff-session"

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer = HTTPBearer(auto_error=False)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
"""The `Authorization: Bearer ...` credentials of a request, if any."""


class UnauthorizedError(ServiceError):
    status = 401


@dataclass(frozen=True)
class Principal:
    kind: str
    """operator | staff | reviewer | admin | agency"""
    actor_id: str
    regions: tuple[str, ...]
    """Region codes this principal may see; ("*",) means every region."""
    scopes: frozenset[str] = field(default_factory=frozenset)
    display_name: str = ""

    @property
    def is_staff_account(self) -> bool:
        return self.kind in StaffRole.ALL

    def sees_region(self, code: str | None) -> bool:
        if code is None:
            return False
        return "*" in self.regions or any(region_matches(code, r) for r in self.regions)

    def sees_pensioner(self, pensioner: Pensioner) -> bool:
        """Paying region, or (for staff assisting away from home) the residence region."""
        return self.sees_region(pensioner.region_code) or self.sees_region(
            pensioner.residence_region_code
        )

    def region_prefixes(self) -> tuple[str, ...] | None:
        """SQL LIKE prefixes for this principal's regions; None means unrestricted."""
        if "*" in self.regions:
            return None
        return tuple(region_prefix(r) for r in self.regions)


def _staff_principal(user: StaffUser) -> Principal:
    return Principal(
        kind=user.role,
        actor_id=str(user.id),
        regions=(user.region_code,),
        display_name=user.display_name,
    )


def get_principal(
    request: Request,
    services: ServicesDep,
    db: DbDep,
    credentials: BearerDep,
) -> Principal | None:
    settings = services.settings
    now = services.clock()
    if credentials is not None:
        token = credentials.credentials
        if secrets.compare_digest(token.encode(), settings.api_token.get_secret_value().encode()):
            return Principal(kind="operator", actor_id="operator", regions=("*",))
        key = verify_api_key(db, text=token, now=now)
        if key is None:
            raise UnauthorizedError("unauthorized", "the bearer token is not valid")
        db.commit()  # last_used_at
        return Principal(
            kind="agency",
            actor_id=f"apikey:{key.prefix}",
            regions=tuple(key.regions),
            scopes=frozenset(key.scopes),
            display_name=key.agency,
        )
    return _cookie_principal(request, services, db)


def read_staff_cookie(
    request: Request, services: Services, db: Session
) -> tuple[StaffSession, StaffUser] | None:
    """The live sign-in behind the request's session cookie and its account; None when
    there is no cookie, its signature or expiry fails, or the sign-in has ended (logout,
    new password, deactivated account, idle too long)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    settings = services.settings
    now = services.clock()
    payload = read_token(
        settings.secret_key.get_secret_value(), purpose=SESSION_PURPOSE, token=cookie, now=now
    )
    session_id = _uuid(payload.get("sid")) if payload is not None else None
    if session_id is None:
        return None
    found = live_staff_session(db, session_id=session_id, now=now, idle_s=settings.staff_session_idle_s)
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
            "csrf_failed", f"send the X-CSRF-Token header with the value of the {CSRF_COOKIE} cookie"
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
        raise UnauthorizedError("unauthorized", "sign in or send a bearer token")
    return principal


PrincipalDep = Annotated[Principal, Depends(require_principal)]


def require_roles(*kinds: str) -> Callable[[Principal], Principal]:
    """A dependency admitting only these principal kinds (the operator is always admitted)."""

    def check(principal: PrincipalDep) -> Principal:
        if principal.kind != "operator" and principal.kind not in kinds:
            raise ForbiddenError("forbidden", f"this needs one of: {', '.join(kinds)}")
        return principal

    return check


def require_scope(scope: str) -> Callable[[Principal], Principal]:
    """A dependency for agency endpoints: an API key with `scope` (or the operator)."""

    def check(principal: PrincipalDep) -> Principal:
        if principal.kind == "operator" or principal.kind == "admin":
            return principal
        if principal.kind != "agency" or scope not in principal.scopes:
            raise ForbiddenError("scope_missing", f"this needs an API key with scope {scope}")
        return principal

    return check
