"""One-time pensioner links: staff create them; the pensioner's page redeems one, records
consent and opens sessions with the page pass it received (header X-Link-Pass)."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from certify import issue_challenge
from models import Channel, PensionerLink, QualificationRecord
from service.admission import AdmissionRules, tries_left
from service.audit import record_audit
from service.certification import open_session
from service.context import Services
from service.error_codes import ErrorCode
from service.errors import ConflictError
from service.links import (
    CONSENT_VERSION,
    create_link,
    latest_attempt,
    record_consent,
    redeem_link,
    revoke_link,
)
from service.pensioners import get_pensioner
from service.records import current_window
from service.rules.devices import device_family
from service.rules.names import mask_name

from ..deps import DbDep, NowDep, ServicesDep, client_ip
from ..permissions import LinkHolderDep, LinkIssuerDep, visible_link, visible_pensioner
from ..schemas import SessionPublic
from ..schemas_links import (
    AttemptBrief,
    ConsentCreate,
    LinkCreate,
    LinkIssued,
    LinkOpened,
    LinkPublic,
    LinkRedeem,
    LinkSessionCreate,
    LinkView,
)

__all__ = [
    "router",
    "link_url",
    "create",
    "list_for_pensioner",
    "revoke",
    "redeem",
    "current",
    "consent",
    "open_link_session",
]

router = APIRouter(tags=["pensioner links"])


def link_url(base_url: str, token: str) -> str:
    """The address to send: the token rides after '#', which browsers never send to the
    server, so it cannot end up in access logs or Referer headers."""
    return f"{base_url.rstrip('/')}/l#{token}"


@router.post("/v1/pensioners/{pensioner_id}/links", status_code=201, response_model=LinkIssued)
def create(
    pensioner_id: uuid.UUID,
    db: DbDep,
    services: ServicesDep,
    now: NowDep,
    principal: LinkIssuerDep,
    request: Request,
    body: LinkCreate | None = None,
) -> LinkIssued:
    """A one-time link for the pensioner to certify on their own phone (token shown once)."""
    settings = services.settings
    visible_pensioner(db, principal, pensioner_id)
    ttl_s = settings.link_ttl_s if body is None or body.ttl_days is None else body.ttl_days * 86400
    issued = create_link(
        db,
        secret=settings.secret_key.get_secret_value(),
        pensioner_id=pensioner_id,
        created_by=principal.actor_id,
        ttl_s=min(ttl_s, settings.max_link_ttl_s),
        now=now,
    )
    record_audit(
        db, actor_type=principal.kind, actor_id=principal.actor_id, action="link.create",
        subject_type="pensioner", subject_id=str(pensioner_id), now=now, ip=client_ip(request),
        details={"link_id": str(issued.link.id), "expires_at": issued.link.expires_at.isoformat()},
    )
    db.commit()
    return LinkIssued(
        id=issued.link.id,
        pensioner_id=pensioner_id,
        token=issued.token,
        url=link_url(settings.public_base_url, issued.token),
        expires_at=issued.link.expires_at,
    )


@router.get("/v1/pensioners/{pensioner_id}/links", response_model=list[LinkPublic])
def list_for_pensioner(
    pensioner_id: uuid.UUID, db: DbDep, principal: LinkIssuerDep
) -> list[LinkPublic]:
    """The pensioner's links, newest first (never their tokens)."""
    visible_pensioner(db, principal, pensioner_id)
    links = db.scalars(
        select(PensionerLink)
        .where(PensionerLink.pensioner_id == pensioner_id)
        .order_by(PensionerLink.created_at.desc())
        .limit(50)
    )
    return [LinkPublic.of(link) for link in links]


@router.delete("/v1/links/{link_id}", response_model=LinkPublic)
def revoke(
    link_id: uuid.UUID, db: DbDep, now: NowDep, principal: LinkIssuerDep, request: Request
) -> LinkPublic:
    """Withdraw a link (lost phone, wrong number): it stops working at once."""
    visible_link(db, principal, link_id)
    link = revoke_link(db, link_id=link_id, now=now)
    record_audit(
        db, actor_type=principal.kind, actor_id=principal.actor_id, action="link.revoke",
        subject_type="pensioner", subject_id=str(link.pensioner_id), now=now,
        ip=client_ip(request), details={"link_id": str(link.id)},
    )
    db.commit()
    return LinkPublic.of(link)


