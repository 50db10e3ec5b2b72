"""Placing, looking up, cancelling and expiring orders, and the errors of ordering.

``create_order`` stores a draft with its quote (rate locked for 15 minutes); paying it is
``order_payment.pay_order``; applying what processors say is ``settlement``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from saldo.domain.email_address import check_email
from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.numbering import lookup_msisdn
from saldo.domain.operator import Presentation
from saldo.domain.orders import QUOTE_VALIDITY, OrderState
from saldo.domain.periods import require_aware
from saldo.services.adjust_balance import MAX_REASON
from saldo.services.idempotency import (
    check_key,
    fingerprint,
    replay_of,
)
from saldo.services.lines import line_and_operator, line_record, live_state
from saldo.services.ports import (
    DuplicateIdempotencyKey,
    OrderEvent,
    OrderTerms,
    StoredOrder,
    StoredPayment,
    UnitOfWork,
)
from saldo.services.quotes import quote_order
from saldo.services.receipts import Receipt, receipt_for
from saldo.services.settlement import (
    move_order,
)


class UnableToOrder(SaldoError):
    code = "unable_to_order"


class OrderNotFound(UnableToOrder):
    code = "order_not_found"


class OrderNotPayable(UnableToOrder):
    code = "order_not_payable"


class PlacedBy:
    SUBSCRIBER = "subscriber"
    AGENT = "agent"
    AUTO_RENEWAL = "auto_renewal"


@dataclass(frozen=True, slots=True)
class OrderDetails:
    order: StoredOrder
    history: tuple[OrderEvent, ...]
    payments: tuple[StoredPayment, ...]
    # How it is shown: as its line's (as the operator's own once the number is no longer
    # that line's).
    presentation: Presentation
    receipt: Receipt | None = None  # when asked for


@dataclass(frozen=True, slots=True)
class ListedOrder:
    order: StoredOrder
    presentation: Presentation  # as OrderDetails.presentation


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    order: StoredOrder
    presentation: Presentation  # of the order's line


def create_order(
    uow: UnitOfWork,
    *,
    msisdn: str,
    plan_code: str,
    addon_codes: tuple[str, ...] = (),
    pay_in: str,
    method: str,
    email: str | None,
    channel: Channel,
    placed_by: str,
    idempotency_key: str,
    max_rate_age: timedelta,
    now: datetime,
    saldo_key: bool = False,
) -> StoredOrder:
    """Store a draft order at today's quote (see ``quote_order``), its rate locked until
    ``now + QUOTE_VALIDITY``. The same key again returns the same order.

    Raises everything ``quote_order`` raises; LineRecycled; IdempotencyKeyReused.
    """
    now = require_aware(now)
    key = check_key(idempotency_key, internal_allowed=saldo_key)
    number = lookup_msisdn(msisdn)
    email = None if email is None else check_email(email)  # the receipt must be deliverable
    # The whole request: a retry repeats it all (add-ons in any order), and the same key with
    # another email or another agent is another request, not a replay.
    request = fingerprint(
        "order",
        number,
        plan_code.strip().lower(),
        *sorted(code.strip().lower() for code in addon_codes),
        pay_in.upper(),
        method,
        email or "",
        placed_by,
    )
    with uow.reading():
        record = line_record(uow, number=number)
        assert record.operator.id is not None
        replayed = uow.orders.get_by_key(operator_id=record.operator.id, idempotency_key=key)
    if replayed is not None:
        # A replay returns the first order, even once its quote could no longer be made.
        return replay_of(replayed, request=request, key=key)
    quote = quote_order(
        uow,
        msisdn=number,
        plan_code=plan_code,
        addon_codes=addon_codes,
        pay_in=pay_in,
        method=method,
        max_rate_age=max_rate_age,
        now=now,
    )
    terms = OrderTerms(
        plan_code=quote.plan.code,
        addon_codes=tuple(addon.code for addon in quote.addons),
        months=quote.plan.months,
        free_months=quote.free_months,
        promotion=quote.promotion,
        currency=quote.price.currency,
        gross=quote.gross.minor,
        discount=quote.discount.minor,
        price=quote.price.minor,
        tax_rate=str(quote.tax_rate),
        net=quote.net.minor,
        tax=quote.tax.minor,
        pay_in=quote.pay_in,
        method=quote.method.value,
        market_rate=None if quote.market_rate is None else str(quote.market_rate.rate),
        rate=None if quote.rate is None else str(quote.rate.rate),
        rate_source=None if quote.market_rate is None else quote.market_rate.source,
        rate_fetched_at=None if quote.market_rate is None else quote.market_rate.fetched_at,
        spread=None if quote.spread is None else str(quote.spread),
        converted=quote.converted.minor,
        fee=quote.fee.minor,
        total=quote.total.minor,
    )
    with uow:
        record = line_record(uow, number=number)
        operator_id = record.operator.id
        assert operator_id is not None
        previous = uow.orders.get_by_key(operator_id=operator_id, idempotency_key=key)
        if previous is None:
            live_state(line=record.line, operator=record.operator, now=now)
            try:
                order_id = uow.orders.add(
                    operator_id=operator_id,
                    line_id=record.line.id,
                    terms=terms,
                    channel=channel.value,
                    placed_by=placed_by,
                    email=email,
                    idempotency_key=key,
                    request_fingerprint=request,
                    expires_at=now + QUOTE_VALIDITY,
                    now=now,
                )
            except DuplicateIdempotencyKey:
                uow.rollback()
                previous = uow.orders.get_by_key(operator_id=operator_id, idempotency_key=key)
            else:
                uow.commit()
    if previous is None:
        return get_order(uow, order_id)
    return replay_of(previous, request=request, key=key)


def place_order(
    uow: UnitOfWork,
    *,
    msisdn: str,
    plan_code: str,
    addon_codes: tuple[str, ...] = (),
    pay_in: str | None,
    method: str,
    email: str | None,
    channel: Channel,
    placed_by: str,
    idempotency_key: str,
    max_rate_age: timedelta,
    now: datetime,
) -> PlacedOrder:
    """``create_order``, paid in ``pay_in`` or, when it is None, in the line's own currency,
    ready to show. Raises InvalidMsisdn, LineNotFound, then everything ``create_order``
    raises."""
    record = line_and_operator(uow, msisdn=msisdn)
    line, operator = record.line, record.operator
    order = create_order(
        uow,
        msisdn=line.msisdn,
        plan_code=plan_code,
        addon_codes=addon_codes,
        pay_in=pay_in or operator.currency,
        method=method,
        email=email,
        channel=channel,
        placed_by=placed_by,
        idempotency_key=idempotency_key,
        max_rate_age=max_rate_age,
        now=now,
    )
    return PlacedOrder(order=order, presentation=operator.presentation_for(line.language))


def get_order(uow: UnitOfWork, order_id: int) -> StoredOrder:
    with uow.reading():
        order = uow.orders.get(order_id)
    if order is None:
        raise OrderNotFound(f"there is no order {order_id}")
    return order


def order_details(uow: UnitOfWork, *, order_id: int, with_receipt: bool = False) -> OrderDetails:
    """The order, its transitions and its payments, and ``with_receipt`` its receipt, read
    at once. Raises OrderNotFound; with_receipt, NoReceipt when it is not fulfilled."""
    with uow.reading():
        order = uow.orders.get(order_id)
        if order is None:
            raise OrderNotFound(f"there is no order {order_id}")
        return OrderDetails(
            presentation=presentation_of(uow, order),
            order=order,
            history=tuple(uow.orders.history(order_id)),
            payments=tuple(uow.payments.for_order(order_id)),
            receipt=receipt_for(uow, order_id=order_id) if with_receipt else None,
        )


def list_orders(
    uow: UnitOfWork, *, msisdn: str | None, state: OrderState | None, limit: int
) -> list[StoredOrder]:
    """Orders, newest first, of one line or all (of the unit of work's operator)."""
    with uow.reading():
        return _recent(uow, msisdn=msisdn, state=state, limit=limit)


def _recent(
    uow: UnitOfWork, *, msisdn: str | None, state: OrderState | None, limit: int
) -> list[StoredOrder]:
    line_id = None
    if msisdn is not None:
        line_id = line_record(uow, number=lookup_msisdn(msisdn)).line.id
    return uow.orders.recent(line_id=line_id, state=state, limit=limit)


def order_listing(
    uow: UnitOfWork, *, msisdn: str | None, state: OrderState | None, limit: int
) -> list[ListedOrder]:
    """``list_orders``, each order with how it is shown (read in the same transaction, once
    per line)."""
    with uow.reading():
        orders = _recent(uow, msisdn=msisdn, state=state, limit=limit)
        shown: dict[int, Presentation] = {}
        for order in orders:
            if order.line_id not in shown:
                shown[order.line_id] = presentation_of(uow, order)
        return [ListedOrder(order=order, presentation=shown[order.line_id]) for order in orders]


def presentation_of(uow: UnitOfWork, order: StoredOrder) -> Presentation:
    """How the order is shown: as its line, read in the caller's open transaction; as its
    operator's first language once the number is no longer that line's."""
    found = uow.lines.get_by_msisdn(order.msisdn)
    if found is not None and found.line.id == order.line_id:
        return found.operator.presentation_for(found.line.language)
    operator = uow.operators.get(order.operator_id)
    assert operator is not None
    return operator.presentation_for(operator.languages[0])


def cancel_order(uow: UnitOfWork, *, order_id: int, reason: str, now: datetime) -> StoredOrder:
    """Cancel an order not yet paid. A payment still pending is refunded if it succeeds
    later. Raises OrderNotFound, OrderNotPayable; UnableToOrder for a blank reason or one
    longer than MAX_REASON characters."""
    now = require_aware(now)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise UnableToOrder(
            f"a reason is 1 to {MAX_REASON} characters (this one has {len(reason)})"
        )
    with uow:
        order = uow.orders.get(order_id)
        if order is None:
            raise OrderNotFound(f"there is no order {order_id}")
        if not move_order(
            uow,
            order_id,
            from_states=(OrderState.DRAFT, OrderState.AWAITING_PAYMENT),
            to_state=OrderState.CANCELLED,
            reason=reason,
            now=now,
        ):
            raise OrderNotPayable(f"order {order_id} is {order.state}; it cannot be cancelled")
        uow.commit()
    return get_order(uow, order_id)


def expire_orders(uow: UnitOfWork, *, now: datetime, limit: int = 500) -> int:
    """Expire drafts and unpaid orders whose quote ran out; return how many."""
    now = require_aware(now)
    expired = 0
    with uow:
        for order_id in uow.orders.due_expiry(now=now, limit=limit):
            expired += move_order(
                uow,
                order_id,
                from_states=(OrderState.DRAFT, OrderState.AWAITING_PAYMENT),
                to_state=OrderState.EXPIRED,
                reason="quote expired unpaid",
                now=now,
            )
        uow.commit()
    return expired
