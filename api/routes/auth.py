"""Staff sign-in: a signed, expiring HttpOnly session cookie plus a CSRF cookie."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from service.accounts import authenticate_staff
from service.audit import record_audit
from service.tokens import sign_token

from ..auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_PURPOSE,
    SESSION_TTL_S,
    PrincipalDep,
    UnauthorizedError,
)
from ..deps import DbDep, NowDep, ServicesDep, client_ip
from ..schemas import CleanText

router = APIRouter(prefix="/v1/auth", tags=["staff sign-in"])


class LoginBody(BaseModel):
    username: CleanText = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class MePublic(BaseModel):
    kind: str
    actor_id: str
    display_name: str
    regions: list[str]


@router.post("/login", response_model=MePublic)
def login(
    body: LoginBody, request: Request, response: Response, db: DbDep, services: ServicesDep, now: NowDep
) -> MePublic:
    user = authenticate_staff(db, username=body.username, password=body.password, now=now)
    if user is None:
        record_audit(
            db, actor_type="anonymous", actor_id=body.username.strip().lower()[:64],
            action="staff.login_failed", subject_type="staff", subject_id=body.username[:64],
            now=now, ip=client_ip(request),
        )
        db.commit()
        raise UnauthorizedError("login_failed", "wrong username or password")
    record_audit(
        db, actor_type=user.role, actor_id=str(user.id), action="staff.login",
        subject_type="staff", subject_id=str(user.id), now=now, ip=client_ip(request),
    )
    db.commit()
    secure = services.settings.environment == "production"
    token = sign_token(
        services.settings.secret_key.get_secret_value(),
        purpose=SESSION_PURPOSE,
        payload={"sub": str(user.id)},
        ttl_s=SESSION_TTL_S,
        now=now,
    )
    response.set_cookie(
        SESSION_COOKIE, token, max_age=SESSION_TTL_S, httponly=True, secure=secure, samesite="lax"
    )
    response.set_cookie(
        CSRF_COOKIE, secrets.token_urlsafe(24), max_age=SESSION_TTL_S, httponly=False,
        secure=secure, samesite="strict",
    )
    return MePublic(
        kind=user.role, actor_id=str(user.id), display_name=user.display_name, regions=[user.region_code]
    )


@router.post("/logout", status_code=204)
def logout(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    response.status_code = 204
    return response


@router.get("/me", response_model=MePublic)
def me(principal: PrincipalDep) -> MePublic:
    return MePublic(
        kind=principal.kind,
        actor_id=principal.actor_id,
        display_name=principal.display_name,
        regions=list(principal.regions),
    )
