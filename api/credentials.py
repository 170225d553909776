"""The credentials a request carries, read once from its raw headers, the same way for
the rate limiter (before routing) and for the routes (as dependencies).

    bearer         Authorization: Bearer <token>      (operator token, agency API key)
    session_nonce  X-Session-Nonce                     (a certification session)
    link_pass      X-Link-Pass                         (the pensioner's page pass)
    staff_cookie   the certify_session cookie          (a signed-in member of staff)

A credential header sent twice (even once empty) is refused with 400
`credential_duplicated`: a proxy, the limiter and a route that each picked a different
copy would otherwise judge different credentials.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from service.error_codes import ErrorCode
from service.errors import ServiceError

__all__ = [
    "Credentials",
    "DuplicateCredentialError",
    "parse_credentials",
    "credentials_of",
    "CredentialsDep",
    "NonceDep",
    "LinkPassDep",
    "STAFF_COOKIE",
    "NONCE_HEADER",
    "LINK_PASS_HEADER",
]

STAFF_COOKIE = "certify_session"
NONCE_HEADER = "X-Session-Nonce"
LINK_PASS_HEADER = "X-Link-Pass"
_SINGLE = {b"authorization", NONCE_HEADER.lower().encode(), LINK_PASS_HEADER.lower().encode()}
_MAX_LENGTH = 4096
_STATE_KEY = "certify.credentials"


class DuplicateCredentialError(ServiceError):
    status = 400


@dataclass(frozen=True)
class Credentials:
    bearer: str | None = None
    session_nonce: str | None = None
    link_pass: str | None = None
    staff_cookie: str | None = None

    @property
    def staff_side(self) -> bool:
        """Claims to be staff or an agency (not yet verified)."""
        return self.bearer is not None or self.staff_cookie is not None


def _duplicate(name: str) -> DuplicateCredentialError:
    return DuplicateCredentialError(
        ErrorCode.CREDENTIAL_DUPLICATED, f"send the {name} credential once", credential=name
    )


def _cookie_values(header: str, name: str) -> list[str]:
    values = []
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            values.append(value.strip().strip('"'))
    return values


def parse_credentials(raw_headers: Iterable[tuple[bytes, bytes]]) -> Credentials:
    """Read the credentials from an ASGI header list; raises DuplicateCredentialError."""
    seen: dict[bytes, str] = {}
    cookies: list[str] = []
    for raw_name, raw_value in raw_headers:
        name = raw_name.lower()
        if name == b"cookie":
            cookies.extend(_cookie_values(raw_value.decode("latin-1"), STAFF_COOKIE))
            continue
        if name not in _SINGLE:
            continue
        if name in seen:
            raise _duplicate(name.decode())
        seen[name] = raw_value.decode("latin-1").strip()[:_MAX_LENGTH]
    if len(cookies) > 1:
        raise _duplicate(STAFF_COOKIE)
    scheme, _, token = seen.get(b"authorization", "").partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return Credentials(
        bearer=bearer,
        session_nonce=seen.get(NONCE_HEADER.lower().encode()) or None,
        link_pass=seen.get(LINK_PASS_HEADER.lower().encode()) or None,
        staff_cookie=cookies[0] if cookies and cookies[0] else None,
    )


def credentials_of(scope: dict) -> Credentials:
    """The request's credentials, parsed once per request and kept in its scope."""
    state = scope.setdefault("state", {})
    credentials = state.get(_STATE_KEY)
    if credentials is None:
        credentials = parse_credentials(scope.get("headers", []))
        state[_STATE_KEY] = credentials
    return credentials


def _credentials(request: Request) -> Credentials:
    return credentials_of(request.scope)


CredentialsDep = Annotated[Credentials, Depends(_credentials)]


def _nonce(
    credentials: CredentialsDep,
    # declared for the OpenAPI document only; the value comes from parse_credentials
    _header: Annotated[str | None, Header(alias=NONCE_HEADER, max_length=128)] = None,
) -> str | None:
    return credentials.session_nonce


def _link_pass(
    credentials: CredentialsDep,
    _header: Annotated[str | None, Header(alias=LINK_PASS_HEADER, max_length=128)] = None,
) -> str | None:
    return credentials.link_pass


NonceDep = Annotated[str | None, Depends(_nonce)]
"""The X-Session-Nonce of the request (one parsing shared with the rate limiter)."""
LinkPassDep = Annotated[str | None, Depends(_link_pass)]
"""The X-Link-Pass of the request (one parsing shared with the rate limiter)."""
