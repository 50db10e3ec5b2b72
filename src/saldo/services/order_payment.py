"""Paying an order.

``pay_order`` confirms the order and takes the money: from the line's balance inside one
database transaction, or through a payment processor by the one payment flow
(``payment_flow``), so that no processor call ever happens inside a database transaction and
a crash between its steps loses nothing:

1. claim: record the payment (purpose ``order``) as pending, under the caller's idempotency
   key, with the order locked and confirmed (commit);
2. ``payment_flow.charge``: ask the processor, with the payment's own key (a repeat returns
   the first outcome), and apply the outcome: a success pays and fulfils the order exactly
   once (``settlement.OrderFulfilment``), a decline leaves it payable, a pending or
   unanswered payment is left to the reconciliation job and the processor's webhooks.

``checkout`` is ``pay_order`` as a payer at a till asks for it: the method as quoted unless
another is chosen, the receipt emailed at once (``send_receipts``, rather than left to the
worker), the order ready to show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from saldo.domain.money import Money
from saldo.domain.numbering import mask_msisdn
from saldo.domain.operator import Presentation
from saldo.domain.orders import OrderState
from saldo.domain.periods import require_aware
from saldo.domain.promotions import FirstOrderDiscount, applied_names
from saldo.domain.quotes import PaymentMethod
from saldo.services.buy_plan import find_plan, is_first_order, pay_from_balance
from saldo.services.idempotency import IdempotencyKeyReused, check_key
from saldo.services.lines import live_state
from saldo.services.orders import (
    OrderNotFound,
    OrderNotPayable,
    UnableToOrder,
    get_order,
    presentation_of,
)
from saldo.services.outbox import Delivery, Renderer, Senders, deliver_outbox
from saldo.services.payment_flow import charge, processor_for
from saldo.services.ports import (
    DuplicateIdempotencyKey,
    LineRecord,
    PaymentPurpose,
    StoredOrder,
    StoredPayment,
    UnitOfWork,
)
from saldo.services.ports.mail import Mailer
from saldo.services.ports.payments import PaymentProvider, PaymentRefused, PaymentStatus
from saldo.services.settlement import BALANCE, fulfil_order, mark_paid, move_order

# The test-card processor, which ``checkout`` pays with by default (outside production).
SANDBOX = "sandbox"


class QuoteExpired(UnableToOrder):
    code = "quote_expired"


class PaymentInProgress(UnableToOrder):
    code = "payment_in_progress"


class PaymentDeclined(UnableToOrder):
    """The processor declined the payment; the order stays payable with another card or
    method. Raised after the decline is recorded."""

    code = "payment_declined"

    def __init__(self, message: str, *, order_id: int, decline_code: str | None) -> None:
        super().__init__(message)
        self.order_id = order_id
        self.decline_code = decline_code


class CardNumberRefused(UnableToOrder):
    """A card number for a processor other than the sandbox: real processors take a token
    made by their own card form; a card number typed here would pass through Saldo (and
    wherever it was typed). ``provider`` is the processor it was given for."""

    code = "card_number_refused"

    def __init__(self, message: str, *, provider: str) -> None:
        super().__init__(message)
        self.provider = provider


@dataclass(frozen=True, slots=True)
class PaidOrder:
    """An order after ``checkout``: fulfilled, or awaiting a payment that is pending at
    ``provider``, and the receipt emails sent with it."""

    order: StoredOrder
    provider: str
    receipts: Delivery
    presentation: Presentation  # of the order's line


def checkout(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    order_id: int,
    provider: str | None,
    card: str | None,
    token: str | None,
    idempotency_key: str,
    mailer: Mailer | None,
    render: Renderer,
    now: datetime,
) -> PaidOrder:
    """``pay_order`` with ``provider``, or, when it is None, as the order was quoted: from
    the balance, or with the sandbox's test ``card``. A real processor charges a saved
    method's ``token``, never a ``card``. Then the emails waiting in the outbox, the receipt
    among them, are sent through ``mailer`` (``send_receipts``).

    Raises OrderNotFound, CardNumberRefused, then everything ``pay_order`` raises (and then
    no email is sent)."""
    order = get_order(uow, order_id)
    chosen = provider or (BALANCE if order.terms.method == BALANCE else SANDBOX)
    if card is not None and chosen != SANDBOX:
        raise CardNumberRefused(
            f"a card number is for sandbox test cards; give {chosen} a saved method's token",
            provider=chosen,
        )
    paid = pay_order(
        uow,
        providers,
        order_id=order_id,
        provider=chosen,
        source=token or card,
        idempotency_key=idempotency_key,
        now=now,
    )
    receipts = send_receipts(uow, mailer=mailer, render=render, now=now)
    with uow.reading():
        presentation = presentation_of(uow, paid)
    return PaidOrder(order=paid, provider=chosen, receipts=receipts, presentation=presentation)


def send_receipts(
    uow: UnitOfWork, *, mailer: Mailer | None, render: Renderer, now: datetime
) -> Delivery:
    """Send the emails waiting in the outbox (receipts among them) through ``mailer``; SMS
    and webhooks are left to the worker, and everything when there is no mailer."""
    now = require_aware(now)
    if mailer is None:
        return Delivery()
    return deliver_outbox(uow, senders=Senders(email=mailer), render=render, now=now)


def pay_order(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    order_id: int,
    provider: str,
    source: str | None,
    idempotency_key: str,
    now: datetime,
    saldo_key: bool = False,
) -> StoredOrder:
    """Confirm the order and pay it with ``provider`` (``balance``, or a processor named in
    ``providers`` charging ``source``: a sandbox test card, a saved token). Returns the order
    as it stands after: fulfilled, or awaiting a payment that is pending. The same key again
    returns the first attempt's outcome and never charges twice.

    Raises OrderNotFound, QuoteExpired (the order is then expired), OrderNotPayable,
    PaymentInProgress, UnknownPaymentProvider, NotEnoughBalance, LineRecycled, PaymentDeclined,
    PaymentRefused, IdempotencyKeyReused.
    """
    now = require_aware(now)
    key = check_key(idempotency_key, internal_allowed=saldo_key)
    if provider == BALANCE:
        return _pay_from_balance(uow, order_id=order_id, key=key, now=now)
    processor = processor_for(providers, name=provider, also=(BALANCE,))
    if not source:
        raise OrderNotPayable(f"paying with {provider} needs a card or a saved method")
    payment, first_send = _claim_payment(
        uow, order_id=order_id, provider=provider, key=key, now=now
    )
    if payment.status is PaymentStatus.PENDING and payment.reference is None:
        order = get_order(uow, order_id)
        try:
            payment = charge(
                uow,
                processor,
                payment=payment,
                source=source,
                # a processor's dashboard is no place for a subscriber's whole number
                description=(
                    f"Order {order.id}: {order.terms.plan_code} for {mask_msisdn(order.msisdn)}"
                ),
                payer_email=order.email,
                providers=providers,
                first_send=first_send,
                now=now,
            )
        except PaymentRefused:
            if not first_send:
                # The first request may have charged: never call that a decline.
                raise PaymentInProgress(
                    f"the first payment for order {order_id} is still being checked with "
                    f"{provider}; it settles within minutes"
                ) from None
            raise
    else:
        with uow.reading():
            payment = uow.payments.get(payment.id) or payment
    if payment.status is PaymentStatus.FAILED:
        raise PaymentDeclined(
            f"the payment was declined ({payment.decline_code or 'no reason given'}); "
            "the order can still be paid with another card or method",
            order_id=order_id,
            decline_code=payment.decline_code,
        )
    return get_order(uow, order_id)


def _lock(uow: UnitOfWork, order_id: int) -> tuple[StoredOrder, LineRecord]:
    """The order and its line, both locked in the one order every path takes: the line's
    row, then the order's. Raises OrderNotFound."""
    found = uow.orders.get(order_id)
    if found is None:
        raise OrderNotFound(f"there is no order {order_id}")
    record = uow.lines.get_by_msisdn(found.msisdn, for_update=True)
    order = uow.orders.get(order_id, for_update=True)
    assert record is not None and order is not None
    return order, record


