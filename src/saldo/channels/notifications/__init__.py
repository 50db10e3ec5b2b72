"""Notifications written at delivery: the outbox's renderers for SMS, email and operator
webhooks, and one pass of delivery through the gateways this instance has.

``render_notification`` turns a queued outbox row into what travels, reading the database as
it is at delivery (inside the unit of work the outbox opened): an ``OutgoingSms`` from the
operator's short code, an ``OutgoingEmail``, or a signed ``WebhookRequest``; None when the
facts changed and the message should be skipped. Kinds are those of
``saldo.services.notifications``.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from saldo.channels.notifications.subscribers import (
    EXPIRY_REMINDER,
    SMS_KINDS,
    expiry_reminder_email,
    subscriber_sms,
)
from saldo.channels.notifications.webhooks import WebhookSecret, event_body, operator_webhook
from saldo.channels.receipts import outbox_email
from saldo.services.notifications import EMAIL, SMS, WEBHOOK
from saldo.services.outbox import Delivery, Outgoing, Renderer, Undeliverable, deliver_outbox
from saldo.services.ports import OutboxMessage, UnitOfWork

if TYPE_CHECKING:
    from saldo.bootstrap import Saldo

__all__ = [
    "deliver_notifications",
    "event_body",
    "notification_renderer",
    "render_notification",
]

ORDER_RECEIPT = "order_receipt"


def render_notification(
    uow: UnitOfWork, message: OutboxMessage, now: datetime, *, webhook_secret: WebhookSecret
) -> Outgoing | None:
    """What ``message`` stands for, written now, or None when it is no longer true.

    Raises Undeliverable for a kind that is not written on the message's channel, or a
    payload without the facts it needs."""
    kind = message.payload.get("kind")
    if message.channel == WEBHOOK:
        return operator_webhook(uow, message, now, secret=webhook_secret)
    if message.channel == SMS and kind in SMS_KINDS:
        return subscriber_sms(uow, message, now)
    if message.channel == EMAIL and kind == EXPIRY_REMINDER:
        return expiry_reminder_email(uow, message, now)
    if message.channel == EMAIL and kind == ORDER_RECEIPT:
        return outbox_email(uow, message)
    raise Undeliverable(f"no {message.channel} is written for a {kind!r} notification")


def notification_renderer(*, webhook_secret: WebhookSecret) -> Renderer:
    """``render_notification`` with the instance's webhook secrets, for ``deliver_outbox``."""
    return partial(render_notification, webhook_secret=webhook_secret)


def deliver_notifications(saldo: Saldo, *, now: datetime, limit: int = 100) -> Delivery:
    """One pass over the due outbox messages of every channel this instance can send on
    (SMS when Kannel is configured, email when SMTP is, webhooks always)."""
    return saldo.run(
        deliver_outbox,
        senders=saldo.notification_senders(),
        render=notification_renderer(webhook_secret=saldo.webhook_secret),
        now=now,
        limit=limit,
    )
