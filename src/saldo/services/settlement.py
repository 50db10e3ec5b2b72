"""What a payment for an order does when the payment flow (``payment_flow``) settles it:
pay and fulfil the order exactly once, or flag the money for a refund when the order can no
longer use it; and the moves of an order between its states.

Every path that fulfils takes its locks in one order (the line's row, then the payment's,
then the order's), and the decisive step is a conditional update: a payment moves from
``pending`` to a final status once (``PaymentRepository.finish``), an order from ``paid``
to ``fulfilled`` once. A webhook and a poll racing for the same payment therefore fulfil
once: the second finds the payment finished and does nothing.
"""

from __future__ import annotations

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
    receipt_number,
)
from saldo.services.fulfilment import Grant, addon_grant, fulfil_plan
from saldo.services.ports import LineRecord, StoredPayment, UnitOfWork
from saldo.services.ports.payments import (
    PaymentStatus,
)

BALANCE: Final = "balance"


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


class OrderFulfilment:
    """The payment flow's callbacks for a payment with the ``order`` purpose."""

    def paid(
        self, uow: UnitOfWork, *, payment: StoredPayment, record: LineRecord, now: datetime
    ) -> None:
        """Pay and fulfil the order (or, by the late-payment rule, apply the payment to an
        expired order), or flag the payment for a refund when the order cannot use it."""
        assert payment.order_id is not None
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
            uow.payments.flag_refund(payment.id, now=now)
            return
        if not mark_paid(uow, order_id=order.id, reason=reason, now=now):
            uow.payments.flag_refund(payment.id, now=now)  # the order moved on meanwhile
            return
        if recycled:
            _fail(uow, order_id=order.id, reason="the line was recycled", now=now)
            return
        fulfil_order(
            uow,
            order_id=order.id,
            record=record,
            paid_from=None,
            provider=payment.provider,
            now=now,
        )

    def declined(
        self,
        uow: UnitOfWork,
        *,
        payment: StoredPayment,
        record: LineRecord,
        decline_code: str | None,
        now: datetime,
    ) -> None:
        """A declined payment leaves its order payable, with another card or method."""

    def refunded(self, uow: UnitOfWork, *, payment: StoredPayment, now: datetime) -> None:
        """An order that could not use its money ends refunded."""
        assert payment.order_id is not None
        move_order(
            uow,
            payment.order_id,
            from_states=(OrderState.EXPIRED, OrderState.CANCELLED, OrderState.FAILED),
            to_state=OrderState.REFUNDED,
            reason=f"payment {payment.reference} refunded",
            now=now,
        )
