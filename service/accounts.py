"""Data functions for staff accounts and agency API keys. They never commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiKey, StaffRole, StaffUser

from .error_codes import ErrorCode
from .errors import ConflictError, InvalidInputError, NotFoundError
from .rules.regions import is_region_code
from .staff_sessions import revoke_staff_sessions

__all__ = [
    "create_staff",
    "authenticate_staff",
    "get_staff_by_username",
    "set_staff_password",
    "set_staff_active",
    "create_api_key",
    "verify_api_key",
    "API_KEY_PREFIX",
    "SCOPES",
    "MIN_PASSWORD_LENGTH",
]

MIN_PASSWORD_LENGTH = 10
API_KEY_PREFIX = "ck_"

SCOPES = frozenset(
    {
        "results:read",
        "export:read",
        "pensioners:write",
        "records:write",
        "evidence:read",
        "webhooks:manage",
    }
)
"""What an agency API key may be allowed to do."""

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("certify-dummy-password")


def create_staff(
    db: Session,
    *,
    username: str,
    password: str,
    display_name: str,
    role: str,
    region_code: str,
    now: dt.datetime,
) -> StaffUser:
    username = username.strip().lower()
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
        raise InvalidInputError(ErrorCode.USERNAME_INVALID, "use letters, digits, '.' and '_'")
    _check_password(password)
    if role not in StaffRole.ALL:
        raise InvalidInputError(ErrorCode.ROLE_INVALID, f"role must be one of {sorted(StaffRole.ALL)}")
    if not is_region_code(region_code):
        raise InvalidInputError(ErrorCode.REGION_CODE_INVALID, "region must be a six-digit division code")
    if db.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        raise ConflictError(ErrorCode.USERNAME_TAKEN, "this username is already used")
    user = StaffUser(
        id=uuid.uuid4(),
        username=username,
        password_hash=_hasher.hash(password),
        display_name=display_name.strip() or username,
        role=role,
        region_code=region_code,
        active=True,
        created_at=now,
    )
    db.add(user)
    db.flush()
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(
            ErrorCode.PASSWORD_TOO_SHORT, f"passwords need at least {MIN_PASSWORD_LENGTH} characters"
        )


def get_staff_by_username(db: Session, username: str) -> StaffUser:
    user = db.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))
    if user is None:
        raise NotFoundError(ErrorCode.STAFF_NOT_FOUND, "no staff account with this username")
    return user


def set_staff_password(db: Session, *, user: StaffUser, password: str, now: dt.datetime) -> int:
    """Give the account a new password and end every sign-in made with the old one;
    returns how many sign-ins ended."""
    _check_password(password)
    user.password_hash = _hasher.hash(password)
    return revoke_staff_sessions(db, user_id=user.id, now=now, reason="password_changed")


def set_staff_active(db: Session, *, user: StaffUser, active: bool, now: dt.datetime) -> int:
    """(De)activate an account; deactivating ends its sign-ins. Returns how many ended."""
    user.active = active
    if active:
        return 0
    return revoke_staff_sessions(db, user_id=user.id, now=now, reason="deactivated")


def authenticate_staff(
    db: Session, *, username: str, password: str, now: dt.datetime
) -> StaffUser | None:
    """The active account for these credentials, or None (same cost either way)."""
    user = db.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))
    candidate_hash = user.password_hash if user is not None else _DUMMY_HASH
    try:
        _hasher.verify(candidate_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    return user


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    db: Session,
    *,
    agency: str,
    scopes: Sequence[str],
    regions: Sequence[str],
    now: dt.datetime,
) -> tuple[ApiKey, str]:
    """A new key; returns the row and the full key text (shown once, never stored)."""
    unknown = set(scopes) - SCOPES
    if unknown:
        raise InvalidInputError(ErrorCode.SCOPE_INVALID, f"unknown scopes: {sorted(unknown)}")
    bad = [r for r in regions if not is_region_code(r)]
    if bad or not regions:
        raise InvalidInputError(ErrorCode.REGION_CODE_INVALID, "regions must be six-digit division codes")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        id=uuid.uuid4(),
        agency=agency.strip(),
        prefix=prefix,
        secret_hash=_secret_hash(secret),
        scopes=sorted(set(scopes)),
        regions=list(dict.fromkeys(regions)),
        active=True,
        created_at=now,
    )
    db.add(key)
    db.flush()
    return key, f"{API_KEY_PREFIX}{prefix}_{secret}"


def verify_api_key(db: Session, *, text: str, now: dt.datetime) -> ApiKey | None:
    """The active key matching `ck_<prefix>_<secret>`, or None."""
    if not text.startswith(API_KEY_PREFIX):
        return None
    prefix, _, secret = text[len(API_KEY_PREFIX) :].partition("_")
    if not prefix or not secret:
        return None
    key = db.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or not key.active:
        return None
    if not secrets.compare_digest(key.secret_hash, _secret_hash(secret)):
        return None
    key.last_used_at = now
    return key
