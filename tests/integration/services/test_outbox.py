"""Delivering the outbox on SQLite and PostgreSQL with the in-memory gateways: each kind is
written in the line's language at delivery; a failed send is retried with backoff and dead
after eight attempts; a message no longer true is skipped; an SMS waits out the quiet hours;
operators' webhooks are in test_outbox_webhooks.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from saldo.adapters.email.fake import FakeMailer
from saldo.adapters.sms.fake import FakeSmsSender
from saldo.adapters.webhooks.fake import FakeWebhookSender
from saldo.bootstrap import Saldo
from saldo.channels.notifications import notification_renderer
from saldo.domain.lines import Channel, Line
from saldo.domain.money import Money
from saldo.services.lines import NewLine, add_line
from saldo.services.notifications import queue, sms_allowed_from
from saldo.services.outbox import (
    CLAIM_FOR,
    MAX_ATTEMPTS,
    Delivery,
    Senders,
    UnableToRetry,
    deliver_outbox,
    retry_dead_message,
)
from saldo.services.ports import OutboxMessage
from saldo.services.top_up import top_up

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)  # 12:00 in Buenos Aires, 16:00 in Brussels
MOVISTAR = "+5491155551234"
PROXIMUS = "+32470123456"
BUENOS_AIRES = "America/Argentina/Buenos_Aires"


@dataclass
class Gateways:
    sms: FakeSmsSender
    mail: FakeMailer
    webhooks: FakeWebhookSender

    @property
    def senders(self) -> Senders:
        return Senders(sms=self.sms, email=self.mail, webhook=self.webhooks)


@pytest.fixture
def gateways() -> Gateways:
    return Gateways(FakeSmsSender(), FakeMailer(), FakeWebhookSender())


def deliver(saldo: Saldo, senders: Senders, *, at: datetime) -> Delivery:
    render = notification_renderer(webhook_secret=saldo.webhook_secret)
    return deliver_outbox(saldo.uow(), senders=senders, render=render, now=at)


def given_line(saldo: Saldo, msisdn: str, operator: str, language: str) -> Line:
    new_line = NewLine(msisdn=msisdn, operator=operator, language=language)
    return add_line(saldo.uow(), new_line=new_line, now=NOW)


def given_queued(
    saldo: Saldo,
    line: Line,
    *,
    key: str,
    payload: dict[str, Any],
    channel: str = "sms",
    recipient: str | None = None,
    not_before: datetime | None = None,
) -> None:
    with saldo.uow() as uow:
        queue(
            uow,
            operator_id=line.operator_id,
            line_id=line.id,
            channel=channel,
            key=key,
            recipient=recipient or line.msisdn,
            payload=payload,
            now=NOW,
            not_before=not_before,
        )
        uow.commit()


def given_reminder(saldo: Saldo, line: Line, **options: Any) -> None:
    payload = {"kind": "expiry_reminder", "valid_until": line.valid_until.isoformat(), "days": 7}
    given_queued(saldo, line, key=f"expiry-{line.id}-7", payload=payload, **options)


def stored(saldo: Saldo, key: str) -> OutboxMessage:
    with saldo.uow().reading() as uow:
        (message,) = [m for m in uow.outbox.list(state=None, limit=100) if m.key == key]
    return message


def test_an_expiry_reminder_reaches_the_line_by_sms_from_its_operator_s_short_code(
    saldo: Saldo, gateways: Gateways
) -> None:
    line = given_line(saldo, MOVISTAR, "movistar-ar", "es")
    given_reminder(saldo, line)

    delivery = deliver(saldo, gateways.senders, at=NOW)

    assert delivery == Delivery(sent=1)
    (sms,) = gateways.sms.sent
    assert (sms.to, sms.sender, sms.message_id) == (MOVISTAR, "121", f"expiry-{line.id}-7")
    assert sms.text.startswith("Movistar: su linea es valida hasta el 22 dic 2026.")
    assert "envie RENOVAR pack-mensual-1m al 121, marque *444# o entre en movistar.com.ar" in (
        sms.text
    )
    message = stored(saldo, f"expiry-{line.id}-7")
    assert (message.state, message.attempts, message.sent_at) == ("sent", 1, NOW)
    assert deliver(saldo, gateways.senders, at=NOW + timedelta(hours=1)) == Delivery()


def test_an_expiry_reminder_by_email_is_written_in_the_line_s_language(
    saldo: Saldo, gateways: Gateways
) -> None:
    line = given_line(saldo, PROXIMUS, "proximus-be", "nl")
    given_reminder(saldo, line, channel="email", recipient="an@example.be")

    delivery = deliver(saldo, gateways.senders, at=NOW)

    assert delivery == Delivery(sent=1)
    (email,) = gateways.mail.sent
    assert email.to == "an@example.be"
    assert email.language == "nl-BE"
    assert email.subject == f"Uw lijn {PROXIMUS} is geldig tot 22 dec 2026 — Proximus"
    assert "stuur VERLENGEN mobile-smart-1m naar 6000, bel *100#, ga naar proximus.be of" in (
        email.text
    )


def test_a_reminder_for_a_line_renewed_meanwhile_is_skipped_not_sent(
    saldo: Saldo, gateways: Gateways
) -> None:
    line = given_line(saldo, MOVISTAR, "movistar-ar", "es")
    given_reminder(saldo, line)
    top_up(  # 60 more days
        saldo.uow(),
        msisdn=MOVISTAR,
        amount=Money.of("10000", "ARS"),
        channel=Channel.STORE,
        idempotency_key="store-1",
        now=NOW,
    )

    delivery = deliver(saldo, gateways.senders, at=NOW + timedelta(minutes=1))

    assert delivery == Delivery(skipped=1)
    assert gateways.sms.sent == []
    message = stored(saldo, f"expiry-{line.id}-7")
    assert message.state == "skipped"
    assert message.last_error == "no longer true when its turn came"


def test_a_low_balance_alert_for_a_line_topped_up_meanwhile_is_skipped(
    saldo: Saldo, gateways: Gateways
) -> None:
    line = given_line(saldo, MOVISTAR, "movistar-ar", "es")
    alert = {"kind": "low_balance", "balance": 0, "threshold": 50000}
    given_queued(saldo, line, key=f"low-{line.id}-a", payload=alert)

    first = deliver(saldo, gateways.senders, at=NOW)
    top_up(
        saldo.uow(),
        msisdn=MOVISTAR,
        amount=Money.of("1000", "ARS"),
        channel=Channel.STORE,
        idempotency_key="store-2",
        now=NOW,
    )
    given_queued(saldo, line, key=f"low-{line.id}-b", payload=alert)
    second = deliver(saldo, gateways.senders, at=NOW)

    assert (first, second) == (Delivery(sent=1), Delivery(skipped=1))
    assert gateways.sms.sent[0].text == (
        "Movistar: su saldo es $0,00, menos de $500,00. Para recargar, marque *444#, entre en "
        "movistar.com.ar o use la app Mi Movistar."
    )


def test_a_failed_send_is_retried_with_backoff_and_dead_after_eight_attempts(
    saldo: Saldo, gateways: Gateways
) -> None:
    # By email: no quiet hours interfere with the backoff's timing.
    line = given_line(saldo, MOVISTAR, "movistar-ar", "es")
    given_reminder(saldo, line, channel="email", recipient="ana@example.org")
    gateways.mail.fail_with("mailbox full")
    key = f"expiry-{line.id}-7"

    at, waits, deliveries = NOW, [], []
    for _ in range(MAX_ATTEMPTS):
        deliveries.append(deliver(saldo, gateways.senders, at=at))
        message = stored(saldo, key)
        if message.state != "pending":
            break
        assert message.next_attempt_at is not None
        assert deliver(
            saldo, gateways.senders, at=message.next_attempt_at - timedelta(seconds=1)
        ) == (Delivery())
        waits.append(message.next_attempt_at - at)
        at = message.next_attempt_at

    assert [int(wait.total_seconds() // 60) for wait in waits] == [1, 5, 15, 60, 240, 240, 240]
    assert deliveries[:-1] == [Delivery(failed=1)] * 7
    assert deliveries[-1] == Delivery(failed=1, dead=1)
    message = stored(saldo, key)
    assert (message.state, message.attempts) == ("dead", MAX_ATTEMPTS)
    assert message.last_error is not None and "mailbox full" in message.last_error
    assert "ana@example.org" not in message.last_error
    assert gateways.mail.sent == []


def test_a_dead_message_put_back_to_pending_is_sent_on_the_next_pass(
    saldo: Saldo, gateways: Gateways
) -> None:
    line = given_line(saldo, MOVISTAR, "movistar-ar", "es")
    given_reminder(saldo, line, channel="email", recipient="ana@example.org")
    gateways.mail.fail_with("mailbox full")
    at = NOW
    for _ in range(MAX_ATTEMPTS):
        deliver(saldo, gateways.senders, at=at)
        at += timedelta(hours=4)
    dead = stored(saldo, f"expiry-{line.id}-7")
    gateways.mail.stop_failing()

    retried = retry_dead_message(saldo.uow(), message_id=dead.id, now=at)
    delivery = deliver(saldo, gateways.senders, at=at)

    assert dead.state == "dead"
    assert (retried.state, retried.attempts, retried.next_attempt_at) == ("pending", 0, at)
    assert delivery == Delivery(sent=1)
    assert stored(saldo, f"expiry-{line.id}-7").state == "sent"


def test_a_message_whose_workers_keep_dying_while_sending_it_is_given_up(
    saldo: Saldo, gateways: Gateways
) -> None:
    line = given_line(saldo, MOVISTAR, "movistar-ar", "es")
    given_reminder(saldo, line, channel="email", recipient="ana@example.org")
    at = NOW
    for _ in range(MAX_ATTEMPTS):  # claimed, then the worker dies: no outcome recorded
        with saldo.uow() as uow:
            assert uow.outbox.claim_due(now=at, until=at + CLAIM_FOR, limit=1, channels=["email"])
            uow.commit()
        at += CLAIM_FOR

    delivery = deliver(saldo, gateways.senders, at=at)

    assert delivery == Delivery(failed=1, dead=1)
    assert gateways.mail.sent == []
    message = stored(saldo, f"expiry-{line.id}-7")
    assert message.state == "dead"
    assert message.last_error == (
        "claimed 8 times, at least once without an outcome (a worker stopped while sending it)"
    )


def test_only_a_dead_message_can_be_put_back_to_pending(saldo: Saldo) -> None:
    line = given_line(saldo, MOVISTAR, "movistar-ar", "es")
    given_reminder(saldo, line)
    pending = stored(saldo, f"expiry-{line.id}-7")

    with pytest.raises(UnableToRetry, match="is pending, not dead"):
        retry_dead_message(saldo.uow(), message_id=pending.id, now=NOW)
    with pytest.raises(UnableToRetry, match="no outbox message 999"):
        retry_dead_message(saldo.uow(), message_id=999, now=NOW)


def test_a_message_of_a_kind_no_renderer_knows_is_dead_at_once(
    saldo: Saldo, gateways: Gateways
) -> None:
    line = given_line(saldo, MOVISTAR, "movistar-ar", "es")
    given_queued(saldo, line, key="oops", payload={"kind": "no_such_kind"})

    delivery = deliver(saldo, gateways.senders, at=NOW)

    assert delivery == Delivery(failed=1, dead=1)
    message = stored(saldo, "oops")
    assert message.state == "dead"
    assert "no_such_kind" in (message.last_error or "")


def test_an_sms_queued_for_the_morning_is_not_sent_before_it(
    saldo: Saldo, gateways: Gateways
) -> None:
    evening = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 22:00 in Buenos Aires
    morning = sms_allowed_from(evening, timezone=BUENOS_AIRES)
    line = given_line(saldo, MOVISTAR, "movistar-ar", "es")
    given_reminder(saldo, line, not_before=morning)

    at_night = deliver(saldo, gateways.senders, at=evening + timedelta(hours=2))
    in_the_morning = deliver(saldo, gateways.senders, at=morning)

    assert morning == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 09:00 in Buenos Aires
    assert (at_night, in_the_morning) == (Delivery(), Delivery(sent=1))


def test_an_sms_whose_turn_comes_in_the_quiet_hours_waits_untried_for_the_morning(
    saldo: Saldo, gateways: Gateways
) -> None:
    line = given_line(saldo, MOVISTAR, "movistar-ar", "es")
    given_reminder(saldo, line)
    late = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 21:30 in Buenos Aires
    morning = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    at_night = deliver(saldo, gateways.senders, at=late)
    waiting = stored(saldo, f"expiry-{line.id}-7")
    in_the_morning = deliver(saldo, gateways.senders, at=morning)

    assert at_night == Delivery(deferred=1)
    assert (waiting.state, waiting.attempts, waiting.next_attempt_at) == ("pending", 0, morning)
    assert in_the_morning == Delivery(sent=1)


def test_messages_of_a_channel_without_a_sender_stay_pending_for_one_that_has_it(
    saldo: Saldo, gateways: Gateways
) -> None:
    line = given_line(saldo, MOVISTAR, "movistar-ar", "es")
    given_reminder(saldo, line)

    delivery = deliver(saldo, Senders(email=gateways.mail), at=NOW)

    assert delivery == Delivery()
    message = stored(saldo, f"expiry-{line.id}-7")
    assert (message.state, message.attempts) == ("pending", 0)
