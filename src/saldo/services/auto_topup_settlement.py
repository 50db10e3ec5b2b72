"""What an auto top-up's charge does when the payment flow (``payment_flow``) settles it: a
success credits the line like any top-up (its validity rule and promotions included), in the
same transaction as the payment's outcome; a failure, or a charge the line can no longer take
(recycled, below a new minimum: its money goes back), is told to the subscriber and tried
again after 1 day, then after 3 more; after that the setting waits until the subscriber
changes it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.orders import next_renewal_attempt
from saldo.services.idempotency import fingerprint, internal_key
from saldo.services.notifications import SMS, queue, sms_allowed_from
from saldo.services.ports import LineRecord, StoredPayment, UnitOfWork
from saldo.services.top_up import credit_topup


class AutoTopUpFulfilment:
    """The payment flow's callbacks for a payment with the ``auto_topup`` purpose."""

    def paid(
        self, uow: UnitOfWork, *, payment: StoredPayment, record: LineRecord, now: datetime
    ) -> None:
        """Credit the charge as a top-up and tell the subscriber; a charge the line can no
        longer take is flagged for a refund and counts as a failure."""
        try:
            receipt = credit_topup(
                uow,
                record=record,
                amount=Money(payment.amount, payment.currency),
                channel=Channel.AUTO,
                key=internal_key("auto-topup-payment", payment.id),
                request=fingerprint("auto-topup-payment", payment.id, payment.msisdn),
                now=now,
            )
        except SaldoError as refused:
            # credit_topup refuses before it writes anything: the money goes back.
            uow.payments.flag_refund(payment.id, now=now)
            _count_failure(uow, payment=payment, record=record, reason=refused.code, now=now)
            return
        uow.payments.link_topup(payment.id, topup_id=receipt.topup_id, now=now)
        setting = uow.auto_topups.get(payment.line_id)
        if setting is not None:
            uow.auto_topups.put(replace(setting, failures=0, next_attempt_at=None), now=now)
        tell(uow, record=record, reference=_reference(payment), amount=payment.amount,
             kind="auto_topup_done", extra={}, now=now)  # fmt: skip

    def declined(
        self,
        uow: UnitOfWork,
        *,
        payment: StoredPayment,
        record: LineRecord,
        decline_code: str | None,
        now: datetime,
    ) -> None:
        _count_failure(uow, payment=payment, record=record, reason=decline_code, now=now)

    def refunded(self, uow: UnitOfWork, *, payment: StoredPayment, now: datetime) -> None:
        """Nothing more to do: the failure was told when the charge was settled."""


def _reference(payment: StoredPayment) -> str:
    return f"payment-{payment.id}"


def _count_failure(
    uow: UnitOfWork,
    *,
    payment: StoredPayment,
    record: LineRecord,
    reason: str | None,
    now: datetime,
) -> None:
    """Apply the retry rule to the line's setting and tell the subscriber."""
    setting = uow.auto_topups.get(payment.line_id)
    if setting is not None:
        failures = setting.failures + 1
        retry_at = next_renewal_attempt(failures=failures, failed_at=now)
        changed = replace(setting, failures=failures, next_attempt_at=retry_at)
        if retry_at is None:
            changed = replace(changed, enabled=False, failures=0)
        uow.auto_topups.put(changed, now=now)
    tell(uow, record=record, reference=_reference(payment), amount=payment.amount,
         kind="auto_topup_failed", extra={"reason": reason}, now=now)  # fmt: skip


def tell(
    uow: UnitOfWork,
    *,
    record: LineRecord,
    reference: str,
    amount: int,
    kind: str,
    extra: dict[str, object],
    now: datetime,
) -> None:
    """Queue an SMS about an auto top-up (``reference`` keys it: one message each)."""
    operator = record.operator
    assert operator.id is not None
    queue(
        uow,
        operator_id=operator.id,
        line_id=record.line.id,
        channel=SMS,
        key=f"{kind.replace('_', '-')}-{reference}",
        recipient=record.line.msisdn,
        payload={"kind": kind, "line_id": record.line.id, "amount": amount, **extra},
        now=now,
        not_before=sms_allowed_from(now, timezone=operator.timezone),
    )
