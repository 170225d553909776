"""Rate limits on uploads, per client IP and per credential, kept in Redis.

Applied as ASGI middleware before routing, by what a request looks like rather than by
which route handles it, so upload endpoints added later are covered without changes:
an unsafe request (POST/PUT/PATCH) is an upload when its path matches one of
`rate_limit_paths` or its body is a file (multipart, video/*, image/*, octet-stream,
tus). Each is counted twice, in fixed windows of `rate_limit_window_s`:

    ip     the client address (behind a proxy, run uvicorn with --proxy-headers)
    token  the pensioner's credential: X-Session-Nonce, a link token in the path or query
           (hashed; never stored in the clear)
    staff  instead of both, for requests carrying a bearer token or a staff cookie (bulk
           enrolment by an agency key comes from one address, and is accountable per key)

Over either limit: 429 `rate_limited` with Retry-After. If Redis is unreachable the
limiter lets requests through (uploads then land in the outbox) and says so in the log
once a minute.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool

from service.context import Services

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
_OUTAGE_LOG_INTERVAL_S = 60.0

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


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


def _credential(headers: dict[str, str], path: str, query: str) -> str | None:
    for name in ("x-session-nonce", "authorization"):
        if headers.get(name):
            return f"{name}:{headers[name]}"
    cookie = headers.get("cookie", "")
    for part in cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "certify_session" and value:
            return f"cookie:{value}"
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
        self._outage_logged_at = 0.0

    def _check(self, identities: dict[str, str]) -> RateDecision:
        now = self.services.clock().timestamp()
        window = int(now // self.window_s)
        retry_after = int((window + 1) * self.window_s - now) + 1
        try:
            with self.services.redis.pipeline() as pipe:
                for scope, identity in identities.items():
                    key = f"certify:rl:{scope}:{identity}:{window}"
                    pipe.incr(key)
                    pipe.expire(key, self.window_s + 5)
                counts = pipe.execute()[::2]
        except (RedisError, OSError, RuntimeError) as exc:
            if time.monotonic() - self._outage_logged_at > _OUTAGE_LOG_INTERVAL_S:
                self._outage_logged_at = time.monotonic()
                log.warning("upload rate limits not enforced (Redis unavailable: %s)", exc)
            return RateDecision(True)
        for (scope, _), count in zip(identities.items(), counts, strict=True):
            if int(count) > self.limits[scope]:
                return RateDecision(False, scope, retry_after)
        return RateDecision(True)

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path = scope.get("path", "")
        if not is_upload(scope.get("method", ""), path, headers.get("content-type", ""), self.patterns):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        credential = _credential(headers, path, scope.get("query_string", b"").decode("latin-1"))
        digest = hashlib.sha256((credential or "").encode()).hexdigest()[:32]
        if credential is not None and credential.startswith(("authorization:", "cookie:")):
            identities = {"staff": digest}
        else:
            identities = {"ip": client[0] if client else "unknown"}
            if credential is not None:
                identities["token"] = digest
        decision = await run_in_threadpool(self._check, identities)
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            error_body(
                "rate_limited",
                f"too many uploads from this {'address' if decision.scope == 'ip' else 'credential'}; "
                "wait and try again",
                scope=decision.scope,
                retry_after_s=decision.retry_after_s,
            )
        ).encode()
        await send({
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", str(decision.retry_after_s).encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        })
        await send({"type": "http.response.body", "body": body})
