"""Staff sign-in: a server-side sign-in whose signed id is the HttpOnly session cookie,
its CSRF token in a cookie the pages read, logout that ends it, and throttling of
failed sign-ins (service/login_throttle.py)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from service.accounts import authenticate_staff
from service.audit import record_audit
from service.error_codes import ErrorCode
from service.errors import RateLimitedError
from service.infra.tokens import sign_token
from service.login_throttle import account_key, check_login_allowed, record_login_failure
from service.staff_sessions import csrf_token, open_staff_session, revoke_staff_session

from ..auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_PURPOSE,
    UnauthorizedError,
    check_csrf,
    read_staff_cookie,
)
from ..deps import DbDep, NowDep, ServicesDep, client_ip
from ..permissions import AnyPrincipalDep
from ..schemas import CleanText

__all__ = ["router", "LoginBody", "MePublic", "login", "logout", "me"]

router = APIRouter(prefix="/v1/auth", tags=["staff sign-in"])

log = logging.getLogger(__name__)


class LoginBody(BaseModel):
    username: CleanText = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class MePublic(BaseModel):
    kind: str
    actor_id: str
    display_name: str
    regions: list[str]


@router.post(
    "/login",
    response_model=MePublic,
    responses={401: {"description": "login_failed"}, 429: {"description": "login_throttled (Retry-After)"}},
)
def login(
    body: LoginBody, request: Request, response: Response, db: DbDep, services: ServicesDep, now: NowDep
) -> MePublic:
    """Sign in. After repeated wrong passwords for an account, or from one address,
    further tries wait a growing backoff: 429 `login_throttled` with Retry-After."""
    settings = services.settings
    ip = client_ip(request)
    name = account_key(body.username)
    with services.login_locks.hold(f"account:{name}", f"ip:{ip}"):
        try:
            check_login_allowed(db, username=body.username, ip=ip, now=now, settings=settings)
        except RateLimitedError:
            log.warning("sign-in throttled (account %r, address %s)", name, ip)
            raise
        user = authenticate_staff(db, username=body.username, password=body.password, now=now)
        if user is None:
            record_login_failure(db, username=body.username, ip=ip, now=now)
            db.commit()
            raise UnauthorizedError(ErrorCode.LOGIN_FAILED, "wrong username or password")
        previous = read_staff_cookie(request, services, db)
        if previous is not None:  # this browser's earlier sign-in is replaced
            revoke_staff_session(db, staff_session=previous[0], now=now, reason="signed_in_again")
        staff_session = open_staff_session(
            db, user=user, now=now, ttl_s=settings.staff_session_ttl_s, ip=ip,
            user_agent=request.headers.get("user-agent"),
        )
        record_audit(
            db, actor_type=user.role, actor_id=str(user.id), action="staff.login",
            subject_type="staff", subject_id=str(user.id), now=now, ip=ip,
        )
        db.commit()
    secret = settings.secret_key.get_secret_value()
    secure = settings.environment == "production"
    token = sign_token(
        secret, purpose=SESSION_PURPOSE, payload={"sid": str(staff_session.id)},
        ttl_s=settings.staff_session_ttl_s, now=now,
    )
    response.set_cookie(
        SESSION_COOKIE, token, max_age=settings.staff_session_ttl_s, httponly=True, secure=secure,
        samesite="lax",
    )
    response.set_cookie(
        CSRF_COOKIE, csrf_token(secret, staff_session.id), max_age=settings.staff_session_ttl_s,
        httponly=False, secure=secure, samesite="strict",
    )
    return MePublic(
        kind=user.role, actor_id=str(user.id), display_name=user.display_name, regions=[user.region_code]
    )


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, db: DbDep, services: ServicesDep, now: NowDep) -> Response:
    """End this sign-in: its cookie is refused from now on, wherever it is replayed."""
    found = read_staff_cookie(request, services, db)
    if found is not None:
        staff_session, user = found
        check_csrf(request, services, staff_session)
        revoke_staff_session(db, staff_session=staff_session, now=now, reason="logout")
        record_audit(
            db, actor_type=user.role, actor_id=str(user.id), action="staff.logout",
            subject_type="staff", subject_id=str(user.id), now=now, ip=client_ip(request),
        )
        db.commit()
    secure = services.settings.environment == "production"
    response.delete_cookie(SESSION_COOKIE, secure=secure, httponly=True, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, secure=secure, samesite="strict")
    response.status_code = 204
    return response


@router.get("/me", response_model=MePublic)
def me(principal: AnyPrincipalDep) -> MePublic:
    return MePublic(
        kind=principal.kind,
        actor_id=principal.actor_id,
        display_name=principal.display_name,
        regions=list(principal.regions),
    )
