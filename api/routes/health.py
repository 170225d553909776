"""Liveness and readiness of the service itself."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from ..deps import ServicesDep

__all__ = ["router", "healthz", "readyz"]

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(services: ServicesDep) -> JSONResponse:
    """The database, the queue and the storage answer."""
    checks: dict[str, str] = {}
    try:
        with services.engine.connect() as connection:
            connection.execute(text("select 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        services.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"error: {type(exc).__name__}"
    try:
        services.store.exists("health/probe")  # reaches the disk or the bucket
        checks["storage"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["storage"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    # where rate limits are counted: "in_process" while Redis is unreachable (limits then
    # hold per process; lockouts and tries live in the database and hold everywhere)
    rate_limits = "redis" if checks["redis"] == "ok" else "in_process"
    return JSONResponse(
        {"ready": ready, "checks": checks, "rate_limits": rate_limits},
        status_code=200 if ready else 503,
    )
