"""Orders on SQLite and PostgreSQL: every state transition, payment from the balance and
through the sandbox processor with each of its test cards, the expired-quote and
late-payment rules, and ``saldo audit`` clean after each."""

from __future__ import annotations

from datetime import timedelta

import pytest

from saldo.adapters.clock import FixedClock
from saldo.adapters.payments import sandbox as cards
from saldo.bootstrap import Saldo
from saldo.catalog.schema import OperatorSpec, bundled_specs
from saldo.domain.buckets import BucketKind
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.orders import OrderState
from saldo.services.audit import audit_ledger
from saldo.services.buy_plan import NotEnoughBalance, UnknownPlan
from saldo.services.idempotency import IdempotencyKeyReused
from saldo.services.lines import LineRecycled, NewLine, add_line
from saldo.services.operators import register_operator
from saldo.services.order_payment import (
    PaymentDeclined,
    PaymentInProgress,
    QuoteExpired,
    pay_order,
)
from saldo.services.orders import (
    OrderNotPayable,
    PlacedBy,
    UnableToOrder,
    cancel_order,
    create_order,
    expire_orders,
    order_details,
)
from saldo.services.ports import StoredOrder
from saldo.services.ports.payments import PaymentStatus
from saldo.services.quotes import quote_order
from saldo.services.reconciliation import reconcile_payments
from saldo.services.top_up import top_up

LINE = "+5491155551234"  # movistar-ar: pack-mensual-1m $9.000, card fee 3.5 %, no promotions
MAX_RATE_AGE = timedelta(hours=24)


@pytest.fixture
def shop(saldo: Saldo) -> Saldo:
    now = saldo.clock.now()
    add_line(saldo.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=now)
    top_up(
        saldo.uow(),
        msisdn=LINE,
        amount=Money.of("20000", "ARS"),
        channel=Channel.STORE,
        idempotency_key="seed",
        now=now,
    )
    return saldo


def order(saldo: Saldo, *, method: str = "card", key: str = "order-1") -> StoredOrder:
    return create_order(
        saldo.uow(),
        msisdn=LINE,
        plan_code="pack-mensual-1m",
        pay_in="ARS",
        method=method,
        email="ana@example.org",
        channel=Channel.WEB,
        placed_by=PlacedBy.SUBSCRIBER,
        idempotency_key=key,
        max_rate_age=MAX_RATE_AGE,
        now=saldo.clock.now(),
    )


def pay(saldo: Saldo, order_id: int, card: str, *, key: str = "pay-1") -> StoredOrder:
    return pay_order(
        saldo.uow(),
        saldo.payment_providers(),
        order_id=order_id,
        provider="sandbox",
        source=card,
        idempotency_key=key,
        now=saldo.clock.now(),
    )


def states(saldo: Saldo, order_id: int) -> list[str]:
    details = order_details(saldo.uow(), order_id=order_id)
    return [f"{e.from_state or '-'}>{e.to_state}" for e in details.history]


def valid_until(saldo: Saldo) -> str:
    with saldo.uow().reading() as uow:
        record = uow.lines.get_by_msisdn(LINE)
        assert record is not None
        return record.line.valid_until.isoformat()


def main_balance(saldo: Saldo) -> int:
    with saldo.uow().reading() as uow:
        found = uow.lines.get_with_buckets(LINE)
        assert found is not None
        return sum(b.balance for b in found.buckets if b.kind is BucketKind.MAIN)


def assert_audit_clean(saldo: Saldo) -> None:
    assert audit_ledger(saldo.uow()).clean


def test_an_order_is_a_draft_with_its_quote_locked_for_fifteen_minutes(shop: Saldo) -> None:
    placed = order(shop)

    assert placed.state is OrderState.DRAFT
    assert placed.expires_at == shop.clock.now() + timedelta(minutes=15)
    assert (placed.terms.price, placed.terms.fee, placed.terms.total) == (900000, 31500, 931500)
    assert (placed.terms.net, placed.terms.tax) == (743802, 156198)
    assert order(shop) == placed  # the same key places nothing new


