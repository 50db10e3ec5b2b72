"""Notifications written at delivery: the outbox's renderers for SMS, email and operator
webhooks, and one pass of delivery through the gateways this instance has.

``render_notification`` writes a notice (what an outbox row says, read and decided at
delivery by ``saldo.services.notices``) as what travels: an ``OutgoingSms`` from the
operator's short code, an ``OutgoingEmail``, or a signed ``WebhookRequest``. It reads
nothing and decides nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from saldo.channels.notifications.subscribers import (
    expiry_reminder_email,
    subscriber_sms,
    topup_receipt,
)
from saldo.channels.notifications.webhooks import WebhookSecret, event_body, operator_webhook
from saldo.channels.receipts import outbox_email
from saldo.services.notices import (
    LineNotice,
    Notice,
    OperatorEvent,
    ReceiptNotice,
    TopUpReceiptNotice,
    Undeliverable,
)
from saldo.services.notifications import EMAIL, SMS
from saldo.services.outbox import Delivery, Outgoing, Renderer, deliver_outbox

if TYPE_CHECKING:
    from saldo.bootstrap import Saldo
    from saldo.services.access.codes import CodeRequested

log = logging.getLogger(__name__)

__all__ = [
    "deliver_notifications",
    "event_body",
    "notification_renderer",
    "render_notification",
    "send_code_now",
]


def render_notification(
    notice: Notice, now: datetime, *, webhook_secret: WebhookSecret
) -> Outgoing:
    """What ``notice`` says, written now. Raises Undeliverable for a notice that is not
    written on its message's channel or a recipient that cannot receive it."""
    match notice:
        case OperatorEvent():
            return operator_webhook(notice, now, secret=webhook_secret)
        case ReceiptNotice():
            return outbox_email(notice)
        case TopUpReceiptNotice():
            return topup_receipt(notice)
        case LineNotice() if notice.message.channel == SMS:
            return subscriber_sms(notice)
        case LineNotice() if notice.message.channel == EMAIL:
            return expiry_reminder_email(notice)
    raise Undeliverable(
        f"no {notice.message.channel} is written for outbox message {notice.message.key}"
    )


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
        lease=timedelta(seconds=saldo.settings.outbox_lease_seconds),
    )


def send_code_now(saldo: Saldo, requested: CodeRequested) -> None:
    """Send the SMS (or the email) with the code just asked for, without waiting for the
    worker's next pass: run by the server after it has answered the request (the answer takes
    as long whether or not a line has the number, or an email). A failure is logged and left
    to the worker, which tries the message again; without an SMS gateway (an SMTP server) the
    message waits for the worker as every SMS (email) does (in development, the outbox folder
    gets it at once)."""
    try:
        saldo.run(
            deliver_outbox,
            senders=saldo.notification_senders(),
            render=notification_renderer(webhook_secret=saldo.webhook_secret),
            now=saldo.clock.now(),
            limit=1,
            keys=(requested.message_key,),
        )
    except Exception:  # the worker's pass sends it; the subscriber may ask again
        log.exception("the code could not be sent at once; the worker will send it")
