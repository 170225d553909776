"""Security and caching headers for the pages (not the JSON API), and gzip for them.

The pages load nothing from other origins and run no inline script, so the content
security policy can be strict; they may not be framed (the consent screen must not be
overlaid by another site), and only this origin may use the camera and microphone.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.headers import API_PREFIXES  # left exactly as the API serves them

from .assets import ASSET_MAX_AGE_S, STATIC_PREFIX

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "PageHeadersMiddleware",
]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob: mediastream:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(self), microphone=(self), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class PageHeadersMiddleware:
    """Adds the page headers and compresses page and static responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(self._with_headers, minimum_size=1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(API_PREFIXES):
            await self.app(scope, receive, send)
            return
        await self.gzip(scope, receive, send)

    async def _with_headers(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        versioned = path.startswith(STATIC_PREFIX + "/") and b"v=" in scope.get("query_string", b"")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(_HEADERS)
                if versioned:
                    headers.append(
                        (b"cache-control", f"public, max-age={ASSET_MAX_AGE_S}, immutable".encode())
                    )
                elif not path.startswith(STATIC_PREFIX + "/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
