"""Signed certificates: read, verify, and show as a QR code."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from models import Agency, Certificate, QualificationRecord
from service.agencies import public_key_of
from service.audit import record_audit
from service.certificates import (
    CertificateError,
    qr_access_allows,
    qr_access_token,
    read_token,
    revoke_certificate,
    verify_token,
)
from service.certification import get_attempt
from service.error_codes import ErrorCode
from service.errors import NotFoundError
from service.infra.qr import qr_png
from service.pensioners import get_pensioner

from ..agency_schemas import CertificatePublic, CertificateRevoke, VerifyCreate, VerifyPublic
from ..deps import DbDep, NowDep, ServicesDep, client_ip
from ..permissions import (
    Caller,
    CallerDep,
    CertificateReaderDep,
    RecordsWriterDep,
    may_read_certificates,
    visible_certificate,
)

__all__ = ["router", "read", "qr", "revoke", "verify", "of_attempt", "attempt_qr"]

router = APIRouter(prefix="/v1", tags=["agency: certificates"])


@router.get("/certificates/{certificate_id}", response_model=CertificatePublic)
def read(certificate_id: uuid.UUID, db: DbDep, principal: CertificateReaderDep) -> CertificatePublic:
    """A certificate of the caller's (paying) regions."""
    certificate = visible_certificate(db, principal, certificate_id)
    return CertificatePublic.of(certificate, qr_url=f"/v1/certificates/{certificate.id}/qr.png")