def test_an_order_paid_from_the_balance_is_fulfilled_once(shop: Saldo) -> None:
    placed = order(shop, method="balance")
    before = valid_until(shop)

    paid = pay_order(
        shop.uow(), {}, order_id=placed.id, provider="balance", source=None,
        idempotency_key="pay-1", now=shop.clock.now(),
    )  # fmt: skip
    again = pay_order(
        shop.uow(), {}, order_id=placed.id, provider="balance", source=None,
        idempotency_key="pay-1", now=shop.clock.now(),
    )  # fmt: skip

    assert paid.state is OrderState.FULFILLED and again.state is OrderState.FULFILLED
    assert main_balance(shop) == 2000000 - 900000
    assert paid.receipt_number == f"MOVISTAR-AR-2026-{placed.id:06d}"
    assert paid.valid_until_after is not None and paid.valid_until_after.isoformat() > before
    assert states(shop, placed.id) == [
        "->draft",
        "draft>awaiting_payment",
        "awaiting_payment>paid",
        "paid>fulfilled",
    ]
    assert_audit_clean(shop)


def test_not_enough_balance_changes_nothing(shop: Saldo) -> None:
    placed = create_order(
        shop.uow(), msisdn=LINE, plan_code="pack-anual-12m", pay_in="ARS", method="balance",
        email=None, channel=Channel.WEB, placed_by=PlacedBy.SUBSCRIBER, idempotency_key="big",
        max_rate_age=MAX_RATE_AGE, now=shop.clock.now(),
    )  # fmt: skip

    with pytest.raises(NotEnoughBalance):
        pay_order(
            shop.uow(), {}, order_id=placed.id, provider="balance", source=None,
            idempotency_key="pay-big", now=shop.clock.now(),
        )  # fmt: skip

    assert main_balance(shop) == 2000000
    assert states(shop, placed.id) == ["->draft"]


def test_an_approved_card_pays_and_fulfils_the_order(shop: Saldo) -> None:
    placed = order(shop)

    paid = pay(shop, placed.id, cards.APPROVE)

    assert paid.state is OrderState.FULFILLED
    assert main_balance(shop) == 2000000  # the card paid, not the balance
    payment = order_details(shop.uow(), order_id=placed.id).payments[0]
    assert (payment.status, payment.amount, payment.card_last4) == (
        PaymentStatus.SUCCEEDED,
        931500,
        "4242",
    )
    assert_audit_clean(shop)


def test_a_declined_card_leaves_the_order_payable_with_another_card(shop: Saldo) -> None:
    placed = order(shop)

    with pytest.raises(PaymentDeclined) as declined:
        pay(shop, placed.id, cards.DECLINE, key="first")
    paid = pay(shop, placed.id, cards.APPROVE, key="second")

    assert declined.value.decline_code == "card_declined"
    assert paid.state is OrderState.FULFILLED
    payments = order_details(shop.uow(), order_id=placed.id).payments
    assert [p.status for p in payments] == [PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]


def test_insufficient_funds_is_a_decline_with_its_reason(shop: Saldo) -> None:
    placed = order(shop)

    with pytest.raises(PaymentDeclined) as declined:
        pay(shop, placed.id, cards.INSUFFICIENT_FUNDS)

    assert declined.value.decline_code == "insufficient_funds"
    assert order_details(shop.uow(), order_id=placed.id).order.state is OrderState.AWAITING_PAYMENT


def test_a_card_that_settles_later_is_fulfilled_by_reconciliation(
    shop: Saldo, clock: FixedClock
) -> None:
    placed = order(shop)

    pending = pay(shop, placed.id, cards.SETTLE_LATER)
    with pytest.raises(PaymentInProgress):
        pay(shop, placed.id, cards.APPROVE, key="impatient")
    clock.advance(timedelta(minutes=1))
    first = reconcile_payments(shop.uow(), shop.payment_providers(), now=clock.now())
    clock.advance(timedelta(minutes=5))
    second = reconcile_payments(shop.uow(), shop.payment_providers(), now=clock.now())

    assert pending.state is OrderState.AWAITING_PAYMENT
    assert (first.checked, first.still_pending) == (1, 1)
    assert (second.checked, second.settled) == (1, 1)
    assert order_details(shop.uow(), order_id=placed.id).order.state is OrderState.FULFILLED
    assert_audit_clean(shop)


def test_a_card_that_fails_later_leaves_the_order_payable(shop: Saldo, clock: FixedClock) -> None:
    placed = order(shop)

    pay(shop, placed.id, cards.FAIL_LATER)
    clock.advance(timedelta(minutes=3))
    reconcile_payments(shop.uow(), shop.payment_providers(), now=clock.now())
    clock.advance(timedelta(minutes=3))
    reconcile_payments(shop.uow(), shop.payment_providers(), now=clock.now())

    details = order_details(shop.uow(), order_id=placed.id)
    assert details.order.state is OrderState.AWAITING_PAYMENT
    assert details.payments[0].decline_code == "settlement_failed"


