"""Delivering the outbox: notifications written in the same transaction as their cause, sent
after it committed, by SMS, email or operator webhook.

Claiming. Several workers may deliver at once; each message is claimed by exactly one. A
claim is a lease: in one short transaction the sender takes a batch of due messages and moves
their next attempt ``CLAIM_FOR`` ahead (PostgreSQL skips the rows another sender is claiming,
SQLite's write transactions take turns). Whatever becomes of the worker, the message is due
again when the lease runs out (``lease``: ``CLAIM_FOR`` unless the caller gives another; the
worker gives SALDO_OUTBOX_LEASE_SECONDS).

What a crash costs. A worker killed before it sends loses nothing: the lease runs out and
another worker sends the message. A worker killed after the gateway took a message but
before the outcome was written sends it again on the next claim: each message carries its
stable key as its message id (the email's Message-ID, the SMS's id in Kannel's log, the
``Saldo-Event-Id`` header of a webhook), so the repeat is recognisable. That one repeat is
the price of never losing a notification.

Outcomes. A failed send is retried with backoff (1, 5, 15, 60 minutes, then every 4 hours)
and the message is marked dead after ``MAX_ATTEMPTS`` claims (``saldo outbox retry`` puts it
back). A message that is no longer true when its turn comes is marked skipped: its facts
changed (a reminder for a line renewed meanwhile; ``saldo.services.notices`` decides). A
message that can never be written (``Undeliverable``, or a renderer's ValueError) is dead at
once. An SMS whose turn comes in the quiet hours of the operator's zone is put back untried
until the morning.

Deciding is the services' business, writing the channels': ``read`` (``notice_for``) reads
what a message says from the database as it is at delivery, and the caller's ``render``
writes that notice in the recipient's language without reading anything.
"""

from __future__ import annotations

import enum
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from saldo.domain.email_address import mask_email
from saldo.domain.errors import SaldoError
from saldo.domain.numbering import mask_msisdn
from saldo.domain.periods import require_aware
from saldo.services.notices import (
    CODE_KINDS,
    LineNotice,
    Notice,
    NoticeReader,
    Undeliverable,
    notice_for,
)
from saldo.services.notifications import EMAIL, SMS, WEBHOOK, sms_allowed_from
from saldo.services.ports import OutboxMessage, UnitOfWork
from saldo.services.ports.mail import Mailer, OutgoingEmail
from saldo.services.ports.sms import SmsSender
from saldo.services.ports.webhooks import WebhookRequest, WebhookSender, shown_url

MAX_ATTEMPTS: Final = 8
# A claimed message is left to its sender this long; one whose worker died is sent again
# after it (under the same message id).
CLAIM_FOR: Final = timedelta(minutes=5)
RETRY_DELAYS: Final = tuple(timedelta(minutes=m) for m in (1, 5, 15, 60, 240))
# Messages are claimed a few at a time, so that a batch is sent well within its lease even
# when every send waits for its timeout (10 s), and concurrent workers share the work.
CLAIM_BATCH: Final = 10
# A pass stops claiming after this many seconds (measured, since ``now`` stays the pass's
# start): each batch is claimed while ``now`` is fresh, with most of its lease ahead of it.
CLAIMING_SECONDS: Final = 120.0
STATES: Final = ("pending", "sent", "dead", "skipped")
# How `write_message` shows a verification code to the staff who read a message.
HIDDEN_CODE: Final = "••••••"

log = logging.getLogger(__name__)


class UnableToRetry(SaldoError):
    """A message cannot be put back to pending: there is none with that id, or it is not
    dead."""

    code = "unable_to_retry"


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    """One SMS, already written in the recipient's language: to ``to`` (E.164), shown as
    from ``sender`` (the operator's short code)."""

    to: str
    sender: str
    text: str


Outgoing = OutgoingSms | OutgoingEmail | WebhookRequest
# Writes what a message says, decided at delivery, in its recipient's language, at a time.
Renderer = Callable[[Notice, datetime], Outgoing]


@dataclass(frozen=True, slots=True)
class Senders:
    """The gateways a worker delivers through; messages of a channel without one are left
    pending for a worker that has it."""

    sms: SmsSender | None = None
    email: Mailer | None = None
    webhook: WebhookSender | None = None

    @property
    def channels(self) -> tuple[str, ...]:
        present = ((SMS, self.sms), (EMAIL, self.email), (WEBHOOK, self.webhook))
        return tuple(channel for channel, sender in present if sender is not None)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one pass did: ``failed`` counts every failed attempt, ``dead`` those of them
    that were the last; ``deferred`` SMS wait for the end of the quiet hours."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    deferred: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.skipped + self.deferred


