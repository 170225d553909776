"""Every error leaves the API as JSON: {"error": {"code": ..., "message": ..., ...details}}.

Codes are stable and machine-readable; messages are English prose for developers (the
pages show their own translated text for each code).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.error_codes import ErrorCode
from service.errors import ServiceError

__all__ = ["error_body", "install_error_handlers", "UploadTooLargeError"]

log = logging.getLogger(__name__)

_HTTP_CODES = {
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
}


class UploadTooLargeError(Exception):
    """The request body grew past the limit while it was being received."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"larger than {limit_bytes} bytes")
        self.limit_bytes = limit_bytes


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **details}}


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        headers = {"Retry-After": "30"} if exc.status == 503 else None
        retry_after = exc.details.get("retry_after_s")
        if isinstance(retry_after, int | float):
            headers = {"Retry-After": str(max(1, int(retry_after + 0.999)))}
        return JSONResponse(
            error_body(exc.code, exc.message, **_json_safe(exc.details)),
            status_code=exc.status,
            headers=headers,
        )

    @app.exception_handler(UploadTooLargeError)
    async def _too_large(_: Request, exc: UploadTooLargeError) -> JSONResponse:
        return JSONResponse(
            error_body(ErrorCode.UPLOAD_TOO_LARGE, str(exc), limit_bytes=exc.limit_bytes),
            status_code=413,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        return JSONResponse(
            error_body(ErrorCode.INVALID_REQUEST, "the request is not valid", fields=fields),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(OperationalError)
    async def _database_down(_: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", exc.orig)
        return JSONResponse(
            error_body(ErrorCode.DATABASE_UNAVAILABLE, "the database is not reachable; try again"),
            status_code=503,
            headers={"Retry-After": "30"},
        )

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> JSONResponse:
        # the safety net under schema validation: a value the database cannot store
        # (NUL bytes, invalid encoding, out-of-range numbers) is the caller's input
        log.warning("unstorable input on %s %s: %s", request.method, request.url.path, type(exc.orig).__name__)
        return JSONResponse(
            error_body(ErrorCode.INVALID_VALUE, "a value in the request cannot be stored"), status_code=422
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body(ErrorCode.INTERNAL_ERROR, "something went wrong on our side"), status_code=500
        )
