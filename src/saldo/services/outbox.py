"""Delivering the outbox: notifications written in the same transaction as their cause,
sent after it committed.

Each message is sent with its stable key as the email's Message-ID (or the SMS's message
id), so a repeat after a crash between sending and recording is recognisable. A failed
attempt is retried with backoff (1, 5, 15, 60 minutes, then every 4 hours) and the message
is marked dead after ``MAX_ATTEMPTS``.

Rendering is the channel's business: the caller passes ``render_email``, which turns a
queued message into an email in the recipient's language from what the database holds now.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from saldo.domain.email_address import mask_email
from saldo.domain.errors import SaldoError
from saldo.domain.periods import require_aware
from saldo.services.mail_port import Mailer, OutgoingEmail
from saldo.services.ports import OutboxMessage, UnitOfWork

MAX_ATTEMPTS: Final = 8
# A claimed message is left to its sender this long; one that died is sent again after it
# (under the same Message-ID).
CLAIM_FOR: Final = timedelta(minutes=5)
RETRY_DELAYS: Final = tuple(timedelta(minutes=m) for m in (1, 5, 15, 60, 240))

log = logging.getLogger(__name__)

EmailRenderer = Callable[[UnitOfWork, OutboxMessage], OutgoingEmail]


@dataclass(frozen=True, slots=True)
class Delivery:
    sent: int
    failed: int
    dead: int


def message_id(key: str) -> str:
    """The Message-ID's left part for an outbox key (``order-12-receipt`` stays as it is)."""
    return re.sub(r"[^A-Za-z0-9.-]", "-", key)[:200]


def deliver_email(
    uow: UnitOfWork,
    *,
    mailer: Mailer,
    render_email: EmailRenderer,
    now: datetime,
    limit: int = 100,
) -> Delivery:
    """Send the pending emails that are due, oldest first; record each outcome."""
    now = require_aware(now)
    with uow.reading():
        due = [m for m in uow.outbox.pending(now=now, limit=limit) if m.channel == "email"]
    sent = failed = dead = 0
    for message in due:
        with uow:
            claimed = uow.outbox.claim(message.id, now=now, until=now + CLAIM_FOR)
            uow.commit()
        if not claimed:
            continue  # another sender has it
        try:
            with uow.reading():
                email = render_email(uow, message)
            mailer.send(email)
        except (SaldoError, ValueError) as error:
            attempts = message.attempts + 1
            retry_at = None
            if attempts < MAX_ATTEMPTS:
                retry_at = now + RETRY_DELAYS[min(attempts - 1, len(RETRY_DELAYS) - 1)]
            with uow:
                uow.outbox.mark_failed(message.id, error=str(error), retry_at=retry_at, now=now)
                uow.commit()
            log.warning(
                "email %s to %s not sent (attempt %s): %s",
                message.key,
                mask_email(message.recipient),
                attempts,
                error,
            )
            failed += 1
            dead += retry_at is None
            continue
        with uow:
            uow.outbox.mark_sent(message.id, now=now)
            uow.commit()
        sent += 1
    return Delivery(sent=sent, failed=failed, dead=dead)
