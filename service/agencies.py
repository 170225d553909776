"""Data functions for pension agencies: period rules per region and the signing keys.

A pensioner's agency is the one with the longest region code covering the pensioner's
paying region (a county agency wins over its city's, a city's over its province's).
Regions without a configured agency follow the default rules.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Agency, PeriodKind

from .actors import Actor
from .audit import record_audit
from .error_codes import ErrorCode
from .errors import ConflictError, InvalidInputError
from .infra.crypto import Keyring
from .rules.regions import default_agency_name, is_region_code

__all__ = [
    "RecordRules",
    "DEFAULT_RULES",
    "DATA_MATCH_SOURCES",
    "scope_codes",
    "agency_for_region",
    "rules_for_region",
    "create_agency",
    "configure_agency",
    "set_agency",
    "issuer_for_region",
    "signing_key",
    "signing_key_context",
    "public_key_of",
    "public_key_pem",
    "DEFAULT_GRACE_DAYS",
    "MAX_GRACE_DAYS",
    "rules_of",
]

DEFAULT_GRACE_DAYS = 0
"""Days after a period ends before an uncertified record is overdue, when not configured."""

MAX_GRACE_DAYS = 366
DATA_MATCH_SOURCES = frozenset(
    {"hospital_visit", "card_payment", "civil_affairs", "public_security", "bank_counter", "pharmacy"}
)
"""Proof-of-life sources an agency may accept for certification by data matching."""


@dataclass(frozen=True, slots=True)
class RecordRules:
    """How a region's records run: period kind, grace, suspension, data matching."""

    period_kind: str = PeriodKind.CALENDAR_YEAR
    grace_days: int = DEFAULT_GRACE_DAYS
    suspend_after_days: int | None = None
    data_match_sources: frozenset[str] = frozenset()


DEFAULT_RULES = RecordRules()
"""Calendar years, no grace, suspension only when the agency asks, no data matching."""


def scope_codes(region_code: str) -> list[str]:
    """The county, city and province codes covering a region, most specific first."""
    codes = [region_code, region_code[:4] + "00", region_code[:2] + "0000"]
    return list(dict.fromkeys(codes))


def agency_for_region(db: Session, region_code: str) -> Agency | None:
    candidates = db.scalars(select(Agency).where(Agency.region_code.in_(scope_codes(region_code)))).all()
    if not candidates:
        return None
    return max(candidates, key=lambda a: len(a.region_code.rstrip("0")))


def rules_of(agency: Agency | None) -> RecordRules:
    if agency is None:
        return DEFAULT_RULES
    return RecordRules(
        period_kind=agency.period_kind,
        grace_days=agency.grace_days,
        suspend_after_days=agency.suspend_after_days,
        data_match_sources=frozenset(agency.data_match_sources or ()),
    )


def rules_for_region(db: Session, region_code: str) -> RecordRules:
    return rules_of(agency_for_region(db, region_code))


def _check_rules(
    *, period_kind: str, grace_days: int, suspend_after_days: int | None, data_match_sources: Sequence[str]
) -> None:
    if period_kind not in PeriodKind.ALL:
        raise InvalidInputError(ErrorCode.PERIOD_KIND_INVALID, f"period_kind must be one of {list(PeriodKind.ALL)}")
    if not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise InvalidInputError(ErrorCode.GRACE_DAYS_INVALID, f"grace_days must be 0..{MAX_GRACE_DAYS}")
    if suspend_after_days is not None and not 0 <= suspend_after_days <= MAX_GRACE_DAYS:
        raise InvalidInputError(ErrorCode.SUSPEND_AFTER_DAYS_INVALID, f"suspend_after_days must be 0..{MAX_GRACE_DAYS}")
    unknown = set(data_match_sources) - DATA_MATCH_SOURCES
    if unknown:
        raise InvalidInputError(
            ErrorCode.DATA_MATCH_SOURCE_INVALID,
            f"unknown sources {sorted(unknown)}; known: {sorted(DATA_MATCH_SOURCES)}",
        )


def signing_key_context(agency_id: uuid.UUID) -> str:
    """The authenticated context of an agency's encrypted signing key."""
    return f"agency-key:{agency_id}"


