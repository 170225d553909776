"""Certification sessions (a random challenge) and the video uploaded for one."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from certify import issue_challenge
from models import Channel
from models.db import session_scope
from service.admission import AdmissionRules
from service.certification import get_session_for_upload, open_session
from service.error_codes import ErrorCode
from service.errors import InvalidInputError
from service.infra.storage import spool_directory
from service.intake import accept_upload
from service.nonce_guard import NonceGuard
from service.rules.devices import device_family

from ..credentials import NonceDep
from ..deps import DbDep, NowDep, ServicesDep, client_ip
from ..permissions import ASSISTING_KINDS, CaseworkerDep, visible_pensioner
from ..schemas import AttemptPublic, SessionCreate, SessionPublic
from ..uploads import spool_upload

__all__ = ["router", "create", "upload_video"]

router = APIRouter(prefix="/v1/pensioners/{pensioner_id}/sessions", tags=["certification"])


@router.post("", status_code=201, response_model=SessionPublic)
def create(
    pensioner_id: uuid.UUID,
    db: DbDep,
    services: ServicesDep,
    now: NowDep,
    principal: CaseworkerDep,
    request: Request,
    body: SessionCreate | None = None,
) -> SessionPublic:
    """Open a session: a random challenge (2-3 actions in order), a nonce and an expiry.

    A session opened by a staff account is an assisted one: the result records who
    helped and on which device.
    """
    body = body or SessionCreate()
    settings = services.settings
    visible_pensioner(db, principal, pensioner_id)
    channel, assisted_by = body.channel, body.assisted_by
    if principal.kind in ASSISTING_KINDS:
        channel, assisted_by = Channel.ASSISTED, principal.actor_id
    elif channel == Channel.ASSISTED and not assisted_by:
        raise InvalidInputError(ErrorCode.ASSISTED_BY_REQUIRED, "an assisted session names the helper")
    with_digits = settings.challenge_with_digits if body.with_digits is None else body.with_digits
    session = open_session(
        db,
        pensioner_id=pensioner_id,
        challenge=issue_challenge(with_digits=with_digits),
        ttl_s=settings.session_ttl_s,
        rules=AdmissionRules.of(settings),
        now=now,
        channel=channel,
        assisted_by=assisted_by,
        device_id=body.device_id,
        user_agent=request.headers.get("user-agent"),
        device_family=device_family(request.headers.get("user-agent")),
        upload_window_s=settings.upload_window_s,
        consent_at=now if body.consent else None,
    )
    db.commit()
    return SessionPublic.of(session)


@router.post(
    "/{session_id}/video",
    status_code=202,
    response_model=AttemptPublic,
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"video": {"type": "string", "format": "binary"}},
                        "required": ["video"],
                    }
                },
                "video/webm": {"schema": {"type": "string", "format": "binary"}},
                "video/mp4": {"schema": {"type": "string", "format": "binary"}},
            }
        }
    },
)
async def upload_video(
    pensioner_id: uuid.UUID,
    session_id: uuid.UUID,
    request: Request,
    services: ServicesDep,
    nonce: NonceDep,
) -> AttemptPublic:
    """Upload the recording (multipart field `video`, or the raw WebM/MP4 body).

    Authorised by the session's nonce (header X-Session-Nonce). Answers 202 with the
    attempt; poll GET /v1/attempts/{id} for the result.
    """
    guard = NonceGuard.of(services, client_ip(request))
    rules = AdmissionRules.of(services.settings)

    def check_session() -> None:
        with session_scope(services.sessions) as db:
            get_session_for_upload(
                db, session_id=session_id, pensioner_id=pensioner_id, nonce=nonce,
                now=services.clock(), guard=guard, rules=rules,
            )

    await run_in_threadpool(check_session)  # refuse before receiving megabytes
    spooled = await spool_upload(
        request,
        field="video",
        max_bytes=services.settings.max_upload_bytes,
        spool_dir=spool_directory(services.settings.var_dir),
    )
    try:
        attempt = await run_in_threadpool(
            accept_upload,
            services,
            pensioner_id=pensioner_id,
            session_id=session_id,
            nonce=nonce,
            upload_path=spooled.path,
            content_type=spooled.content_type,
            guard=guard,
        )
    finally:
        spooled.discard()
    return AttemptPublic.of(attempt, with_evidence=False)
