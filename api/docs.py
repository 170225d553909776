"""The interactive API documentation (`/docs`, Swagger UI), served with `/openapi.json`
only when `Settings.serves_api_docs` (by default everywhere but in production).

The page loads Swagger UI's script, stylesheet and icon from the app itself (the
swagger-ui-bundle package, at /docs/assets) or from `api_docs_assets_url`, and
runs one inline script of its own; its content security policy allows exactly those
(the inline script by its hash), the schema and "try it out" requests to this origin,
and nothing else. No ReDoc page: it needs inline styles, web workers and web fonts.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from service.settings import Settings

__all__ = [
    "install_api_docs",
    "docs_content_security_policy",
    "DOCS_PATH",
    "OPENAPI_PATH",
    "DOCS_ASSETS_PATH",
]

DOCS_PATH = "/docs"
OPENAPI_PATH = "/openapi.json"
DOCS_ASSETS_PATH = "/docs/assets"
"""Swagger UI's files, served from the swagger-ui-bundle package unless
`api_docs_assets_url` names another place."""

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "'self'"


def docs_content_security_policy(html: str, *, assets_url: str) -> str:
    """The policy for a docs page: its inline scripts by hash, assets from one origin."""
    assets = _origin(assets_url)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src {assets} {hashes}; style-src {assets}; "
        f"img-src {assets} data:; font-src {assets}; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def install_api_docs(app: FastAPI, settings: Settings) -> None:
    """Add `/docs` (the app must have been built with docs_url=None, redoc_url=None)."""
    base = settings.api_docs_assets_url.rstrip("/")
    if not base:
        base = DOCS_ASSETS_PATH
        app.mount(DOCS_ASSETS_PATH, StaticFiles(directory=swagger_ui_path), name="docs-assets")
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or OPENAPI_PATH,
        title=f"{app.title} API",
        swagger_js_url=f"{base}/swagger-ui-bundle.js",
        swagger_css_url=f"{base}/swagger-ui.css",
        swagger_favicon_url=f"{base}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from swagger.io
    )
    html = bytes(page.body).decode()
    policy = docs_content_security_policy(html, assets_url=base)

    @app.get(DOCS_PATH, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})