def _claim_payment(
    uow: UnitOfWork, *, order_id: int, provider: str, key: str, now: datetime
) -> tuple[StoredPayment, bool]:
    """The payment under ``key`` and whether it is new: the one recorded before (a replay),
    or a new pending one after confirming the order, with the order locked so that no two
    payments for it are ever pending at once."""
    with uow:
        order, record = _lock(uow, order_id)
        existing = _earlier_payment(uow, order=order, provider=provider, key=key)
        if existing is not None:
            return existing, False
        order = _payable(uow, order=order, record=record, now=now)
        if order.terms.method == PaymentMethod.BALANCE:
            raise OrderNotPayable(
                f"order {order_id} was quoted to be paid from the balance; pay it with balance"
            )
        if any(p.status is PaymentStatus.PENDING for p in uow.payments.for_order(order_id)):
            raise PaymentInProgress(
                f"a payment for order {order_id} is still pending; wait for it to settle"
            )
        _confirm(uow, order, now=now)
        try:
            payment_id = uow.payments.add(
                operator_id=order.operator_id,
                line_id=order.line_id,
                purpose=PaymentPurpose.ORDER,
                order_id=order_id,
                provider=provider,
                idempotency_key=key,
                amount=order.terms.total,
                currency=order.terms.pay_in,
                now=now,
            )
        except DuplicateIdempotencyKey:
            raise PaymentInProgress(f"another request is paying with key {key!r}") from None
        uow.commit()
        claimed = uow.payments.get(payment_id)
    assert claimed is not None
    return claimed, True


