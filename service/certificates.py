"""Signed digital certificates (Ed25519) for certified qualification records.

A certificate is one printable string:

    CRT1.<key id>.<base64url(canonical JSON payload)>.<base64url(Ed25519 signature)>

and, for the QR code, a compact form signed with the same key (a phone camera reads a
QR code of version ~10 off a screen reliably; the full JSON form needs version 23):

    CRQ1|<key id>|<certificate id>|<masked national ID>|<scheme>|<period>|<method>|<valid until>|<signature>

Each signature covers everything before its last separator. Anyone holding the
agency's public key can check either form offline (`certify verify CERT --public-key
agency.pem`); `verify_token` is the pure function the API and the command line use.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Certificate, Pensioner, QualificationRecord, RecordStatus

from .agencies import issuer_for_region, signing_key
from .error_codes import ErrorCode
from .errors import ConflictError
from .infra import tokens
from .infra.crypto import Keyring

__all__ = [
    "CERTIFICATE_PREFIX",
    "CertificateError",
    "VerifiedCertificate",
    "canonical_json",
    "sign_payload",
    "sign_compact",
    "COMPACT_PREFIX",
    "read_token",
    "verify_token",
    "issue_certificates",
    "revoke_certificate",
    "qr_access_token",
    "qr_access_allows",
    "QR_ACCESS_PURPOSE",
]

QR_ACCESS_PURPOSE = "certificate-qr"
"""Purpose of the signed capability in a certificate's QR image address."""

CERTIFICATE_PREFIX = "CRT1"
"""Version tag of the certificate format."""
COMPACT_PREFIX = "CRQ1"
"""Version tag of the compact form the QR code holds."""
_COMPACT_FIELDS = ("id", "national_id_masked", "scheme", "period", "method", "valid_until")


class CertificateError(ValueError):
    """A certificate that cannot be read or whose signature does not verify."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical_json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_payload(payload: dict[str, Any], *, key: Ed25519PrivateKey, key_id: str) -> str:
    signed = f"{CERTIFICATE_PREFIX}.{key_id}.{_b64(canonical_json(payload))}"
    return f"{signed}.{_b64(key.sign(signed.encode()))}"


def sign_compact(payload: dict[str, Any], *, key: Ed25519PrivateKey, key_id: str) -> str:
    """The compact (QR) form of a certificate payload, signed."""
    values = [payload["id"], payload["pensioner"]["national_id_masked"], payload["scheme"], payload["period"],
              payload["method"] or "", payload["valid_until"]]
    if any("|" in str(v) for v in values):
        raise ValueError("a certificate field contains the separator")
    signed = "|".join([COMPACT_PREFIX, key_id, *map(str, values)])
    return f"{signed}|{_b64(key.sign(signed.encode()))}"


@dataclass(frozen=True, slots=True)
class VerifiedCertificate:
    key_id: str
    payload: dict[str, Any]

    def expired(self, today: dt.date) -> bool:
        return dt.date.fromisoformat(self.payload["valid_until"]) < today


def read_token(token: str) -> tuple[str, dict[str, Any], bytes, bytes]:
    """(key id, payload, signed bytes, signature) of a certificate, without verifying it."""
    token = token.strip()
    if token.startswith(COMPACT_PREFIX + "|"):
        return _read_compact(token)
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != CERTIFICATE_PREFIX:
        raise CertificateError(ErrorCode.CERTIFICATE_MALFORMED, f"not a {CERTIFICATE_PREFIX} certificate")
    try:
        payload = json.loads(_unb64(parts[2]))
        signature = _unb64(parts[3])
    except (ValueError, UnicodeDecodeError):
        raise CertificateError(ErrorCode.CERTIFICATE_MALFORMED, "the certificate is damaged") from None
    if not isinstance(payload, dict):
        raise CertificateError(ErrorCode.CERTIFICATE_MALFORMED, "the certificate is damaged")
    return parts[1], payload, ".".join(parts[:3]).encode(), signature


def _read_compact(token: str) -> tuple[str, dict[str, Any], bytes, bytes]:
    parts = token.split("|")
    if len(parts) != 3 + len(_COMPACT_FIELDS):
        raise CertificateError(ErrorCode.CERTIFICATE_MALFORMED, f"not a {COMPACT_PREFIX} certificate")
    key_id, values, signature = parts[1], dict(zip(_COMPACT_FIELDS, parts[2:-1], strict=True)), parts[-1]
    try:
        raw_signature = _unb64(signature)
    except ValueError:
        raise CertificateError(ErrorCode.CERTIFICATE_MALFORMED, "the certificate is damaged") from None
    payload = {
        "id": values["id"], "pensioner": {"national_id_masked": values["national_id_masked"]},
        "scheme": values["scheme"], "period": values["period"], "method": values["method"] or None,
        "valid_until": values["valid_until"], "issuer": {"key_id": key_id}, "compact": True,
    }
    return key_id, payload, "|".join(parts[:-1]).encode(), raw_signature


def verify_token(token: str, public_key: Ed25519PublicKey) -> VerifiedCertificate:
    """The certificate's content if `public_key` signed it; CertificateError otherwise."""
    key_id, payload, signed, signature = read_token(token)
    try:
        public_key.verify(signature, signed)
    except InvalidSignature:
        raise CertificateError(
            ErrorCode.SIGNATURE_INVALID, "the signature does not match: altered, or another issuer's key"
        ) from None
    if payload.get("issuer", {}).get("key_id") != key_id:
        raise CertificateError(ErrorCode.CERTIFICATE_MALFORMED, "the key id inside and outside differ")
    return VerifiedCertificate(key_id=key_id, payload=payload)


