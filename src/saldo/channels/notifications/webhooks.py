"""Events for an operator's own systems, as signed JSON posted to its ``webhook_url``.

The body is the same on every attempt (the event's key, kind, operator, when it was queued
and the facts of its payload), so a receiver can drop a repeat by ``id``; only the signature
is made afresh at each attempt, with the time of that attempt. An operator without a webhook
URL at delivery gets nothing: the message is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from saldo.services.notices import OperatorEvent, Undeliverable
from saldo.services.ports import OutboxMessage
from saldo.services.ports.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    WebhookRequest,
    signature,
)

# The secret an operator's events are signed with, by the operator's slug.
WebhookSecret = Callable[[str], str]


def event_body(message: OutboxMessage, *, operator_slug: str) -> bytes:
    """The JSON body of an event: ``{"id", "type", "operator", "created_at", "data"}``."""
    data = {name: value for name, value in message.payload.items() if name != "kind"}
    event = {
        "id": message.key,
        "type": message.payload.get("kind"),
        "operator": operator_slug,
        "created_at": message.created_at.isoformat() if message.created_at else None,
        "data": data,
    }
    return json.dumps(event, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def operator_webhook(
    event: OperatorEvent, now: datetime, *, secret: WebhookSecret
) -> WebhookRequest:
    """The signed request for ``event`` to its operator's webhook URL. Raises Undeliverable
    when the URL cannot be used."""
    message = event.message
    body = event_body(message, operator_slug=event.operator_slug)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(body, secret=secret(event.operator_slug), at=now),
        EVENT_ID_HEADER: message.key,
    }
    try:
        return WebhookRequest(url=event.webhook_url, body=body, headers=headers)
    except ValueError as error:
        raise Undeliverable(f"outbox message {message.key}: {error}") from None
