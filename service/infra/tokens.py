"""Signed, expiring tokens (HMAC-SHA256) for cookies and links; tamper-evident, not secret."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

__all__ = ["sign_token", "read_token"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, body: str) -> str:
    key = hashlib.sha256(f"token\x00{purpose}\x00{secret}".encode()).digest()
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def sign_token(
    secret: str, *, purpose: str, payload: dict[str, Any], ttl_s: int, now: dt.datetime
) -> str:
    body = _b64(json.dumps({**payload, "exp": int(now.timestamp()) + ttl_s}).encode())
    return f"{body}.{_mac(secret, purpose, body)}"


def read_token(secret: str, *, purpose: str, token: str, now: dt.datetime) -> dict[str, Any] | None:
    """The payload of a valid, unexpired token for this purpose; None otherwise."""
    body, _, mac = token.partition(".")
    if not body or not mac or not hmac.compare_digest(mac, _mac(secret, purpose, body)):
        return None
    try:
        payload = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict) or int(payload.get("exp", 0)) < now.timestamp():
        return None
    return payload
