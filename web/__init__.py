"""The pages people use, served by the same FastAPI app as the API.

    /                 start page
    /l#<token>        the pensioner's capture flow, opened from their one-time link
    /r/<attempt id>   a result page that polls until the attempt is decided
    /staff/...        community staff on a tablet: sign-in, caseload, one case, the
                      assisted capture flow, reference photo capture and approval

Simplified Chinese by default, English as a choice (web/catalogue). Plain HTML, CSS and
ES modules (web/static): no build step, nothing loaded from other origins.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .assets import STATIC_DIR, STATIC_PREFIX
from .headers import PageHeadersMiddleware
from .pages import router

__all__ = ["mount_pages"]


def mount_pages(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(PageHeadersMiddleware)
