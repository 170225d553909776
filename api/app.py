"""The application factory. Nothing is built at import time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service.context import Services, build_services
from service.identity import warm_identity_index
from service.settings import Settings, get_settings

from .docs import OPENAPI_PATH, install_api_docs
from .errors import install_error_handlers
from .headers import ApiHeadersMiddleware
from .observability import ObservabilityMiddleware, make_registry
from .ratelimit import UploadRateLimitMiddleware
from .routes import (
    AGENCY_ROUTERS,
    attempts,
    auth,
    cases,
    health,
    links,
    lockouts,
    metrics,
    pensioners,
    references,
    sessions,
    uploads,
)

__all__ = ["create_app", "API_VERSION"]

API_VERSION = "1.0.0"


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """Build the app. Pass `services` to share them (tests); otherwise they are built here."""
    settings = settings or (services.settings if services else get_settings())
    owned = services is None
    services = services or build_services(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(warm_identity_index, services)  # rebuilt from the database
        yield
        if owned:
            services.close()

    app = FastAPI(
        title="certify",
        version=API_VERSION,
        summary="Proof-of-life certification for pensions",
        lifespan=lifespan,
        # /docs (api/docs.py, under its own CSP) and the schema only where settings say
        openapi_url=OPENAPI_PATH if settings.serves_api_docs else None,
        docs_url=None,
        redoc_url=None,
    )
    if settings.serves_api_docs:
        install_api_docs(app, settings)
    app.state.services = services
    install_error_handlers(app)
    for module in (
        health, metrics, auth, pensioners, sessions, attempts, links, uploads, cases,
        references, lockouts,
    ):
        app.include_router(module.router)
    for module in AGENCY_ROUTERS:
        app.include_router(module.router)
    registry, requests, latency = make_registry(services)
    app.state.metrics_registry = registry
    app.add_middleware(UploadRateLimitMiddleware, services=services)
    app.add_middleware(ApiHeadersMiddleware)
    app.add_middleware(ObservabilityMiddleware, requests=requests, latency=latency)  # outermost
    from web import mount_pages
    from web.agency import router as agency_pages

    mount_pages(app)
    app.include_router(agency_pages)
    return app
