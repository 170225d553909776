"""Prometheus metrics of the API and, through Redis, of every worker."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..auth import BearerDep, UnauthorizedError

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, bearer: BearerDep) -> Response:
    """Requests, queue depth, job durations per stage, decisions by reason (text format).
    With `CERTIFY_METRICS_TOKEN` set, only for `Authorization: Bearer <that token>`."""
    token = request.app.state.services.settings.metrics_token
    if token is not None:
        sent = (bearer or "").encode("utf-8", "surrogateescape")
        if not secrets.compare_digest(sent, token.get_secret_value().encode()):
            raise UnauthorizedError("unauthorized", "metrics need the metrics token")
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