def test_a_payment_whose_answer_was_lost_is_found_and_applied_once(
    shop: Saldo, clock: FixedClock
) -> None:
    placed = order(shop)

    unanswered = pay(shop, placed.id, cards.TIME_OUT)
    clock.advance(timedelta(minutes=1))
    reconcile_payments(shop.uow(), shop.payment_providers(), now=clock.now())
    replayed = pay(shop, placed.id, cards.TIME_OUT)  # the payer presses "pay" again

    assert unanswered.state is OrderState.AWAITING_PAYMENT
    assert replayed.state is OrderState.FULFILLED
    details = order_details(shop.uow(), order_id=placed.id)
    assert len(details.payments) == 1
    assert details.payments[0].reference is not None
    assert_audit_clean(shop)


def test_a_quote_that_ran_out_cannot_be_paid(shop: Saldo, clock: FixedClock) -> None:
    placed = order(shop)

    clock.advance(timedelta(minutes=15))
    with pytest.raises(QuoteExpired):
        pay(shop, placed.id, cards.APPROVE)

    assert states(shop, placed.id) == ["->draft", "draft>expired"]


def test_unpaid_orders_expire_in_a_sweep(shop: Saldo, clock: FixedClock) -> None:
    placed = order(shop)

    clock.advance(timedelta(minutes=16))

    assert expire_orders(shop.uow(), now=clock.now()) == 1
    assert states(shop, placed.id)[-1] == "draft>expired"


def test_a_payment_settling_after_its_order_expired_is_applied_at_the_quoted_price(
    shop: Saldo, clock: FixedClock
) -> None:
    placed = order(shop)

    pay(shop, placed.id, cards.SETTLE_LATER)
    clock.advance(timedelta(minutes=16))
    expire_orders(shop.uow(), now=clock.now())
    reconcile_payments(shop.uow(), shop.payment_providers(), now=clock.now())

    details = order_details(shop.uow(), order_id=placed.id)
    assert [f"{e.from_state}>{e.to_state}" for e in details.history][-3:] == [
        "awaiting_payment>expired",
        "expired>paid",
        "paid>fulfilled",
    ]
    assert details.order.terms.total == details.payments[0].amount
    assert_audit_clean(shop)


def test_a_payment_settling_after_the_order_was_cancelled_is_refunded(
    shop: Saldo, clock: FixedClock
) -> None:
    placed = order(shop)
    before = valid_until(shop)

    pay(shop, placed.id, cards.SETTLE_LATER)
    cancel_order(shop.uow(), order_id=placed.id, reason="changed my mind", now=clock.now())
    clock.advance(timedelta(minutes=3))
    reconcile_payments(shop.uow(), shop.payment_providers(), now=clock.now())

    details = order_details(shop.uow(), order_id=placed.id)
    assert details.order.state is OrderState.REFUNDED
    assert details.payments[0].refunded_at is not None
    sandbox = shop.payment_providers()["sandbox"]
    assert isinstance(sandbox, cards.SandboxProvider)
    assert details.payments[0].reference is not None
    assert sandbox.refunded(details.payments[0].reference) == 931500
    assert valid_until(shop) == before


def test_a_fulfilled_order_cannot_be_paid_or_cancelled_again(shop: Saldo) -> None:
    placed = order(shop)
    pay(shop, placed.id, cards.APPROVE)

    with pytest.raises(OrderNotPayable):
        pay(shop, placed.id, cards.APPROVE, key="again")
    with pytest.raises(OrderNotPayable):
        cancel_order(shop.uow(), order_id=placed.id, reason="late", now=shop.clock.now())


@pytest.mark.parametrize(("reason", "length"), [(" ", 0), ("r" * 201, 201)])
def test_a_cancellation_needs_a_reason_of_at_most_200_characters(
    shop: Saldo, reason: str, length: int
) -> None:
    # given an order not yet paid
    placed = order(shop)

    # when it is cancelled with a blank reason, or one of 201 characters
    with pytest.raises(UnableToOrder) as refused:
        cancel_order(shop.uow(), order_id=placed.id, reason=reason, now=shop.clock.now())

    # then it is refused with the reason's length, and the order is still open
    assert refused.value.message == f"a reason is 1 to 200 characters (this one has {length})"
    assert order_details(shop.uow(), order_id=placed.id).order.state is OrderState.DRAFT


