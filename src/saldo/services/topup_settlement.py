"""What a subscriber's one-off card top-up does when the payment flow (``payment_flow``)
settles its payment: a success credits the line exactly once (the top-up is keyed by the
payment, so a webhook and a poll racing credit it once), in the same transaction as the
payment's outcome, with the receipt email queued when the line has an address; money the
line can no longer take (recycled meanwhile, a new minimum) is flagged and given back. A
decline changes nothing: the subscriber may pay with another card.
"""

from __future__ import annotations

from datetime import datetime

from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.idempotency import fingerprint, internal_key
from saldo.services.notifications import EMAIL, queue
from saldo.services.ports import LineRecord, StoredPayment, UnitOfWork
from saldo.services.top_up import credit_topup


def topup_key(payment_id: int) -> str:
    """The key of the top-up a card payment is credited as (Saldo's own)."""
    return internal_key("topup-payment", payment_id)


class TopUpFulfilment:
    """The payment flow's callbacks for a payment with the ``topup`` purpose."""

    def paid(
        self, uow: UnitOfWork, *, payment: StoredPayment, record: LineRecord, now: datetime
    ) -> None:
        """Credit the payment as the line's top-up (validity and promotions included), or
        flag it for a refund when the line can no longer take it."""
        try:
            receipt = credit_topup(
                uow,
                record=record,
                amount=Money(payment.amount, payment.currency),
                channel=Channel.APP,
                key=topup_key(payment.id),
                request=fingerprint("topup-payment", payment.id, payment.msisdn),
                now=now,
            )
        except SaldoError:
            # credit_topup refuses before it writes anything: the money goes back.
            uow.payments.flag_refund(payment.id, now=now)
            return
        uow.payments.link_topup(payment.id, topup_id=receipt.topup_id, now=now)
        email = record.line.email
        if email:
            queue(
                uow,
                operator_id=payment.operator_id,
                line_id=payment.line_id,
                channel=EMAIL,
                key=f"topup-payment-{payment.id}-receipt",
                recipient=email,
                payload={"kind": "topup_receipt", "line_id": payment.line_id,
                         "payment_id": payment.id},
                now=now,
            )  # fmt: skip

    def declined(
        self,
        uow: UnitOfWork,
        *,
        payment: StoredPayment,
        record: LineRecord,
        decline_code: str | None,
        now: datetime,
    ) -> None:
        """Nothing was credited; the subscriber is told by the answer, and may try again."""

    def refunded(self, uow: UnitOfWork, *, payment: StoredPayment, now: datetime) -> None:
        """Nothing more to do: the payment shows it was given back."""
