"""Errors raised by data functions, each with a stable machine-readable code.

    ServiceError            code + message (+ details); the API maps the class to a status
    ├── InvalidInputError   422  the request is well-formed but its content is not usable
    ├── NotFoundError       404  no such pensioner / session / attempt
    ├── ForbiddenError      403  it exists, but not for this caller
    ├── ConflictError       409  the state does not allow it (already used, exists, locked)
    ├── GoneError           410  it expired
    ├── TooLargeError       413  the upload is larger than allowed
    ├── LockedError         423  too many failures: locked out for a while (see staff)
    ├── RateLimitedError    429  too many requests from this address or credential
    └── UnavailableError    503  a dependency (database, queue) is down; retry later

A `retry_after_s` detail becomes the response's Retry-After header. Codes are members of
`ErrorCode` (service/error_codes.py), or an engine reason passed through.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ServiceError",
    "InvalidInputError",
    "NotFoundError",
    "ForbiddenError",
    "ConflictError",
    "GoneError",
    "TooLargeError",
    "UnavailableError",
    "LockedError",
    "RateLimitedError",
]


class ServiceError(Exception):
    status: ClassVar[int] = 400

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class InvalidInputError(ServiceError):
    status = 422


class NotFoundError(ServiceError):
    status = 404


class ForbiddenError(ServiceError):
    status = 403


class ConflictError(ServiceError):
    status = 409


class GoneError(ServiceError):
    status = 410


class TooLargeError(ServiceError):
    status = 413


class UnavailableError(ServiceError):
    status = 503


class LockedError(ServiceError):
    status = 423


class RateLimitedError(ServiceError):
    status = 429