def create_agency(
    db: Session,
    *,
    keyring: Keyring,
    name: str,
    region_code: str,
    now: dt.datetime,
    period_kind: str = PeriodKind.CALENDAR_YEAR,
    grace_days: int = DEFAULT_GRACE_DAYS,
    suspend_after_days: int | None = None,
    data_match_sources: Sequence[str] = (),
) -> Agency:
    """A new agency for a region, with a fresh Ed25519 signing key (encrypted at rest)."""
    if not is_region_code(region_code):
        raise InvalidInputError(ErrorCode.REGION_CODE_INVALID, "region must be a six-digit division code")
    if not name.strip():
        raise InvalidInputError(ErrorCode.NAME_REQUIRED, "the agency needs a name")
    _check_rules(
        period_kind=period_kind, grace_days=grace_days, suspend_after_days=suspend_after_days,
        data_match_sources=data_match_sources,
    )
    if db.scalar(select(Agency.id).where(Agency.region_code == region_code)):
        raise ConflictError(ErrorCode.AGENCY_EXISTS, "this region already has an agency")
    agency_id = uuid.uuid4()
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    agency = Agency(
        id=agency_id,
        name=name.strip()[:100],
        region_code=region_code,
        period_kind=period_kind,
        grace_days=grace_days,
        suspend_after_days=suspend_after_days,
        data_match_sources=sorted(set(data_match_sources)),
        signing_key_id=f"{region_code}-{secrets.token_hex(4)}",
        signing_key_encrypted=keyring.encrypt(raw, context=signing_key_context(agency_id).encode()),
        public_key=key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        ),
        created_at=now,
        updated_at=now,
    )
    db.add(agency)
    db.flush()
    return agency


def configure_agency(
    db: Session,
    *,
    agency: Agency,
    now: dt.datetime,
    name: str | None = None,
    period_kind: str | None = None,
    grace_days: int | None = None,
    suspend_after_days: int | None = None,
    clear_suspend_after: bool = False,
    data_match_sources: Sequence[str] | None = None,
) -> Agency:
    """Change an agency's rules; records already open keep their period and deadline."""
    new_kind = period_kind or agency.period_kind
    new_grace = agency.grace_days if grace_days is None else grace_days
    new_suspend = None if clear_suspend_after else (
        agency.suspend_after_days if suspend_after_days is None else suspend_after_days
    )
    new_sources = list(agency.data_match_sources if data_match_sources is None else data_match_sources)
    _check_rules(
        period_kind=new_kind, grace_days=new_grace, suspend_after_days=new_suspend,
        data_match_sources=new_sources,
    )
    if name is not None and name.strip():
        agency.name = name.strip()[:100]
    agency.period_kind = new_kind
    agency.grace_days = new_grace
    agency.suspend_after_days = new_suspend
    agency.data_match_sources = sorted(set(new_sources))
    agency.updated_at = now
    return agency


def set_agency(
    db: Session,
    *,
    keyring: Keyring,
    actor: Actor,
    region_code: str,
    name: str,
    now: dt.datetime,
    period_kind: str = PeriodKind.CALENDAR_YEAR,
    grace_days: int = DEFAULT_GRACE_DAYS,
    suspend_after_days: int | None = None,
    data_match_sources: Sequence[str] = (),
    ip: str | None = None,
) -> Agency:
    """Create the agency of a region, or set every rule of the one it has (no
    `suspend_after_days`: no automatic suspension), and audit it as `agency.create` or
    `agency.configure` by `actor`. The signing key of an existing agency stays."""
    agency = db.scalar(select(Agency).where(Agency.region_code == region_code))
    sources = list(data_match_sources)
    if agency is None:
        agency = create_agency(
            db, keyring=keyring, name=name, region_code=region_code, now=now,
            period_kind=period_kind, grace_days=grace_days,
            suspend_after_days=suspend_after_days, data_match_sources=sources,
        )
        action = "agency.create"
    else:
        configure_agency(
            db, agency=agency, now=now, name=name, period_kind=period_kind,
            grace_days=grace_days, suspend_after_days=suspend_after_days,
            clear_suspend_after=suspend_after_days is None, data_match_sources=sources,
        )
        action = "agency.configure"
    record_audit(
        db, actor_type=actor.kind, actor_id=actor.actor_id, action=action,
        subject_type="agency", subject_id=str(agency.id), now=now, ip=ip,
        details={
            "name": name, "period_kind": period_kind, "grace_days": grace_days,
            "suspend_after_days": suspend_after_days, "data_match_sources": sources,
        },
    )
    return agency


def issuer_for_region(db: Session, *, keyring: Keyring, region_code: str, now: dt.datetime) -> Agency:
    """The agency that signs certificates for a region; a province agency is created
    (default rules) when none covers the region yet."""
    agency = agency_for_region(db, region_code)
    if agency is not None:
        return agency
    province = region_code[:2] + "0000"
    try:
        with db.begin_nested():
            return create_agency(db, keyring=keyring, name=default_agency_name(province), region_code=province, now=now)
    except (IntegrityError, ConflictError):
        # another transaction created it first
        agency = agency_for_region(db, region_code)
        assert agency is not None
        return agency


def signing_key(agency: Agency, *, keyring: Keyring) -> Ed25519PrivateKey:
    raw = keyring.decrypt(agency.signing_key_encrypted, context=signing_key_context(agency.id).encode())
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_of(agency: Agency) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(agency.public_key)


def public_key_pem(agency: Agency) -> str:
    return public_key_of(agency).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