class _Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"
    DEAD = "dead"
    SKIPPED = "skipped"
    DEFERRED = "deferred"


def message_id(key: str) -> str:
    """The message id for an outbox key (``order-12-receipt`` stays as it is)."""
    return re.sub(r"[^A-Za-z0-9.-]", "-", key)[:200]


def masked_recipient(message: OutboxMessage) -> str:
    """The recipient safe for logs and screens: a number or an address masked, a webhook
    URL shown by its host."""
    if message.channel == SMS:
        return mask_msisdn(message.recipient)
    if message.channel == EMAIL:
        return mask_email(message.recipient)
    return shown_url(message.recipient)


def deliver_outbox(
    uow: UnitOfWork,
    *,
    senders: Senders,
    render: Renderer,
    now: datetime,
    limit: int = 100,
    read: NoticeReader = notice_for,
    keys: Sequence[str] | None = None,
    lease: timedelta = CLAIM_FOR,
) -> Delivery:
    """Deliver up to ``limit`` due messages of the channels ``senders`` has (only those with
    one of ``keys``, when given: a code sent at once), oldest first, and record each
    outcome. Safe to run in several processes at once: each message is claimed by one of
    them for ``lease``."""
    now = require_aware(now)
    channels = senders.channels
    outcomes: Counter[_Outcome] = Counter()
    started = time.monotonic()
    # A shorter lease claims for proportionally less time: a batch is still claimed with
    # most of its lease ahead of it.
    claiming = CLAIMING_SECONDS * min(1.0, lease / CLAIM_FOR)
    claimed = 0
    while channels and claimed < limit and time.monotonic() - started < claiming:
        with uow:
            batch = uow.outbox.claim_due(
                now=now,
                until=now + lease,
                limit=min(CLAIM_BATCH, limit - claimed),
                channels=channels,
                keys=keys,
            )
            uow.commit()
        if not batch:
            break
        claimed += len(batch)
        for message in batch:
            outcomes[
                _deliver(uow, message, senders=senders, read=read, render=render, now=now)
            ] += 1
    return Delivery(
        sent=outcomes[_Outcome.SENT],
        failed=outcomes[_Outcome.RETRY] + outcomes[_Outcome.DEAD],
        dead=outcomes[_Outcome.DEAD],
        skipped=outcomes[_Outcome.SKIPPED],
        deferred=outcomes[_Outcome.DEFERRED],
    )


def _deliver(
    uow: UnitOfWork,
    message: OutboxMessage,
    *,
    senders: Senders,
    read: NoticeReader,
    render: Renderer,
    now: datetime,
) -> _Outcome:
    if message.attempts > MAX_ATTEMPTS:
        # Failures alone make a message dead at MAX_ATTEMPTS: some claims ended without an
        # outcome, so whatever sends it kills its worker. It must not take every worker down.
        error = (
            f"claimed {message.attempts - 1} times, at least once without an outcome "
            "(a worker stopped while sending it)"
        )
        return _failed(uow, message, error=error, retry=False, now=now)
    # A code the subscriber is waiting for on screen goes at once, whatever the hour.
    if message.channel == SMS and message.payload.get("kind") not in CODE_KINDS:
        morning = _end_of_quiet_hours(uow, message, now=now)
        if morning is not None:
            with uow:
                uow.outbox.release(message.id, at=morning)
                uow.commit()
            return _Outcome.DEFERRED
    try:
        with uow.reading():
            notice = read(uow, message, now)
        outgoing = None if notice is None else render(notice, now)
    except (Undeliverable, ValueError) as error:
        return _failed(uow, message, error=str(error), retry=False, now=now)
    except Exception as error:
        # A renderer's bug or a failed read must not stop the pass: the message is tried
        # again later like a failed send, and dies after MAX_ATTEMPTS.
        log.exception("outbox %s (%s) could not be written", message.key, message.channel)
        return _failed(uow, message, error=f"{type(error).__name__}: {error}", retry=True, now=now)
    if outgoing is None:
        with uow:
            uow.outbox.mark_skipped(message.id, reason="no longer true when its turn came", now=now)
            uow.commit()
        log.info("outbox %s skipped: no longer true", message.key)
        return _Outcome.SKIPPED
    try:
        _send(outgoing, message, senders=senders)
    except Undeliverable as error:
        return _failed(uow, message, error=str(error), retry=False, now=now)
    except Exception as error:
        # SmsNotSent, MailNotSent, WebhookNotSent, or anything an adapter let through.
        return _failed(uow, message, error=str(error), retry=True, now=now)
    with uow:
        uow.outbox.mark_sent(message.id, now=now)
        uow.commit()
    return _Outcome.SENT


