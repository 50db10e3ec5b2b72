"""Finding out what became of payments: asking processors again about pending ones (with
backoff), and their webhooks. Both end in ``settlement.apply_result``, whose conditional
updates make a webhook and a poll racing for one payment fulfil its order once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from saldo.domain.errors import SaldoError
from saldo.domain.money import Money
from saldo.domain.orders import next_payment_check
from saldo.domain.periods import require_aware
from saldo.services.payment_port import (
    PaymentError,
    PaymentProvider,
    PaymentResult,
    PaymentStatus,
)
from saldo.services.ports import StoredPayment, UnitOfWork
from saldo.services.settlement import (
    apply_in,
    apply_result,
    installation_id,
    processor_reference,
    settle_refunds,
    settle_refunds_quietly,
)

log = logging.getLogger(__name__)

# A payment whose request never reached the processor is given up after this long: long
# enough for a processor's search index to catch up even after an outage of theirs.
LOST_REQUEST_AFTER: Final = timedelta(hours=24)


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
    whose request never reached its processor is failed after ``LOST_REQUEST_AFTER``."""
    now = require_aware(now)
    with uow.reading():
        due = uow.payments.due_checks(now=now, limit=limit)
    settled = pending = 0
    installation = installation_id(uow)
    for payment in due:
        try:
            result = _ask(providers, payment, installation=installation, now=now)
        except Exception:  # one bad payment must not stop the others or the refunds
            log.exception("payment %s could not be reconciled", payment.id)
            result = None
        if result is None or result.status is PaymentStatus.PENDING:
            pending += 1
            _ask_again_later(uow, payment, now=now)
            continue
        try:
            apply_result(uow, providers, payment_id=payment.id, result=result, now=now)
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


def _ask_again_later(uow: UnitOfWork, payment: StoredPayment, *, now: datetime) -> None:
    """Leave the payment pending, to be asked about again after the next back-off."""
    with uow:
        uow.payments.schedule_check(
            payment.id,
            at=next_payment_check(checks=payment.checks + 1, now=now),
            checks=payment.checks + 1,
        )
        uow.commit()


def _ask(
    providers: Mapping[str, PaymentProvider],
    payment: StoredPayment,
    *,
    installation: str,
    now: datetime,
) -> PaymentResult | None:
    processor = providers.get(payment.provider)
    if processor is None:
        return None
    try:
        if payment.reference is not None:
            return processor.fetch_payment(payment.reference)
        found = processor.find_payment(
            idempotency_key=processor_reference(installation, payment.id),
            order_reference=processor_reference(installation, payment.id),
        )
    except PaymentError as error:
        log.warning("payment %s: the processor did not answer: %s", payment.id, error)
        return None
    if found is None and now - payment.created_at >= LOST_REQUEST_AFTER:
        return PaymentResult(
            reference="",
            status=PaymentStatus.FAILED,
            amount=Money(payment.amount, payment.currency),
            decline_code="never_received",
        )
    return found


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

    Raises KeyError for an unknown provider; InvalidWebhook; UnknownPayment (answer so
    that the processor sends it again later).
    """
    now = require_aware(now)
    processor = providers[provider]
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
    settle_refunds_quietly(uow, providers, order_id=payment.order_id, now=now)
    return True
