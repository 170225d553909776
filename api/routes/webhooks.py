"""Agency webhooks (API keys with webhooks:manage): signed POSTs on record events."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from models import Webhook, WebhookDelivery
from service.audit import record_audit
from service.webhooks import create_webhook

from ..agency_schemas import DeliveryPublic, WebhookCreate, WebhookPublic
from ..deps import DbDep, NowDep, ServicesDep, client_ip
from ..permissions import WebhookManagerDep, check_region_filter, rows_in_regions, visible_webhook

__all__ = ["router", "create", "list_webhooks", "delete", "deliveries"]

router = APIRouter(prefix="/v1/webhooks", tags=["agency: webhooks"])


@router.post("", status_code=201, response_model=WebhookPublic)
def create(body: WebhookCreate, request: Request, db: DbDep, services: ServicesDep, now: NowDep,
           principal: WebhookManagerDep) -> WebhookPublic:
    """Register a receiver. Each POST carries `X-Certify-Signature: t=<unix>,v1=<hex>`,
    the HMAC-SHA256 of `<t>.<body>` with the secret returned here (once). Receivers
    should answer 2xx; anything else is retried with backoff and logged."""
    region = check_region_filter(principal, body.region)
    assert region is not None
    webhook, secret = create_webhook(
        db, keyring=services.keyring, region_code=region, url=body.url, events=body.events,
        created_by=principal.actor_id, now=now, allow_private=services.settings.webhooks_may_reach_private,
    )
    record_audit(db, actor_type=principal.kind, actor_id=principal.actor_id, action="webhook.create",
                 subject_type="webhook", subject_id=str(webhook.id), now=now, ip=client_ip(request),
                 details={"url": body.url, "region": region, "events": body.events})
    db.commit()
    return WebhookPublic.of(webhook, secret)


@router.get("", response_model=list[WebhookPublic])
def list_webhooks(db: DbDep, principal: WebhookManagerDep) -> list[WebhookPublic]:
    rows = db.scalars(select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.created_at)).all()
    return [WebhookPublic.of(w) for w in rows_in_regions(principal, rows)]


@router.delete("/{webhook_id}", status_code=204, response_class=Response)
def delete(webhook_id: uuid.UUID, request: Request, db: DbDep, now: NowDep, principal: WebhookManagerDep) -> Response:
    webhook = visible_webhook(db, principal, webhook_id)
    webhook.active = False
    record_audit(db, actor_type=principal.kind, actor_id=principal.actor_id, action="webhook.delete",
                 subject_type="webhook", subject_id=str(webhook.id), now=now, ip=client_ip(request))
    db.commit()
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryPublic])
def deliveries(
    webhook_id: uuid.UUID, db: DbDep, principal: WebhookManagerDep,
    status: Annotated[str | None, Query(pattern="^(pending|delivered|failed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryPublic]:
    """The delivery log, newest first: tries, last HTTP status, last error."""
    webhook = visible_webhook(db, principal, webhook_id)
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
    if status:
        query = query.where(WebhookDelivery.status == status)
    rows = db.scalars(query.order_by(WebhookDelivery.created_at.desc()).limit(limit)).all()
    return [DeliveryPublic.of(d) for d in rows]
