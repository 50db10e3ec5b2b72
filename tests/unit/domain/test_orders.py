"""The rules of an order's life: allowed transitions, the late-payment rule, receipt numbers,
and the backoff of payment checks and auto-renewal retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saldo.domain.orders import (
    ALLOWED_TRANSITIONS,
    LatePayment,
    OrderState,
    UnableToChangeOrder,
    check_transition,
    late_payment,
    next_payment_check,
    next_renewal_attempt,
    receipt_number,
)

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)

ALLOWED = [
    ("draft", "awaiting_payment"),
    ("draft", "expired"),
    ("draft", "cancelled"),
    ("awaiting_payment", "paid"),
    ("awaiting_payment", "expired"),
    ("awaiting_payment", "cancelled"),
    ("paid", "fulfilled"),
    ("paid", "failed"),
    ("expired", "paid"),
    ("expired", "refunded"),
    ("cancelled", "refunded"),
    ("failed", "refunded"),
]


@pytest.mark.parametrize(("current", "wanted"), ALLOWED)
def test_each_documented_transition_is_allowed(current: str, wanted: str) -> None:
    check_transition(OrderState(current), OrderState(wanted))


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (a.value, b.value)
        for a in OrderState
        for b in OrderState
        if (a.value, b.value) not in ALLOWED
    ],
)
def test_every_other_transition_is_refused(current: str, wanted: str) -> None:
    with pytest.raises(UnableToChangeOrder):
        check_transition(OrderState(current), OrderState(wanted))


def test_fulfilled_and_refunded_are_final() -> None:
    assert ALLOWED_TRANSITIONS[OrderState.FULFILLED] == frozenset()
    assert ALLOWED_TRANSITIONS[OrderState.REFUNDED] == frozenset()


def test_only_drafts_and_orders_awaiting_payment_are_payable() -> None:
    assert {s for s in OrderState if s.payable} == {OrderState.DRAFT, OrderState.AWAITING_PAYMENT}


@pytest.mark.parametrize(
    ("state", "recycled", "action"),
    [
        (OrderState.EXPIRED, False, LatePayment.APPLY),
        (OrderState.EXPIRED, True, LatePayment.REFUND),
        (OrderState.CANCELLED, False, LatePayment.REFUND),
        (OrderState.FULFILLED, False, LatePayment.REFUND),  # a second payment
        (OrderState.FAILED, False, LatePayment.REFUND),
    ],
)
def test_a_late_payment_is_applied_to_an_expired_order_and_refunded_otherwise(
    state: OrderState, recycled: bool, action: LatePayment
) -> None:
    assert late_payment(state=state, line_recycled=recycled) is action


def test_a_receipt_number_names_the_operator_the_year_and_the_order() -> None:
    number = receipt_number(operator_slug="claro-co", order_id=42, paid_at=NOW)

    assert number == "CLARO-CO-2026-000042"


def test_pending_payments_are_asked_about_again_with_growing_delays() -> None:
    delays = [next_payment_check(checks=n, now=NOW) - NOW for n in range(8)]

    assert [int(d.total_seconds() // 60) for d in delays] == [1, 5, 15, 60, 240, 360, 360, 360]


def test_auto_renewal_retries_after_one_day_then_three_then_stops() -> None:
    assert next_renewal_attempt(failures=1, failed_at=NOW) == NOW + timedelta(days=1)
    assert next_renewal_attempt(failures=2, failed_at=NOW) == NOW + timedelta(days=3)
    assert next_renewal_attempt(failures=3, failed_at=NOW) is None
