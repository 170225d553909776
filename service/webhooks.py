"""Agency webhooks: HMAC-signed POSTs on record events, retried with backoff, logged.

The record events table is the outbox (written in the same transaction as the change,
numbered in commit order). The fan-out job reads events after its own cursor, makes
one delivery row per matching webhook and enqueues one RQ job per delivery; the job
POSTs, logs the try on the delivery row and raises on failure so RQ retries it with
the configured backoff. After the last retry the delivery is marked failed.

Signature: header `X-Certify-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
`<t>.<raw body>` with the webhook's secret (shown once, when the webhook is made).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import urlparse

import httpx
from sqlalchemy import CursorResult, Table, select, update
from sqlalchemy.orm import Session

from models import DeliveryStatus, FeedCounter, Pensioner, RecordEvent, Webhook, WebhookDelivery

from .error_codes import ErrorCode
from .errors import InvalidInputError
from .infra.crypto import Keyring
from .infra.destinations import (
    DestinationRefusedError,
    Resolver,
    address_refusal,
    literal_address,
    post_to,
    resolve_destination,
    resolve_host,
)
from .rules.regions import is_region_code, region_matches

__all__ = [
    "WEBHOOK_EVENTS",
    "SIGNATURE_HEADER",
    "WEBHOOK_COUNTER",
    "FAN_OUT_BATCH",
    "DELIVERY_TIMEOUT_S",
    "WebhookDeliveryError",
    "create_webhook",
    "fan_out",
    "sign",
    "attempt_delivery",
    "secret_context",
    "secret_of",
]

WEBHOOK_EVENTS = ("certified", "failed", "overdue", "suspended", "restored", "deceased", "death_reversed")
"""Record events an agency can subscribe to. `deceased`: a record suspended because a
death was reported (method death_reported, `life_event_id` names the report);
`death_reversed`: a record put back as it was after a wrong report was reversed."""
SIGNATURE_HEADER = "X-Certify-Signature"
WEBHOOK_COUNTER = "webhooks"
"""Counter row holding the last record event (change number) turned into deliveries."""
FAN_OUT_BATCH = 1000
"""Record events handled per fan-out transaction."""
DELIVERY_TIMEOUT_S = 10.0
"""How long one POST may take before it counts as failed."""


class WebhookDeliveryError(Exception):
    """The receiver did not accept a delivery (RQ retries the job)."""


def secret_context(webhook_id: uuid.UUID) -> str:
    """The authenticated context of a webhook's encrypted signing secret."""
    return f"webhook-secret:{webhook_id}"


