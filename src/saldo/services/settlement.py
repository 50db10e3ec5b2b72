"""Applying what processors say about payments: paying and fulfilling orders exactly once,
and refunding money an order cannot use. Asking again about pending payments and reading
webhooks is ``reconciliation``.

Every path that fulfils takes its locks in one order (the line's row, then the payment's,
then the order's), and the decisive step is a conditional update: a payment moves from
``pending`` to a final status once (``PaymentRepository.finish``), an order from ``paid``
to ``fulfilled`` once. A webhook and a poll racing for the same payment therefore fulfil
once: the second finds the payment finished and does nothing.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from saldo.domain.errors import SaldoError
from saldo.domain.ledger import OperatorAccount
from saldo.domain.lifecycle import LineState, state_at
from saldo.domain.money import Money
from saldo.domain.orders import (
    LatePayment,
    OrderState,
    check_transition,
    late_payment,
    next_payment_check,
    receipt_number,
)
from saldo.domain.periods import require_aware
from saldo.services.fulfilment import Grant, addon_grant, fulfil_plan
from saldo.services.payment_port import (
    PaymentError,
    PaymentProvider,
    PaymentResult,
    PaymentStatus,
)
from saldo.services.ports import LineRecord, UnitOfWork

BALANCE: Final = "balance"
log = logging.getLogger(__name__)


def installation_id(uow: UnitOfWork) -> str:
    """This installation's id: 16 random hex digits, made and kept the first time it is
    asked for. It begins every key Saldo sends a payment processor, so two databases sharing
    one processor account (staging and production; a demo made again after ``make clean``
    beside the sandbox's file) never send the same key for different payments."""
    with uow.reading():
        found = uow.payments.installation_id()
    if found is None:
        with uow:
            uow.payments.keep_installation_id(secrets.token_hex(8))
            uow.commit()
        with uow.reading():
            found = uow.payments.installation_id()
    assert found is not None
    return found


def processor_reference(installation: str, payment_id: int) -> str:
    """What Saldo calls a payment at its processor: the idempotency key and the order
    reference sent with it (stable across retries of the same payment, unique per payment
    and installation), by which a payment whose answer was lost is found again."""
    return f"saldo-{installation}-payment-{payment_id}"


class PaymentMismatch(SaldoError):
    """A processor reports an amount or currency other than the payment's: never applied."""

    code = "payment_mismatch"


class UnableToFulfil(SaldoError):
    code = "unable_to_fulfil"


def move_order(
    uow: UnitOfWork,
    order_id: int,
    *,
    from_states: Sequence[OrderState],
    to_state: OrderState,
    reason: str,
    now: datetime,
    fields: Mapping[str, Any] | None = None,
) -> bool:
    """Move the order to ``to_state`` if it is in one of ``from_states`` (one conditional
    update, its history appended); False, changing nothing, otherwise. Every move the
    services make passes through here, checked against the domain's transitions."""
    for state in from_states:
        check_transition(state, to_state)
    return uow.orders.change_state(
        order_id, from_states=from_states, to_state=to_state, reason=reason, now=now, fields=fields
    )


def mark_paid(uow: UnitOfWork, *, order_id: int, reason: str, now: datetime) -> bool:
    """Move an order awaiting payment (or expired, for a late payment) to paid."""
    return move_order(
        uow,
        order_id,
        from_states=(OrderState.AWAITING_PAYMENT, OrderState.EXPIRED),
        to_state=OrderState.PAID,
        reason=reason,
        now=now,
        fields={"paid_at": now},
    )


def fulfil_order(
    uow: UnitOfWork,
    *,
    order_id: int,
    record: LineRecord,
    paid_from: int | None,
    provider: str,
    now: datetime,
    balance_after: int | None = None,
) -> None:
    """Fulfil a paid order once: extend the line, grant the plan and add-ons, write the
    ledger (from ``paid_from``, or the operator's payments account), store the receipt
    number and queue the receipt email. The line's row is locked by the caller."""
    order = uow.orders.get(order_id)
    assert order is not None and order.state is OrderState.PAID
    operator, terms = record.operator, order.terms
    assert operator.id is not None
    plans = {plan.code: plan for plan in operator.plans}
    addons = {addon.code: addon for addon in operator.addons}
    plan = plans.get(terms.plan_code)
    if plan is None or any(code not in addons for code in terms.addon_codes):
        if provider == BALANCE:
            raise UnableToFulfil(f"order {order_id}: {terms.plan_code} is no longer sold")
        # The catalog no longer sells it: the processor's money goes back.
        _fail(uow, order_id=order_id, reason="the plan is no longer sold", now=now)
        return
    grants = [Grant(plan.allowances)] + [
        addon_grant(addons[code].allowances, validity_days=addons[code].validity_days, now=now)
        for code in terms.addon_codes
    ]
    if paid_from is None:
        paid_from = uow.accounts.operator_account(
            operator_id=operator.id,
            kind=OperatorAccount.PAYMENTS,
            unit=terms.currency,
            now=now,
        )
    fulfilled = fulfil_plan(
        uow,
        operator=operator,
        line=record.line,
        months=terms.months + terms.free_months,
        grants=grants,
        price=Money(terms.price, terms.currency),
        paid_from=paid_from,
        event_type="order",
        event_id=order_id,
        memo=f"order {order_id}: {plan.code} via {provider}",
        now=now,
        balances_after=None if balance_after is None else {paid_from: balance_after},
    )
    number = receipt_number(
        operator_slug=operator.slug,
        order_id=order_id,
        paid_at=now.astimezone(ZoneInfo(operator.timezone)),
    )
    changed = move_order(
        uow,
        order_id,
        from_states=(OrderState.PAID,),
        to_state=OrderState.FULFILLED,
        reason=f"validity extended to {fulfilled.valid_until:%Y-%m-%d %H:%M} UTC",
        now=now,
        fields={
            "fulfilled_at": now,
            "receipt_number": number,
            "valid_until_after": fulfilled.valid_until,
        },
    )
    assert changed
    if order.email:
        uow.outbox.add(
            operator_id=operator.id,
            line_id=record.line.id,
            channel="email",
            key=f"order-{order_id}-receipt",
            recipient=order.email,
            payload={"kind": "order_receipt", "order_id": order_id},
            now=now,
        )


def _fail(uow: UnitOfWork, *, order_id: int, reason: str, now: datetime) -> None:
    """A paid order that cannot be fulfilled: failed, and its payment owed back."""
    move_order(
        uow,
        order_id,
        from_states=(OrderState.PAID,),
        to_state=OrderState.FAILED,
        reason=reason,
        now=now,
    )
    for payment in uow.payments.for_order(order_id):
        if payment.status is PaymentStatus.SUCCEEDED and payment.provider != BALANCE:
            uow.payments.flag_refund(payment.id, now=now)


def apply_result(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    payment_id: int,
    result: PaymentResult,
    now: datetime,
) -> None:
    """Record what the processor says of a payment, in one transaction: a success pays and
    fulfils its order (or, by the late-payment rule, is applied to an expired order or
    flagged for a refund), a failure is recorded, a pending payment is scheduled for
    another look."""
    now = require_aware(now)
    with uow:
        apply_in(uow, payment_id=payment_id, result=result, now=now)
        uow.commit()


def apply_in(uow: UnitOfWork, *, payment_id: int, result: PaymentResult, now: datetime) -> None:
    payment = uow.payments.get(payment_id)
    assert payment is not None
    order = uow.orders.get(payment.order_id)
    assert order is not None
    record = uow.lines.get_by_msisdn(order.msisdn, for_update=True)
    assert record is not None
    if result.status is PaymentStatus.SUCCEEDED and result.amount != Money(
        payment.amount, payment.currency
    ):
        raise PaymentMismatch(
            f"payment {payment_id} is {Money(payment.amount, payment.currency)} here but "
            f"{result.amount} at {payment.provider} ({result.reference}); left for staff"
        )
    if payment.reference is None and result.reference:
        uow.payments.attach_reference(
            payment_id, reference=result.reference, card_last4=result.card_last4, now=now
        )
    if result.status is PaymentStatus.PENDING:
        if payment.status is PaymentStatus.PENDING and payment.next_check_at is None:
            uow.payments.schedule_check(
                payment_id, at=next_payment_check(checks=0, now=now), checks=0
            )
        return
    if not uow.payments.finish(
        payment_id, status=result.status, decline_code=result.decline_code, now=now
    ):
        if payment.status is PaymentStatus.FAILED and result.status is PaymentStatus.SUCCEEDED:
            # Money Saldo had given up on did arrive: it goes back.
            log.warning("payment %s succeeded after it was failed; refunding it", payment_id)
            uow.payments.flag_refund(payment_id, now=now)
        elif payment.status is not result.status:
            log.warning(
                "payment %s is %s; ignoring a later report that it %s",
                payment_id,
                payment.status,
                result.status,
            )
        return
    if result.status is PaymentStatus.FAILED:
        return
    order = uow.orders.get(payment.order_id, for_update=True)
    assert order is not None
    recycled = (
        state_at(
            stored_state=record.line.state,
            valid_until=record.line.valid_until,
            rules=record.operator.lifecycle,
            now=now,
        )
        is LineState.RECYCLED
    )
    if order.state.payable:
        reason = f"paid with {payment.provider}"
    elif late_payment(state=order.state, line_recycled=recycled) is LatePayment.APPLY:
        reason = f"late payment with {payment.provider} applied at the quoted price"
    else:
        uow.payments.flag_refund(payment_id, now=now)
        return
    if not mark_paid(uow, order_id=order.id, reason=reason, now=now):
        uow.payments.flag_refund(payment_id, now=now)  # the order moved on meanwhile
        return
    if recycled:
        _fail(uow, order_id=order.id, reason="the line was recycled", now=now)
        return
    fulfil_order(
        uow, order_id=order.id, record=record, paid_from=None, provider=payment.provider, now=now
    )


def settle_refunds(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    now: datetime,
    order_id: int | None = None,
    limit: int = 100,
) -> int:
    """Give back the payments flagged for a refund (of one order, when ``order_id`` is
    given); return how many were refunded. A processor that fails leaves the refund for the
    next run."""
    with uow.reading():
        due = uow.payments.refunds_due(limit=limit, order_id=order_id)
    if not due:
        return 0
    installation = installation_id(uow)
    refunded = 0
    for payment in due:
        processor = providers.get(payment.provider)
        if processor is None or payment.reference is None:
            continue
        try:
            processor.refund(
                payment.reference,
                amount=Money(payment.amount, payment.currency),
                idempotency_key=f"{processor_reference(installation, payment.id)}-refund",
            )
        except PaymentError as error:
            log.warning("refund of payment %s not made yet: %s", payment.id, error)
            continue
        with uow:
            if uow.payments.mark_refunded(payment.id, now=now):
                refunded += 1
                move_order(
                    uow,
                    payment.order_id,
                    from_states=(OrderState.EXPIRED, OrderState.CANCELLED, OrderState.FAILED),
                    to_state=OrderState.REFUNDED,
                    reason=f"payment {payment.reference} refunded",
                    now=now,
                )
            uow.commit()
    return refunded


def settle_refunds_quietly(
    uow: UnitOfWork, providers: Mapping[str, PaymentProvider], *, order_id: int, now: datetime
) -> None:
    """Make one order's refunds now, after its payment was applied and committed; any
    failure is logged and left to the reconciliation job, never reported to a payer whose
    order is already settled."""
    try:
        settle_refunds(uow, providers, now=now, order_id=order_id)
    except Exception:  # the job retries; the caller's outcome is already committed
        log.exception("refunds of order %s left to the reconciliation job", order_id)
