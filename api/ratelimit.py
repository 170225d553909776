"""Rate limits on uploads, per client IP and per credential (service.infra.limits: Redis, or
this process while Redis is unreachable).

Applied as ASGI middleware before routing, by what a request looks like rather than by
which route handles it, so upload endpoints added later are covered without changes:
an unsafe request (POST/PUT/PATCH) is an upload when its path matches one of
`rate_limit_paths` or its body is a file (multipart, video/*, image/*, octet-stream,
tus). Each is counted twice, in fixed windows of `rate_limit_window_s`:

    ip     the client address (behind a proxy, run uvicorn with --proxy-headers)
    token  the pensioner's credential: X-Session-Nonce, X-Link-Pass, a link token in the
           path or query (hashed; never stored in the clear)
    staff  instead of both, for requests whose bearer token or staff cookie VERIFIES
           (bulk enrolment by an agency key comes from one address, and is accountable
           per key); an unverified credential buys nothing: it is counted by address

Credentials are read by api.credentials, the same parsing the routes use; a request
carrying a credential header twice is refused here with 400 `credential_duplicated`,
whatever it is. Over a limit: 429 `rate_limited` with Retry-After.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Scope

from service.context import Services
from service.error_codes import ErrorCode
from service.infra.limits import Budget, hashed

from .auth import verified_actor
from .credentials import Credentials, DuplicateCredentialError, credentials_of
from .errors import error_body

__all__ = ["UploadRateLimitMiddleware", "is_upload", "RateDecision", "UPLOAD_CONTENT_TYPES"]

log = logging.getLogger(__name__)

UPLOAD_CONTENT_TYPES = (
    "multipart/form-data",
    "video/",
    "image/",
    "audio/",
    "application/octet-stream",
    "application/offset+octet-stream",
)
"""Bodies that make an unsafe request an upload wherever it is sent."""

_UNSAFE = frozenset({"POST", "PUT", "PATCH"})
_LINK_TOKEN = re.compile(r"/(?:links?|l|t)/([^/]+)")


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    scope: str = ""
    retry_after_s: int = 0


def is_upload(method: str, path: str, content_type: str, patterns: tuple[re.Pattern[str], ...]) -> bool:
    if method not in _UNSAFE:
        return False
    if any(p.search(path) for p in patterns):
        return True
    content_type = content_type.lower()
    return any(content_type.startswith(t) for t in UPLOAD_CONTENT_TYPES)


def _pensioner_credential(credentials: Credentials, path: str, query: str) -> str | None:
    if credentials.session_nonce:
        return f"nonce:{credentials.session_nonce}"
    if credentials.link_pass:
        return f"pass:{credentials.link_pass}"
    token = parse_qs(query).get("token")
    if token:
        return f"query:{token[0]}"
    match = _LINK_TOKEN.search(path)
    if match:
        return f"link:{match.group(1)}"
    return None


class UploadRateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, services: Services) -> None:
        self.app = app
        self.services = services
        settings = services.settings
        self.patterns = tuple(re.compile(p) for p in settings.rate_limit_paths)
        self.window_s = max(1, settings.rate_limit_window_s)
        self.limits = {
            "ip": settings.rate_limit_ip_per_window,
            "token": settings.rate_limit_token_per_window,
            "staff": settings.rate_limit_staff_per_window,
        }

    def _budgets(self, identities: dict[str, str]) -> list[Budget]:
        return [Budget(scope, identity, self.limits[scope], self.window_s) for scope, identity in identities.items()]

    def _identities(self, credentials: Credentials, client: str, path: str, query: str) -> dict[str, str]:
        if credentials.staff_side:
            try:
                with self.services.sessions() as db:
                    actor = verified_actor(db, self.services.settings, credentials, now=self.services.clock())
            except SQLAlchemyError:  # the database is down: the route will answer 503
                actor = None
            if actor is not None:
                return {"staff": hashed(actor)}
            return {"ip": client}
        identities = {"ip": client}
        credential = _pensioner_credential(credentials, path, query)
        if credential is not None:
            identities["token"] = hashed(credential)
        return identities

    def _check(self, credentials: Credentials, client: str, path: str, query: str) -> RateDecision:
        exceeded = self.services.limiter.hit(self._budgets(self._identities(credentials, client, path, query)))
        if exceeded is None:
            return RateDecision(True)
        return RateDecision(False, exceeded.budget.scope, exceeded.retry_after_s)

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            credentials = credentials_of(scope)
        except DuplicateCredentialError as exc:
            await _send_error(send, exc.status, error_body(exc.code, exc.message, **exc.details))
            return
        path = scope.get("path", "")
        content_type = ""
        for name, value in scope.get("headers", []):
            if name.lower() == b"content-type":
                content_type = value.decode("latin-1")
                break
        if not is_upload(scope.get("method", ""), path, content_type, self.patterns):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        decision = await run_in_threadpool(
            self._check, credentials, client[0] if client else "unknown", path,
            scope.get("query_string", b"").decode("latin-1"),
        )
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        body = error_body(
            ErrorCode.RATE_LIMITED,
            f"too many uploads from this {'address' if decision.scope == 'ip' else 'credential'}; "
            "wait and try again",
            scope=decision.scope,
            retry_after_s=decision.retry_after_s,
        )
        await _send_error(send, 429, body, retry_after_s=decision.retry_after_s)


async def _send_error(send, status: int, body: dict[str, Any], *, retry_after_s: int | None = None) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if retry_after_s is not None:
        headers.append((b"retry-after", str(retry_after_s).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
