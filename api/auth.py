"""Who is calling: the principal behind a request, and what it may see.

    operator   the bootstrap bearer token from settings (all regions)
    staff      community staff, signed-in by cookie (their region)
    reviewer   reviews attempts and reference photos (their region)
    admin      manages accounts (all regions below their region code)
    agency     an API key: scopes + regions

Staff sign in with username and password (argon2 hashes); the session is a signed,
expiring HttpOnly cookie, and unsafe requests made with it must echo the CSRF cookie
in an X-CSRF-Token header (double submit).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from models import Pensioner, StaffRole, StaffUser
from service.accounts import verify_api_key
from service.errors import ForbiddenError, ServiceError
from service.actors import regions_cover
from service.regions import region_prefix
from service.settings import Settings
from service.tokens import read_token

from .credentials import STAFF_COOKIE, Credentials, CredentialsDep
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
    "SESSION_TTL_S",
    "UnauthorizedError",
    "BearerDep",
    "principal_for_bearer",
    "staff_for_cookie",
    "verified_actor",
]

SESSION_COOKIE = STAFF_COOKIE
CSRF_COOKIE = "certify_csrf"
SESSION_PURPOSE = "staff-session"
SESSION_TTL_S = 8 * 3600
"""A staff sign-in lasts one working day."""

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
    """An `Actor` (service/actors.py) behind a request."""

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
        return regions_cover(self.regions, code)

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


def principal_for_bearer(db: Session, settings: Settings, *, token: str, now: dt.datetime) -> Principal | None:
    """The operator or the agency key behind a bearer token; None if it is not valid."""
    if secrets.compare_digest(
        token.encode("utf-8", "surrogateescape"), settings.api_token.get_secret_value().encode()
    ):
        return Principal(kind="operator", actor_id="operator", regions=("*",))
    key = verify_api_key(db, text=token, now=now)
    if key is None:
        return None
    return Principal(
        kind="agency",
        actor_id=f"apikey:{key.prefix}",
        regions=tuple(key.regions),
        scopes=frozenset(key.scopes),
        display_name=key.agency,
    )


def staff_for_cookie(db: Session, settings: Settings, *, cookie: str, now: dt.datetime) -> StaffUser | None:
    """The active member of staff signed in with this session cookie, if any."""
    payload = read_token(
        settings.secret_key.get_secret_value(), purpose=SESSION_PURPOSE, token=cookie, now=now
    )
    if payload is None:
        return None
    user = db.get(StaffUser, _uuid(payload.get("sub")))
    if user is None or not user.active:
        return None
    return user


def verified_actor(db: Session, settings: Settings, credentials: Credentials, *, now: dt.datetime) -> str | None:
    """Who a staff-side credential really is (for per-key rate limits); None when the
    request carries none or it does not verify: an unverified claim buys nothing."""
    if credentials.bearer is not None:
        principal = principal_for_bearer(db, settings, token=credentials.bearer, now=now)
        return principal.actor_id if principal is not None else None
    if credentials.staff_cookie is not None:
        user = staff_for_cookie(db, settings, cookie=credentials.staff_cookie, now=now)
        return f"staff:{user.id}" if user is not None else None
    return None


def get_principal(
    request: Request,
    services: ServicesDep,
    db: DbDep,
    token: BearerDep,
    credentials: CredentialsDep,
) -> Principal | None:
    settings = services.settings
    now = services.clock()
    if token is not None:
        principal = principal_for_bearer(db, settings, token=token, now=now)
        if principal is None:
            raise UnauthorizedError("unauthorized", "the bearer token is not valid")
        if principal.kind == "agency":
            db.commit()  # last_used_at
        return principal
    if credentials.staff_cookie is None:
        return None
    user = staff_for_cookie(db, settings, cookie=credentials.staff_cookie, now=now)
    if user is None:
        return None
    if request.method not in _SAFE_METHODS:
        sent = request.headers.get("X-CSRF-Token", "")
        expected = request.cookies.get(CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
            raise ForbiddenError("csrf_failed", "send the X-CSRF-Token header with the cookie value")
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
