"""Finding out what became of payments, whatever they pay for (orders, top-ups, auto
top-ups): asking processors again about pending ones (with backoff), and their webhooks.
Both end in ``payment_flow.apply_result``, whose conditional updates make a webhook and a
poll racing for one payment settle it once. ``reconcile_now`` is the whole round an operator
runs from cron: orders expired, auto-renewals due, payments asked about, receipts sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from saldo.domain.errors import SaldoError
from saldo.domain.money import Money
from saldo.domain.orders import next_payment_check
from saldo.domain.periods import require_aware
from saldo.services.auto_renewal import RenewalOutcome, renew_due
from saldo.services.order_payment import send_receipts
from saldo.services.orders import expire_orders
from saldo.services.outbox import Delivery, Renderer
from saldo.services.payment_flow import (
    apply_in,
    apply_result,
    ask_processor,
    installation_id,
    processor_for,
    settle_refunds,
    settle_refunds_quietly,
)
from saldo.services.ports import PaymentPurpose, StoredPayment, UnitOfWork
from saldo.services.ports.mail import Mailer
from saldo.services.ports.payments import PaymentProvider, PaymentResult, PaymentStatus

log = logging.getLogger(__name__)


class UnknownPayment(SaldoError):
    """A webhook about a payment Saldo has no record of (yet: its answer may still be on
    the way); the processor is asked to send it again later."""

    code = "unknown_payment"


@dataclass(frozen=True, slots=True)
class Reconciliation:
    checked: int
    settled: int
    still_pending: int
    refunded: int


def reconcile_payments(
    uow: UnitOfWork, providers: Mapping[str, PaymentProvider], *, now: datetime, limit: int = 100
) -> Reconciliation:
    """Ask the processors about the pending payments whose next check is due (backing off:
    ``PAYMENT_CHECK_DELAYS``), apply what they say, then make the refunds due. A payment
    whose request never reached its processor is failed after
    ``payment_flow.LOST_REQUEST_AFTER``."""
    now = require_aware(now)
    with uow.reading():
        # Auto top-up charges are asked about by the auto top-up job itself, at every pass
        # (run_auto_topups): asking here too would ask the processor twice.
        due = [
            payment
            for purpose in (PaymentPurpose.ORDER, PaymentPurpose.TOPUP)
            for payment in uow.payments.due_checks(purpose=purpose, now=now, limit=limit)
        ]
    settled = pending = 0
    installation = installation_id(uow) if due else ""  # no read when nothing is due
    for payment in due:
        try:
            result = ask_processor(providers, payment, installation=installation, now=now)
        except Exception:  # one bad payment must not stop the others or the refunds
            log.exception("payment %s could not be reconciled", payment.id)
            result = None
        if result is None or result.status is PaymentStatus.PENDING:
            pending += 1
            _ask_again_later(uow, payment, now=now)
            continue
        try:
            apply_result(uow, payment_id=payment.id, result=result, now=now)
        except Exception:  # logged; the payment stays pending and is asked about again
            log.exception("payment %s could not be applied", payment.id)
            pending += 1
            _ask_again_later(uow, payment, now=now)
            continue
        settled += 1
    refunded = settle_refunds(uow, providers, now=now)
    return Reconciliation(
        checked=len(due), settled=settled, still_pending=pending, refunded=refunded
    )


@dataclass(frozen=True, slots=True)
class ReconciliationRound:
    """What ``reconcile_now`` did, step by step."""

    expired: int  # orders whose quote ran out unpaid
    renewals: dict[RenewalOutcome, int]  # every outcome, counted (zero included)
    payments: Reconciliation
    receipts: Delivery


def reconcile_now(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    max_rate_age: timedelta,
    mailer: Mailer | None,
    render: Renderer,
    now: datetime,
) -> ReconciliationRound:
    """In this order: expire unpaid orders whose quote ran out (``expire_orders``), run the
    auto-renewals that are due (``renew_due``), ask processors about the pending payments
    that are due and make the refunds due (``reconcile_payments``), then send the emails
    waiting in the outbox through ``mailer`` (``send_receipts``). Each step commits its
    own work; calling it again when nothing is due does nothing."""
    now = require_aware(now)
    expired = expire_orders(uow, now=now)
    renewals = renew_due(uow, providers, max_rate_age=max_rate_age, now=now)
    payments = reconcile_payments(uow, providers, now=now)
    receipts = send_receipts(uow, mailer=mailer, render=render, now=now)
    return ReconciliationRound(
        expired=expired, renewals=renewals, payments=payments, receipts=receipts
    )


def _ask_again_later(uow: UnitOfWork, payment: StoredPayment, *, now: datetime) -> None:
    """Leave the payment pending, to be asked about again after the next back-off."""
    with uow:
        uow.payments.schedule_check(
            payment.id,
            at=next_payment_check(checks=payment.checks + 1, now=now),
            checks=payment.checks + 1,
        )
        uow.commit()


def handle_webhook(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    provider: str,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
) -> bool:
    """Verify and apply a processor's webhook; False when the event was seen before (it
    changes nothing). Events may come in any order: a payment's final status is never
    replaced, and an event that only says "changed" is completed by asking the processor.

    Raises UnknownPaymentProvider; InvalidWebhook; UnknownPayment (answer so that the processor
    sends it again later); PaymentMismatch (nothing applied).
    """
    now = require_aware(now)
    processor = processor_for(providers, name=provider)
    event = processor.parse_webhook(body=body, headers=headers, now=now)
    with uow.reading():
        payment = uow.payments.get_by_reference(provider=provider, reference=event.reference)
    if payment is None:
        raise UnknownPayment(f"no {provider} payment {event.reference} here (yet)")
    result = (
        PaymentResult(
            reference=event.reference,
            status=event.status,
            amount=event.amount or Money(payment.amount, payment.currency),
        )
        if event.status is not None
        else processor.fetch_payment(event.reference)
    )
    with uow:
        if not uow.payments.record_event(
            provider=provider,
            event_id=event.event_id,
            reference=event.reference,
            status=result.status,
            now=now,
        ):
            return False
        apply_in(uow, payment_id=payment.id, result=result, now=now)
        uow.commit()
    settle_refunds_quietly(uow, providers, line_id=payment.line_id, now=now)
    return True