def issue_certificates(
    db: Session,
    *,
    keyring: Keyring,
    pensioner: Pensioner,
    records: Iterable[QualificationRecord],
    now: dt.datetime,
) -> list[Certificate]:
    """A signed certificate for each newly certified (or restored) record."""
    records = [r for r in records if r.status in RecordStatus.SATISFIED and r.valid_until]
    if not records:
        return []
    have = set(
        db.scalars(select(Certificate.record_id).where(Certificate.record_id.in_([r.id for r in records])))
    )
    agency = issuer_for_region(db, keyring=keyring, region_code=pensioner.region_code, now=now)
    key = signing_key(agency, keyring=keyring)
    issued = []
    for record in records:
        if record.id in have:
            continue
        assert record.valid_until is not None  # records without one were left out above
        certificate_id = uuid.uuid4()
        payload = {
            "v": 1,
            "id": str(certificate_id),
            "pensioner": {
                "id": str(pensioner.id),
                "national_id_masked": pensioner.national_id_masked,
                "ref": pensioner.external_ref,
            },
            "scheme": record.scheme,
            "period": record.period,
            "status": record.status,
            "method": record.method,
            "certified_at": record.certified_at.isoformat() if record.certified_at else None,
            "valid_until": record.valid_until.isoformat(),
            "issuer": {"name": agency.name, "region": agency.region_code, "key_id": agency.signing_key_id},
            "issued_at": now.isoformat(),
        }
        certificate = Certificate(
            id=certificate_id,
            record_id=record.id,
            pensioner_id=pensioner.id,
            agency_id=agency.id,
            key_id=agency.signing_key_id,
            payload=payload,
            token=sign_payload(payload, key=key, key_id=agency.signing_key_id),
            qr_token=sign_compact(payload, key=key, key_id=agency.signing_key_id),
            valid_until=record.valid_until,
            issued_at=now,
        )
        db.add(certificate)
        issued.append(certificate)
    db.flush()
    return issued


def revoke_certificate(
    certificate: Certificate, *, revoked_by: str, reason: str, now: dt.datetime
) -> Certificate:
    """Withdraw a certificate: verification answers `revoked` from now on (a signature
    cannot be unmade, so online verification is what tells). Revoking twice is refused."""
    if certificate.revoked_at is not None:
        raise ConflictError(
            ErrorCode.CERTIFICATE_REVOKED, "this certificate is already revoked",
            revoked_at=certificate.revoked_at.isoformat(),
        )
    certificate.revoked_at = now
    certificate.revoked_by = revoked_by[:64]
    certificate.revoke_reason = reason.strip()[:200]
    return certificate


def qr_access_token(
    secret: str, *, certificate_id: uuid.UUID, attempt_id: uuid.UUID, ttl_s: int, now: dt.datetime
) -> str:
    """A capability to fetch one certificate's QR image (of one attempt) for `ttl_s`
    seconds: for an `<img src>`, which cannot send a credential."""
    return tokens.sign_token(
        secret, purpose=QR_ACCESS_PURPOSE, payload={"c": str(certificate_id), "a": str(attempt_id)},
        ttl_s=ttl_s, now=now,
    )


def qr_access_allows(
    secret: str, *, token: str | None, certificate_id: uuid.UUID, attempt_id: uuid.UUID, now: dt.datetime
) -> bool:
    """True when `token` is an unexpired capability for this certificate of this attempt."""
    if not token or not token.isascii() or len(token) > 512:
        return False
    payload = tokens.read_token(secret, purpose=QR_ACCESS_PURPOSE, token=token, now=now)
    return payload is not None and payload.get("c") == str(certificate_id) and payload.get("a") == str(attempt_id)
