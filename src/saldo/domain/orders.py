"""Orders: a plan for 1, 3 or 12 months (and add-ons) bought for one line, and the rules of
their life.

An order is born a ``draft`` holding its quote, with the exchange rate locked for
``QUOTE_VALIDITY``. Confirming it makes it ``awaiting_payment``; a payment that succeeds makes
it ``paid``, and fulfilment (validity extended, allowances granted, ledger written) makes it
``fulfilled``, exactly once. A declined payment leaves it payable with another method. It may
instead end ``expired`` (its quote ran out unpaid), ``cancelled``, ``failed`` (it can no
longer be fulfilled) or ``refunded``.

Late payments follow one rule (``late_payment``): money that arrives for an order that
expired is applied, at the price locked in its quote, because the payer paid exactly what
they were shown; it is refunded only when the order was cancelled or the line can no longer
be renewed (it was recycled meanwhile).
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Final

from saldo.domain.errors import SaldoError

QUOTE_VALIDITY: Final = timedelta(minutes=15)

# Auto-renewal: after a failed attempt, try again after 1 day, then after 3 more days, then
# stop and tell the subscriber.
RENEWAL_RETRY_DELAYS: Final = (timedelta(days=1), timedelta(days=3))


# A pending payment is asked about again after 1, 5, 15 and 60 minutes, then 4 hours, then
# every 6 hours until the processor settles or fails it.
PAYMENT_CHECK_DELAYS: Final = tuple(
    timedelta(minutes=minutes) for minutes in (1, 5, 15, 60, 240, 360)
)


def next_payment_check(*, checks: int, now: datetime) -> datetime:
    """When to ask the processor again about a payment already asked about ``checks``
    times."""
    return now + PAYMENT_CHECK_DELAYS[min(checks, len(PAYMENT_CHECK_DELAYS) - 1)]


class OrderState(enum.StrEnum):
    DRAFT = "draft"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    FULFILLED = "fulfilled"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"

    @property
    def payable(self) -> bool:
        """Whether a new payment may be started for an order in this state."""
        return self in (OrderState.DRAFT, OrderState.AWAITING_PAYMENT)


ALLOWED_TRANSITIONS: Final[dict[OrderState, frozenset[OrderState]]] = {
    OrderState.DRAFT: frozenset(
        {OrderState.AWAITING_PAYMENT, OrderState.EXPIRED, OrderState.CANCELLED}
    ),
    OrderState.AWAITING_PAYMENT: frozenset(
        {OrderState.PAID, OrderState.EXPIRED, OrderState.CANCELLED}
    ),
    # Failed: paid, but it can no longer be fulfilled (the line was recycled meanwhile).
    OrderState.PAID: frozenset({OrderState.FULFILLED, OrderState.FAILED}),
    # A payment that settles after its order expired is applied (see ``late_payment``).
    OrderState.EXPIRED: frozenset({OrderState.PAID, OrderState.REFUNDED}),
    OrderState.CANCELLED: frozenset({OrderState.REFUNDED}),
    OrderState.FAILED: frozenset({OrderState.REFUNDED}),
    OrderState.FULFILLED: frozenset(),
    OrderState.REFUNDED: frozenset(),
}


class UnableToChangeOrder(SaldoError):
    code = "order_state_conflict"


def check_transition(current: OrderState, wanted: OrderState) -> None:
    """Return if an order may go from ``current`` to ``wanted``; raise UnableToChangeOrder
    otherwise (a fulfilled order is never paid again, a refunded one never fulfilled)."""
    if wanted not in ALLOWED_TRANSITIONS[current]:
        raise UnableToChangeOrder(f"an order that is {current} cannot become {wanted}")


class LatePayment(enum.StrEnum):
    APPLY = "apply"
    REFUND = "refund"


def late_payment(*, state: OrderState, line_recycled: bool) -> LatePayment:
    """What to do with money that succeeded for an order no longer awaiting it: apply it to
    an expired order (at its locked price), refund it otherwise. An order that is paid or
    fulfilled already means a second payment for it: refunded."""
    if state is OrderState.EXPIRED and not line_recycled:
        return LatePayment.APPLY
    return LatePayment.REFUND


def receipt_number(*, operator_slug: str, order_id: int, paid_at: datetime) -> str:
    """The number printed on a receipt: the operator, the year paid and the order
    (``MOVISTAR-AR-2026-000042``); unique because the order id is."""
    return f"{operator_slug.upper()}-{paid_at.year}-{order_id:06d}"


def next_renewal_attempt(*, failures: int, failed_at: datetime) -> datetime | None:
    """When auto-renewal tries again after its ``failures``-th failed attempt in a row, or
    None when it has tried enough and the subscriber is to be told."""
    if failures < 1:
        raise ValueError("next_renewal_attempt is asked after a failure")
    if failures > len(RENEWAL_RETRY_DELAYS):
        return None
    return failed_at + RENEWAL_RETRY_DELAYS[failures - 1]