def _view(db: Session, services: Services, link: PensionerLink, now: dt.datetime) -> LinkView:
    settings = services.settings
    pensioner = get_pensioner(db, link.pensioner_id)
    period = current_window(db, pensioner=pensioner, now=now).label
    record = db.scalar(
        select(QualificationRecord)
        .where(QualificationRecord.pensioner_id == pensioner.id, QualificationRecord.period == period)
        .order_by(QualificationRecord.scheme)
        .limit(1)
    )
    latest = latest_attempt(db, pensioner_id=pensioner.id, period=period)
    return LinkView(
        link_id=link.id,
        expires_at=link.expires_at,
        name_masked=mask_name(pensioner.name),
        consent_version=CONSENT_VERSION,
        consent_at=link.consent_at if link.consent_version == CONSENT_VERSION else None,
        period=period,
        record_status=record.status if record else None,
        certified_at=record.certified_at if record else None,
        valid_until=record.valid_until if record else None,
        tries_left=tries_left(
            db, pensioner_id=pensioner.id, period=period, limit=settings.max_failed_attempts
        ),
        max_attempts=settings.max_failed_attempts,
        latest_attempt=AttemptBrief(
            id=latest.id, status=latest.status, reasons=list(latest.reasons or []),
            created_at=latest.created_at,
        )
        if latest
        else None,
        with_digits=settings.challenge_with_digits,
        help_phone=settings.help_phone,
    )


@router.post("/v1/links/redeem", response_model=LinkOpened)
def redeem(
    body: LinkRedeem, db: DbDep, services: ServicesDep, now: NowDep, request: Request
) -> LinkOpened:
    """Open a link. The first browser gets a page pass; later only that pass opens it."""
    opened = redeem_link(
        db,
        secret=services.settings.secret_key.get_secret_value(),
        token=body.token,
        page_pass=body.page_pass,
        device_id=body.device_id,
        now=now,
    )
    link = opened.link
    if opened.first:
        record_audit(
            db, actor_type="pensioner", actor_id=f"link:{link.id}", action="link.redeem",
            subject_type="pensioner", subject_id=str(link.pensioner_id), now=now,
            ip=client_ip(request), details={"device_id": body.device_id},
        )
    db.commit()
    return LinkOpened(page_pass=opened.page_pass, link=_view(db, services, link, now))


@router.get("/v1/links/current", response_model=LinkView)
def current(link: LinkHolderDep, db: DbDep, services: ServicesDep, now: NowDep) -> LinkView:
    """Where the pensioner stands: certified?, tries left, the latest attempt."""
    return _view(db, services, link, now)


@router.post("/v1/links/current/consent", response_model=LinkView)
def consent(
    body: ConsentCreate,
    link: LinkHolderDep,
    db: DbDep,
    services: ServicesDep,
    now: NowDep,
    request: Request,
) -> LinkView:
    """The pensioner agreed to the biometric check (the text of `version`)."""
    if not body.agree:
        raise ConflictError(ErrorCode.CONSENT_REQUIRED, "the check needs the pensioner's consent")
    record_consent(db, link=link, version=body.version, now=now)
    record_audit(
        db, actor_type="pensioner", actor_id=f"link:{link.id}", action="consent.given",
        subject_type="pensioner", subject_id=str(link.pensioner_id), now=now,
        ip=client_ip(request), details={"version": body.version},
    )
    db.commit()
    return _view(db, services, link, now)


@router.post("/v1/links/current/sessions", status_code=201, response_model=SessionPublic)
def open_link_session(
    link: LinkHolderDep,
    db: DbDep,
    services: ServicesDep,
    now: NowDep,
    request: Request,
    body: LinkSessionCreate | None = None,
) -> SessionPublic:
    """Issue a challenge to the link's pensioner (after consent)."""
    settings = services.settings
    if link.consent_at is None or link.consent_version != CONSENT_VERSION:
        raise ConflictError(ErrorCode.CONSENT_REQUIRED, "the pensioner has not agreed to the check yet")
    session = open_session(
        db,
        pensioner_id=link.pensioner_id,
        challenge=issue_challenge(with_digits=settings.challenge_with_digits),
        ttl_s=settings.session_ttl_s,
        rules=AdmissionRules.of(settings),
        now=now,
        channel=Channel.SELF,
        device_id=body.device_id if body else None,
        user_agent=request.headers.get("user-agent"),
        device_family=device_family(request.headers.get("user-agent")),
        upload_window_s=settings.upload_window_s,
        consent_at=link.consent_at,
        link_id=link.id,
    )
    db.commit()
    return SessionPublic.of(session)