@router.get("/certificates/{certificate_id}/qr.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def qr(certificate_id: uuid.UUID, db: DbDep, principal: CertificateReaderDep) -> Response:
    certificate = visible_certificate(db, principal, certificate_id)
    return Response(qr_png(certificate.qr_token), media_type="image/png")


@router.post("/certificates/{certificate_id}/revoke", response_model=CertificatePublic)
def revoke(
    certificate_id: uuid.UUID, body: CertificateRevoke, request: Request, db: DbDep, now: NowDep,
    principal: RecordsWriterDep,
) -> CertificatePublic:
    """Withdraw a certificate of the caller's regions (API key with `records:write`, or an
    administrator), for example when the pensioner died before the period ended or the
    certification was obtained by fraud. Verification answers `revoked` from then on;
    the qualification record itself is changed through the records API. Audited."""
    certificate = visible_certificate(db, principal, certificate_id)
    revoke_certificate(certificate, revoked_by=principal.actor_id, reason=body.reason, now=now)
    record_audit(
        db, actor_type=principal.kind, actor_id=principal.actor_id, action="certificate.revoke",
        subject_type="certificate", subject_id=str(certificate.id), now=now, reason=body.reason,
        ip=client_ip(request),
    )
    db.commit()
    return CertificatePublic.of(certificate, qr_url=f"/v1/certificates/{certificate.id}/qr.png")


@router.post("/certificates/verify", response_model=VerifyPublic)
def verify(body: VerifyCreate, db: DbDep, now: NowDep) -> VerifyPublic:
    """Check a certificate against the issuing agency's key (anyone may ask; the answer
    holds only what the certificate itself says). Offline: `certify verify CERT`."""
    try:
        key_id, payload, _, _ = read_token(body.certificate)
    except CertificateError as exc:
        return VerifyPublic(valid=False, code=exc.code)
    agency = db.scalar(select(Agency).where(Agency.signing_key_id == key_id))
    if agency is None:
        return VerifyPublic(valid=False, code="unknown_key")
    try:
        verified = verify_token(body.certificate, public_key_of(agency))
    except CertificateError as exc:
        return VerifyPublic(valid=False, code=exc.code)
    stored = db.get(Certificate, uuid.UUID(verified.payload["id"])) if verified.payload.get("id") else None
    if stored is not None and stored.revoked_at is not None:
        return VerifyPublic(valid=False, code="revoked", payload=verified.payload)
    if verified.expired(now.date()):
        return VerifyPublic(valid=False, code="expired", payload=verified.payload)
    return VerifyPublic(valid=True, code="ok", payload=verified.payload)


def _attempt_certificates(db, caller: Caller, attempt_id: uuid.UUID) -> list[Certificate]:
    """The certificates of an attempt the caller may read (`may_read_certificates`: the
    pensioner's own browser, or a reader of the paying region's results). Anyone else: 404."""
    attempt = get_attempt(db, attempt_id)
    if not may_read_certificates(caller, get_pensioner(db, attempt.pensioner_id)):
        raise NotFoundError(ErrorCode.ATTEMPT_NOT_FOUND, "no such attempt")
    return list(
        db.scalars(
            select(Certificate)
            .join(QualificationRecord, QualificationRecord.id == Certificate.record_id)
            .where(QualificationRecord.attempt_id == attempt.id)
            .order_by(QualificationRecord.scheme)
        )
    )


_PRIVATE = {"Cache-Control": "private, no-store"}


@router.get("/attempts/{attempt_id}/certificates", response_model=list[CertificatePublic])
def of_attempt(
    attempt_id: uuid.UUID, response: Response, db: DbDep, services: ServicesDep, now: NowDep,
    caller: CallerDep,
) -> list[CertificatePublic]:
    """The certificates a passed attempt earned (one per scheme), for the result page.

    For the pensioner's own browser (header `X-Link-Pass`: the page pass of a link of
    that pensioner) and for credentials that see the pensioner's paying region (its
    staff, reviewers, administrators; an agency key with `results:read`; the operator).
    Anyone else, the staff of the region the pensioner lives in included, gets 404
    `attempt_not_found`. Each `qr_url` carries a capability for that image, valid
    `CERTIFY_CERTIFICATE_QR_URL_TTL_S` seconds (an `<img>` sends no header)."""
    certificates = _attempt_certificates(db, caller, attempt_id)
    secret = services.settings.secret_key.get_secret_value()
    ttl_s = services.settings.certificate_qr_url_ttl_s
    response.headers.update(_PRIVATE)
    return [
        CertificatePublic.of(
            c,
            qr_url=f"/v1/attempts/{attempt_id}/certificates/{c.id}/qr.png?"
            + urlencode({"access": qr_access_token(secret, certificate_id=c.id, attempt_id=attempt_id,
                                                   ttl_s=ttl_s, now=now)}),
        )
        for c in certificates
    ]


@router.get("/attempts/{attempt_id}/certificates/{certificate_id}/qr.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def attempt_qr(
    attempt_id: uuid.UUID, certificate_id: uuid.UUID, db: DbDep, services: ServicesDep, now: NowDep,
    caller: CallerDep,
    access: Annotated[str | None, Query(max_length=512, description="the capability in `qr_url`")] = None,
) -> Response:
    """The QR code (PNG) of one certificate of the attempt, for the result page: with the
    capability of its `qr_url`, or for a caller who may read the certificates. Otherwise
    404 `certificate_not_found`."""
    secret = services.settings.secret_key.get_secret_value()
    if qr_access_allows(secret, token=access, certificate_id=certificate_id, attempt_id=attempt_id, now=now):
        certificates = _certificates_of(db, attempt_id)
    else:
        try:
            certificates = _attempt_certificates(db, caller, attempt_id)
        except NotFoundError:
            certificates = []
    for certificate in certificates:
        if certificate.id == certificate_id:
            return Response(qr_png(certificate.qr_token), media_type="image/png", headers=_PRIVATE)
    raise NotFoundError(ErrorCode.CERTIFICATE_NOT_FOUND, "no such certificate")


def _certificates_of(db, attempt_id: uuid.UUID) -> list[Certificate]:
    return list(
        db.scalars(
            select(Certificate)
            .join(QualificationRecord, QualificationRecord.id == Certificate.record_id)
            .where(QualificationRecord.attempt_id == attempt_id)
        )
    )
