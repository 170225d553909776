"""Headers on every API response (`/v1/...`, health, the schema and docs): never
sniffed as another content type, never cached, and, unless the route set a policy of its
own (the docs page), a content security policy that lets nothing run or be framed.

The pages (web/) get their own headers (web/headers.py) and skip these prefixes.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ApiHeadersMiddleware", "API_PREFIXES", "API_CONTENT_SECURITY_POLICY"]

API_PREFIXES = ("/v1/", "/healthz", "/readyz", "/docs", "/openapi.json", "/redoc")
"""Paths the API serves (the pages' middleware leaves them as they are)."""

API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
"""JSON, images and CSV are data: opened in a browser, nothing in them may run."""


class ApiHeadersMiddleware:
    """Adds `X-Content-Type-Options: nosniff`, `Cache-Control: no-store` (replacing a
    route's own value that would let a cache keep it) and the API's CSP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value) for name, value in message.get("headers", [])
                    if name.lower() not in (b"x-content-type-options", b"cache-control")
                    or (name.lower() == b"cache-control" and b"no-store" in value.lower())
                ]
                names = {name.lower() for name, _ in headers}
                headers.append((b"x-content-type-options", b"nosniff"))
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", API_CONTENT_SECURITY_POLICY.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
