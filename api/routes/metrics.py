"""Prometheus metrics of the API and, through Redis, of every worker."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..permissions import MetricsReaderDep

__all__ = ["router", "metrics"]

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, _reader: MetricsReaderDep) -> Response:
    """Requests, queue depth, job durations per stage, decisions by reason (text format).
    With `CERTIFY_METRICS_TOKEN` set, only for `Authorization: Bearer <that token>`."""
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
