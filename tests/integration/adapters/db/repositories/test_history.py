"""A line's history read back on SQLite and PostgreSQL: a voucher's top-up carries its serial,
a plan paid by card its order's receipt (and no change of the balance), a refund comes in at
the moment it was made; the last plan and what plans cost; another line's and another
operator's movements stay out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saldo.adapters.clock import FixedClock
from saldo.adapters.payments import sandbox as cards
from saldo.bootstrap import Saldo
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.lines import NewLine, add_line
from saldo.services.order_payment import pay_order
from saldo.services.orders import PlacedBy, create_order
from saldo.services.payment_flow import settle_refunds
from saldo.services.ports.history import LedgerMovement
from saldo.services.top_up import top_up
from saldo.services.vouchers import generate_vouchers, redeem_voucher

LINE = "+5491155551234"  # movistar-ar
NEIGHBOUR = "+5491155550000"
DAY = timedelta(days=1)


def line_id(saldo: Saldo, msisdn: str) -> int:
    with saldo.uow().reading() as uow:
        record = uow.lines.get_by_msisdn(msisdn)
        assert record is not None
        return record.line.id


def movements(saldo: Saldo, msisdn: str, since: datetime, until: datetime) -> list[LedgerMovement]:
    with saldo.uow().reading() as uow:
        return uow.history.movements(line_id=line_id(saldo, msisdn), since=since, until=until)


@pytest.fixture
def history(saldo: Saldo, clock: FixedClock) -> Saldo:
    now = clock.now()
    for number in (LINE, NEIGHBOUR):
        add_line(saldo.uow(), new_line=NewLine(msisdn=number, operator="movistar-ar"), now=now)
    top_up(saldo.uow(), msisdn=NEIGHBOUR, amount=Money.of("5000", "ARS"), channel=Channel.STORE,
           idempotency_key="neighbour", now=now)  # fmt: skip
    batch = generate_vouchers(saldo.uow(), operator="movistar-ar", value=Money.of("2000", "ARS"),
                              count=1, expires_at=now + 30 * DAY, created_by="qa",
                              pin_key=saldo.pin_key, now=now)  # fmt: skip
    clock.advance(timedelta(hours=1))
    redeem_voucher(saldo.uow(), msisdn=LINE, pin=batch.vouchers[0].pin, channel=Channel.USSD,
                   pin_key=saldo.pin_key, now=clock.now())  # fmt: skip
    clock.advance(timedelta(hours=1))
    order = create_order(
        saldo.uow(), msisdn=LINE, plan_code="pack-mensual-1m", pay_in="ARS", method="card",
        email=None, channel=Channel.APP, placed_by=PlacedBy.SUBSCRIBER, idempotency_key="o-1",
        max_rate_age=timedelta(hours=1), now=clock.now(),
    )  # fmt: skip
    pay_order(saldo.uow(), saldo.payment_providers(), order_id=order.id, provider="sandbox",
              source=cards.APPROVE, idempotency_key="p-1", now=clock.now())  # fmt: skip
    clock.advance(timedelta(hours=1))
    # The payment given back (as one its order could not use would be).
    with saldo.uow() as uow:
        paid = uow.payments.for_order(order.id)[0]
        uow.payments.flag_refund(paid.id, now=clock.now())
        uow.commit()
    settle_refunds(saldo.uow(), saldo.payment_providers(),
                   now=clock.now(), line_id=line_id(saldo, LINE))  # fmt: skip
    return saldo


def test_each_movement_says_what_its_event_was(history: Saldo, clock: FixedClock) -> None:
    start = clock.now() - timedelta(hours=3)

    found = movements(history, LINE, start - DAY, clock.now() + DAY)

    assert [(m.event_type, m.detail.channel) for m in found] == [
        ("topup", "ussd"), ("order", "app"), ("refund", "sandbox"),
    ]  # fmt: skip
    voucher, order, refund = found
    assert voucher.detail.code == "000001-0000001"
    assert [(c.kind, c.amount, c.balance_after) for c in voucher.changes] == [
        ("main", 200_000, 200_000)
    ]
    assert order.detail.receipt_number is not None
    assert (order.detail.price, order.detail.code) == (900_000, "pack-mensual-1m")
    assert {c.kind for c in order.changes} == {"voice", "sms", "data"}  # paid by card
    # What the card paid comes back: the price and its 3.5 % fee.
    assert (refund.changes, refund.detail.price, refund.detail.currency) == ((), 931_500, "ARS")
    assert refund.created_at == clock.now()


def test_the_window_is_half_open(history: Saldo, clock: FixedClock) -> None:
    voucher_at = clock.now() - timedelta(hours=2)

    assert movements(history, LINE, voucher_at, voucher_at) == []
    assert [m.event_type for m in movements(history, LINE, voucher_at - DAY, voucher_at)] == []
    assert [m.event_type for m in movements(history, LINE, voucher_at, voucher_at + DAY)] == [
        "topup", "order", "refund",
    ]  # fmt: skip


def test_the_last_plan_and_what_plans_cost(history: Saldo, clock: FixedClock) -> None:
    with history.uow().reading() as uow:
        line = line_id(history, LINE)
        last = uow.history.last_plan(line_id=line, at=clock.now())
        before = uow.history.last_plan(line_id=line, at=clock.now() - timedelta(hours=2))
        spent = uow.history.spent_on_plans(
            line_id=line, since=clock.now() - DAY, until=clock.now() + DAY
        )
        balance = uow.history.main_balance_at(line_id=line, at=clock.now() + DAY)

    assert last is not None
    assert (last.plan_code, last.price, last.months) == ("pack-mensual-1m", 900_000, 1)
    assert before is None
    assert spent == 900_000
    assert balance == 200_000


def test_another_operator_s_unit_of_work_sees_nothing(history: Saldo, clock: FixedClock) -> None:
    with history.uow().reading() as uow:
        proximus = uow.operators.get_by_slug("proximus-be")
    assert proximus is not None and proximus.id is not None
    with history.uow(operator_id=proximus.id).reading() as uow:
        found = uow.history.movements(
            line_id=line_id(history, LINE),
            since=datetime(2000, 1, 1, tzinfo=UTC),
            until=clock.now() + DAY,
        )
    assert found == []