def _end_of_quiet_hours(
    uow: UnitOfWork, message: OutboxMessage, *, now: datetime
) -> datetime | None:
    with uow.reading():
        operator = uow.operators.get(message.operator_id)
    if operator is None:
        return None
    allowed = sms_allowed_from(now, timezone=operator.timezone)
    return allowed if allowed > now else None


def _send(outgoing: Outgoing, message: OutboxMessage, *, senders: Senders) -> None:
    if isinstance(outgoing, OutgoingSms) and message.channel == SMS and senders.sms:
        senders.sms.send(
            to=outgoing.to,
            sender=outgoing.sender,
            text=outgoing.text,
            message_id=message_id(message.key),
        )
    elif isinstance(outgoing, OutgoingEmail) and message.channel == EMAIL and senders.email:
        senders.email.send(outgoing)
    elif isinstance(outgoing, WebhookRequest) and message.channel == WEBHOOK and senders.webhook:
        senders.webhook.send(url=outgoing.url, body=outgoing.body, headers=outgoing.headers)
    else:
        raise Undeliverable(f"a {message.channel} message was written as {type(outgoing).__name__}")


def _failed(
    uow: UnitOfWork, message: OutboxMessage, *, error: str, retry: bool, now: datetime
) -> _Outcome:
    retry_at = None
    if retry and message.attempts < MAX_ATTEMPTS:
        delay = RETRY_DELAYS[min(message.attempts, len(RETRY_DELAYS)) - 1]
        retry_at = now + delay
    with uow:
        uow.outbox.mark_failed(message.id, error=error, retry_at=retry_at, now=now)
        uow.commit()
    log.warning(
        "outbox %s (%s to %s) not sent, attempt %s%s: %s",
        message.key,
        message.channel,
        masked_recipient(message),
        message.attempts,
        "" if retry_at else ", now dead",
        error,
    )
    return _Outcome.RETRY if retry_at else _Outcome.DEAD


def outbox_messages(uow: UnitOfWork, *, state: str | None, limit: int) -> list[OutboxMessage]:
    """The messages newest first, only those in ``state`` (one of STATES) when given."""
    if state is not None and state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}")
    with uow.reading():
        return uow.outbox.list(state=state, limit=limit)


class MessageNotFound(SaldoError):
    code = "outbox_message_not_found"


@dataclass(frozen=True, slots=True)
class WrittenMessage:
    """An outbox message and what it stands for, written now as its delivery would write it
    (``outgoing`` None: no longer true, so a delivery now would skip it)."""

    message: OutboxMessage
    outgoing: Outgoing | None


def write_message(
    uow: UnitOfWork, *, message_id: int, render: Renderer, now: datetime
) -> WrittenMessage:
    """What outbox message ``message_id`` says to its recipient, written by ``render`` from
    the database as it is at ``now``, whatever its state: what the subscriber received, or
    will. A verification code is shown hidden (``••••••``): the staff who read a message must
    not be able to sign in as its recipient. Raises MessageNotFound, or Undeliverable for a
    message that can never be written."""
    now = require_aware(now)
    with uow.reading():
        message = uow.outbox.get(message_id)
        if message is None:
            raise MessageNotFound(f"there is no outbox message {message_id}")
        try:
            notice = notice_for(uow, message, now)
        except ValueError as error:
            raise Undeliverable(str(error)) from None
    if isinstance(notice, LineNotice) and notice.code is not None:
        notice = replace(notice, code=HIDDEN_CODE)
    try:
        outgoing = None if notice is None else render(notice, now)
    except ValueError as error:
        raise Undeliverable(str(error)) from None
    return WrittenMessage(message=message, outgoing=outgoing)


def retry_dead_message(uow: UnitOfWork, *, message_id: int, now: datetime) -> OutboxMessage:
    """Put a dead message back to pending, due ``now``, with all its attempts ahead of it.
    Raises UnableToRetry when there is no dead message with this id."""
    now = require_aware(now)
    with uow:
        if not uow.outbox.retry(message_id, now=now):
            found = uow.outbox.get(message_id)
            if found is None:
                raise UnableToRetry(f"there is no outbox message {message_id}")
            raise UnableToRetry(f"outbox message {message_id} is {found.state}, not dead")
        retried = uow.outbox.get(message_id)
        uow.commit()
    assert retried is not None
    return retried