def _earlier_payment(
    uow: UnitOfWork, *, order: StoredOrder, provider: str, key: str
) -> StoredPayment | None:
    """The order's payment already made under ``key`` (a replay); IdempotencyKeyReused when
    the key paid another order."""
    existing = uow.payments.get_by_key(
        operator_id=order.operator_id, provider=provider, idempotency_key=key
    )
    if existing is not None and existing.order_id != order.id:
        raise IdempotencyKeyReused(f"idempotency key {key!r} paid another order")
    return existing


def _payable(
    uow: UnitOfWork, *, order: StoredOrder, record: LineRecord, now: datetime
) -> StoredOrder:
    """The (locked) order, if a payment may start for it now, before any money is taken: the
    line not recycled, the plan still sold, and a first-order discount still the line's
    first. An order whose quote ran out is expired (committed) and QuoteExpired raised."""
    if not order.state.payable:
        raise OrderNotPayable(f"order {order.id} is {order.state}; it cannot be paid")
    live_state(line=record.line, operator=record.operator, now=now)
    find_plan(record.operator, order.terms.plan_code)
    first_order = {
        promotion.name
        for promotion in record.operator.promotions
        if isinstance(promotion, FirstOrderDiscount)
    }
    quoted = applied_names(order.terms.promotion)
    if quoted & first_order and not is_first_order(uow, line_id=order.line_id):
        raise OrderNotPayable(
            f"order {order.id} was quoted with a first-order discount, and the line has "
            "bought a plan since; place the order again"
        )
    if now >= order.expires_at:
        move_order(
            uow,
            order.id,
            from_states=(OrderState.DRAFT, OrderState.AWAITING_PAYMENT),
            to_state=OrderState.EXPIRED,
            reason="quote expired unpaid",
            now=now,
        )
        uow.commit()
        raise QuoteExpired(
            f"the quote of order {order.id} expired at {order.expires_at:%H:%M} UTC; "
            "place the order again for today's price"
        )
    return order


def _confirm(uow: UnitOfWork, order: StoredOrder, *, now: datetime) -> None:
    if order.state is OrderState.DRAFT:
        move_order(
            uow,
            order.id,
            from_states=(OrderState.DRAFT,),
            to_state=OrderState.AWAITING_PAYMENT,
            reason="confirmed by the payer",
            now=now,
        )


def _pay_from_balance(uow: UnitOfWork, *, order_id: int, key: str, now: datetime) -> StoredOrder:
    """Debit the line's main money and fulfil the order, in one transaction."""
    with uow:
        order, record = _lock(uow, order_id)
        if _earlier_payment(uow, order=order, provider=BALANCE, key=key) is None:
            order = _payable(uow, order=order, record=record, now=now)
            if order.terms.method != PaymentMethod.BALANCE:
                raise OrderNotPayable(
                    f"order {order_id} was quoted for {order.terms.method}; "
                    "place a new order to pay it from the balance"
                )
            plan = find_plan(record.operator, order.terms.plan_code)
            price = Money(order.terms.price, order.terms.currency)
            balance = pay_from_balance(uow, record=record, plan=plan, price=price, now=now)
            _confirm(uow, order, now=now)
            payment_id = uow.payments.add(
                operator_id=order.operator_id,
                line_id=order.line_id,
                purpose=PaymentPurpose.ORDER,
                order_id=order_id,
                provider=BALANCE,
                idempotency_key=key,
                amount=price.minor,
                currency=price.currency,
                now=now,
            )
            uow.payments.finish(
                payment_id, status=PaymentStatus.SUCCEEDED, decline_code=None, now=now
            )
            if not mark_paid(uow, order_id=order_id, reason="paid from the balance", now=now):
                raise OrderNotPayable(f"order {order_id} changed while it was being paid")
            fulfil_order(
                uow,
                order_id=order_id,
                record=record,
                paid_from=record.main_bucket_id,
                balance_after=balance,
                provider=BALANCE,
                now=now,
            )
            uow.commit()
    return get_order(uow, order_id)