def create_webhook(
    db: Session,
    *,
    keyring: Keyring,
    region_code: str,
    url: str,
    events: Sequence[str],
    created_by: str,
    now: dt.datetime,
    allow_private: bool = False,
) -> tuple[Webhook, str]:
    """A new webhook; returns it and its signing secret (shown once, stored encrypted).
    A URL naming a non-public address is refused unless `allow_private`; host names are
    checked again at every delivery (they may resolve differently later)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidInputError(ErrorCode.URL_INVALID, "the webhook URL must be http(s)://host/...")
    literal = literal_address(parsed.hostname)
    if literal is not None and not allow_private and address_refusal(literal) is not None:
        raise InvalidInputError(ErrorCode.URL_NOT_PUBLIC, "the webhook URL must point to a public address")
    if not is_region_code(region_code):
        raise InvalidInputError(ErrorCode.REGION_CODE_INVALID, "region must be a six-digit division code")
    unknown = sorted(set(events) - set(WEBHOOK_EVENTS))
    if unknown or not events:
        raise InvalidInputError(ErrorCode.EVENT_INVALID, f"events must be some of {list(WEBHOOK_EVENTS)}")
    webhook_id = uuid.uuid4()
    secret = "whsec_" + secrets.token_urlsafe(32)
    webhook = Webhook(
        id=webhook_id,
        region_code=region_code,
        url=url,
        secret_encrypted=keyring.encrypt_text(secret, context=secret_context(webhook_id)),
        events=sorted(set(events)),
        active=True,
        created_by=created_by[:64],
        created_at=now,
    )
    db.add(webhook)
    db.flush()
    return webhook, secret


def secret_of(webhook: Webhook, *, keyring: Keyring) -> str:
    return keyring.decrypt_text(webhook.secret_encrypted, context=secret_context(webhook.id))


def _payload(event: RecordEvent, region_code: str) -> dict[str, Any]:
    details = event.details or {}
    return {
        "id": f"evt_{event.id}",
        "event": event.event,
        "at": event.at.isoformat(),
        "cursor": f"c{event.change_seq}",
        "record": {
            "id": str(event.record_id),
            "pensioner_id": str(event.pensioner_id),
            "region_code": region_code,
            **details,
        },
    }


def fan_out(db: Session, *, now: dt.datetime, limit: int = FAN_OUT_BATCH) -> tuple[int, list[uuid.UUID]]:
    """Deliveries for the next record events: (events handled, new delivery ids).

    The cursor advances with a compare-and-set, so two fan-outs running at once never
    make the same delivery twice (the loser changes nothing).
    """
    table = cast(Table, FeedCounter.__table__)
    cursor = db.scalar(select(table.c.value).where(table.c.name == WEBHOOK_COUNTER))
    if cursor is None:
        db.execute(table.insert().values(name=WEBHOOK_COUNTER, value=0))
        cursor = 0
    rows = db.execute(
        select(RecordEvent, Pensioner.region_code)
        .join(Pensioner, Pensioner.id == RecordEvent.pensioner_id)
        .where(RecordEvent.change_seq > cursor)
        .order_by(RecordEvent.change_seq)
        .limit(limit)
    ).all()
    if not rows:
        return 0, []
    claimed = cast(CursorResult, db.execute(
        update(table)
        .where(table.c.name == WEBHOOK_COUNTER, table.c.value == cursor)
        .values(value=rows[-1][0].change_seq)
    )).rowcount
    if claimed != 1:
        return 0, []
    webhooks = db.scalars(select(Webhook).where(Webhook.active.is_(True))).all()
    created = []
    for event, region_code in rows:
        if event.event not in WEBHOOK_EVENTS:
            continue
        for webhook in webhooks:
            if event.event in webhook.events and region_matches(region_code, webhook.region_code):
                delivery = WebhookDelivery(
                    id=uuid.uuid4(), webhook_id=webhook.id, event_id=event.id, event=event.event,
                    payload=_payload(event, region_code), status=DeliveryStatus.PENDING, tries=0,
                    created_at=now,
                )
                db.add(delivery)
                created.append(delivery.id)
    db.flush()
    return len(rows), created


def sign(secret: str, *, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def attempt_delivery(
    db: Session, *, delivery: WebhookDelivery, webhook: Webhook, keyring: Keyring, now: dt.datetime,
    client: httpx.Client, allow_private: bool = False, resolve: Resolver = resolve_host,
) -> bool:
    """POST the delivery once; logs the try on the row. True when the receiver took it.
    The host is resolved once (`resolve`) and the POST goes to one of the addresses
    checked (service/infra/destinations.py); a host with a non-public address is not contacted
    unless `allow_private`. Redirects are not followed."""
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret_of(webhook, keyring=keyring), timestamp=timestamp, body=body),
        "X-Certify-Event": delivery.event,
        "X-Certify-Delivery": str(delivery.id),
        "User-Agent": "certify-webhooks/1",
    }
    delivery.tries += 1
    delivery.last_try_at = now
    try:
        destination = resolve_destination(webhook.url, allow_private=allow_private, resolve=resolve)
    except DestinationRefusedError as exc:
        delivery.last_status_code = None
        delivery.last_error = f"not sent: {exc}"[:2000]
        return False
    try:
        response = post_to(client, destination, content=body, headers=headers, timeout_s=DELIVERY_TIMEOUT_S)
    except httpx.HTTPError as exc:
        delivery.last_status_code = None
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        return False
    delivery.last_status_code = response.status_code
    if 200 <= response.status_code < 300:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.last_error = None
        return True
    delivery.last_error = f"HTTP {response.status_code}: {response.text[:200]}"
    return False