def test_a_card_order_cannot_be_paid_from_the_balance(shop: Saldo) -> None:
    placed = order(shop)

    with pytest.raises(OrderNotPayable):
        pay_order(
            shop.uow(), {}, order_id=placed.id, provider="balance", source=None,
            idempotency_key="pay-1", now=shop.clock.now(),
        )  # fmt: skip


def test_a_payment_for_a_line_recycled_meanwhile_fails_the_order_and_is_refunded(
    shop: Saldo, clock: FixedClock
) -> None:
    with shop.uow().reading() as uow:
        record = uow.lines.get_by_msisdn(LINE)
        assert record is not None
        recycles_at = record.operator.lifecycle.recycles_at(record.line.valid_until)
    clock.set(recycles_at - timedelta(minutes=5))
    placed = order(shop)
    before = valid_until(shop)

    pay(shop, placed.id, cards.SETTLE_LATER)
    clock.advance(timedelta(minutes=6))
    reconcile_payments(shop.uow(), shop.payment_providers(), now=clock.now())

    assert states(shop, placed.id)[-3:] == [
        "awaiting_payment>paid",
        "paid>failed",
        "failed>refunded",
    ]
    assert valid_until(shop) == before
    assert_audit_clean(shop)


TIGO = "+573004445566"  # tigo-co: 20 % off a line's first plan


def test_a_first_order_discount_is_paid_once_however_many_orders_quoted_it(saldo: Saldo) -> None:
    now = saldo.clock.now()
    add_line(saldo.uow(), new_line=NewLine(msisdn=TIGO, operator="tigo-co"), now=now)
    quoted = [
        create_order(
            saldo.uow(),
            msisdn=TIGO,
            plan_code="paquete-todo-1m",
            pay_in="COP",
            method="card",
            email=None,
            channel=Channel.WEB,
            placed_by=PlacedBy.SUBSCRIBER,
            idempotency_key=key,
            max_rate_age=MAX_RATE_AGE,
            now=now,
        )
        for key in ("fo-1", "fo-2")
    ]
    assert all(o.terms.promotion == "20 % en tu primer paquete" for o in quoted)

    paid = pay(saldo, quoted[0].id, cards.APPROVE, key="pay-fo-1")
    with pytest.raises(OrderNotPayable, match="first-order discount"):
        pay(saldo, quoted[1].id, cards.APPROVE, key="pay-fo-2")

    assert paid.state is OrderState.FULFILLED
    assert states(saldo, quoted[1].id)[-1] != OrderState.FULFILLED.value
    with saldo.uow().reading() as uow:
        assert uow.payments.for_order(quoted[1].id) == []  # the card was never charged
    assert_audit_clean(saldo)


def test_a_card_is_not_charged_for_a_plan_no_longer_sold(shop: Saldo) -> None:
    placed = order(shop)
    spec = next(s for s in bundled_specs() if s.slug == "movistar-ar").model_dump(mode="json")
    spec["plans"] = [p for p in spec["plans"] if p["code"] != "pack-mensual-1m"]
    spec["promotions"] = []
    changed = OperatorSpec.model_validate(spec)
    register_operator(shop.uow(), operator=changed.to_operator(), spec=spec, now=shop.clock.now())

    with pytest.raises(UnknownPlan):
        pay(shop, placed.id, cards.APPROVE)

    with shop.uow().reading() as uow:
        assert uow.payments.for_order(placed.id) == []


def test_an_order_key_sent_again_with_another_email_is_another_request(shop: Saldo) -> None:
    placed = order(shop, key="same")

    with pytest.raises(IdempotencyKeyReused):
        create_order(
            shop.uow(),
            msisdn=LINE,
            plan_code="pack-mensual-1m",
            pay_in="ARS",
            method="card",
            email="someone-else@example.org",
            channel=Channel.WEB,
            placed_by=PlacedBy.SUBSCRIBER,
            idempotency_key="same",
            max_rate_age=MAX_RATE_AGE,
            now=shop.clock.now(),
        )

    assert order(shop, key="same").id == placed.id  # the same request is a replay


def test_a_number_that_expired_for_good_gets_no_quote(shop: Saldo, clock: FixedClock) -> None:
    clock.advance(timedelta(days=200))  # past validity, grace and suspension

    with pytest.raises(LineRecycled):
        quote_order(
            shop.uow(),
            msisdn=LINE,
            plan_code="pack-mensual-1m",
            addon_codes=(),
            pay_in="ARS",
            method="card",
            max_rate_age=MAX_RATE_AGE,
            now=clock.now(),
        )
