"""Catalog promotions where Saldo sells, on SQLite and PostgreSQL: a top-up bonus credited to
its own expiring BONUS bucket in the top-up's ledger transaction, a first-order discount once,
free months on long plans, and promotions stacked where the catalog says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from saldo.adapters.clock import FixedClock
from saldo.adapters.db import tables as t
from saldo.bootstrap import Saldo
from saldo.domain.buckets import BucketKind
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.periods import add_months_local
from saldo.domain.topup import TopUpReceipt
from saldo.services.audit import audit_ledger
from saldo.services.buy_plan import PlanPurchaseReceipt, buy_plan
from saldo.services.inquire_balance import BalanceView, inquire_balance
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up

PERSONAL = "+5491123456789"  # personal-ar: 10 % bonus on top-ups of $5.000 or more, 30 days
PROXIMUS = "+32470123456"  # proximus-be: 10 % bonus on top-ups of 25 € or more, 60 days
TIGO = "+573201234567"  # tigo-co: 20 % off the first plan, or 1 free month on 6+ months
MOVISTAR = "+573101234567"  # movistar-co: 10 % off the first plan AND 1 free month on 12
BOGOTA = "America/Bogota"


def ars(amount: str) -> Money:
    return Money.of(amount, "ARS")


def cop(amount: str) -> Money:
    return Money.of(amount, "COP")


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def given_line(saldo: Saldo, msisdn: str, operator: str) -> None:
    add_line(saldo.uow(), new_line=NewLine(msisdn=msisdn, operator=operator), now=saldo.clock.now())


def topup(saldo: Saldo, msisdn: str, amount: Money, key: str) -> TopUpReceipt:
    return top_up(
        saldo.uow(),
        msisdn=msisdn,
        amount=amount,
        channel=Channel.APP,
        idempotency_key=key,
        now=saldo.clock.now(),
    )


def buy(saldo: Saldo, msisdn: str, plan_code: str, key: str) -> PlanPurchaseReceipt:
    return buy_plan(
        saldo.uow(),
        msisdn=msisdn,
        plan_code=plan_code,
        channel=Channel.SMS,
        idempotency_key=key,
        now=saldo.clock.now(),
    )


def balance(saldo: Saldo, msisdn: str) -> BalanceView:
    return inquire_balance(saldo.uow(), msisdn=msisdn, now=saldo.clock.now())


def bonus_buckets(view: BalanceView) -> list[tuple[int, datetime | None]]:
    return [(b.amount, b.expires_at) for b in view.buckets if b.kind is BucketKind.BONUS]


# -- top-up bonus -----------------------------------------------------------------------------


def test_a_personal_topup_of_5000_earns_500_bonus_until_the_end_of_the_30th_day(
    saldo: Saldo,
) -> None:
    given_line(saldo, PERSONAL, "personal-ar")

    receipt = topup(saldo, PERSONAL, ars("5000"), "t-1")

    assert receipt.bonus == ars("500")
    assert receipt.balance == ars("5000")
    view = balance(saldo, PERSONAL)
    assert view.main == ars("5000")
    assert view.bonus == ars("500")
    # 22 November at noon in Buenos Aires + 30 days: to the end of 22 December there.
    assert bonus_buckets(view) == [(50000, datetime(2026, 12, 23, 3, 0, tzinfo=UTC))]


def test_the_bonus_is_paid_from_the_promotions_account_in_the_topups_transaction(
    saldo: Saldo,
) -> None:
    given_line(saldo, PERSONAL, "personal-ar")

    receipt = topup(saldo, PERSONAL, ars("8000"), "t-1")

    report = audit_ledger(saldo.uow())
    assert report.clean
    assert report.transactions == 1
    assert report.entries == 4
    with saldo.engine.connect() as connection:
        promotions = connection.execute(
            select(t.accounts.c.balance).where(t.accounts.c.kind == "promotions")
        ).all()
        stored = connection.execute(
            select(t.topups.c.bonus).where(t.topups.c.id == receipt.topup_id)
        ).scalar_one()
    assert stored == 80000
    assert receipt.bonus == ars("800")
    assert len(promotions) == 1


def test_a_replayed_topup_returns_the_same_bonus_and_credits_it_once(
    saldo: Saldo, clock: FixedClock
) -> None:
    given_line(saldo, PROXIMUS, "proximus-be")
    first = topup(saldo, PROXIMUS, eur("25"), "same-key")
    clock.advance(timedelta(minutes=5))

    again = topup(saldo, PROXIMUS, eur("25"), "same-key")

    assert again.replayed
    assert again.bonus == first.bonus == eur("2.50")
    view = balance(saldo, PROXIMUS)
    assert view.bonus == eur("2.50")
    # 60 days from 22 November, Brussels: to the end of 21 January.
    assert bonus_buckets(view) == [(250, datetime(2027, 1, 21, 23, 0, tzinfo=UTC))]
    report = audit_ledger(saldo.uow())
    assert report.clean and report.transactions == 1


def test_a_topup_below_the_threshold_earns_no_bonus(saldo: Saldo) -> None:
    given_line(saldo, PROXIMUS, "proximus-be")

    receipt = topup(saldo, PROXIMUS, eur("24.99"), "t-1")

    assert receipt.bonus is None
    view = balance(saldo, PROXIMUS)
    assert view.bonus == eur("0")
    assert bonus_buckets(view) == []
    report = audit_ledger(saldo.uow())
    assert report.clean and report.entries == 2


def test_claro_colombia_gives_no_topup_bonus(saldo: Saldo) -> None:
    given_line(saldo, "+573001234567", "claro-co")

    receipt = topup(saldo, "+573001234567", cop("50000"), "t-1")

    assert receipt.bonus is None
    assert balance(saldo, "+573001234567").bonus == cop("0")


# -- plan promotions --------------------------------------------------------------------------


def test_the_first_plan_is_discounted_once_then_full_price(saldo: Saldo) -> None:
    given_line(saldo, TIGO, "tigo-co")
    topup(saldo, TIGO, cop("50000"), "t-1")
    valid_until = balance(saldo, TIGO).valid_until

    first = buy(saldo, TIGO, "paquete-todo-1m", "p-1")
    second = buy(saldo, TIGO, "paquete-todo-1m", "p-2")

    # 20 % off 27.000 is 21.600; the second one costs 27.000.
    assert first.price == cop("21600")
    assert first.promotion == "20 % en tu primer paquete"
    assert first.valid_until == add_months_local(valid_until, 1, timezone=BOGOTA)
    assert second.price == cop("27000")
    assert second.promotion is None
    assert second.balance == cop("1400")
    with saldo.engine.connect() as connection:
        stored = connection.execute(
            select(t.plan_purchases.c.price, t.plan_purchases.c.promotion).order_by(
                t.plan_purchases.c.id
            )
        ).all()
    assert [tuple(row) for row in stored] == [(2160000, "primera-compra"), (2700000, None)]
    assert audit_ledger(saldo.uow()).clean


def test_a_replayed_purchase_shows_the_same_promotion_and_price(saldo: Saldo) -> None:
    given_line(saldo, TIGO, "tigo-co")
    topup(saldo, TIGO, cop("50000"), "t-1")
    first = buy(saldo, TIGO, "paquete-todo-1m", "p-1")

    again = buy(saldo, TIGO, "paquete-todo-1m", "p-1")

    assert again.replayed
    assert (again.price, again.promotion) == (first.price, first.promotion)
    assert balance(saldo, TIGO).main == cop("28400")


def test_a_later_twelve_month_plan_gets_a_free_thirteenth_month(saldo: Saldo) -> None:
    given_line(saldo, TIGO, "tigo-co")
    for number in range(7):
        topup(saldo, TIGO, cop("50000"), f"t-{number}")
    buy(saldo, TIGO, "paquete-todo-1m", "p-1")  # the first order takes the discount
    valid_until = balance(saldo, TIGO).valid_until

    receipt = buy(saldo, TIGO, "paquete-todo-12m", "p-12")

    assert receipt.price == cop("295000")
    assert receipt.promotion == "Compra 6 meses o más y lleva 1 gratis"
    assert receipt.valid_until == add_months_local(valid_until, 13, timezone=BOGOTA)
    view = balance(saldo, TIGO)
    assert view.valid_until == receipt.valid_until
    data = {b.expires_at for b in view.buckets if b.kind is BucketKind.DATA}
    assert receipt.valid_until in data
    assert audit_ledger(saldo.uow()).clean


def test_a_first_twelve_month_plan_takes_the_discount_worth_more_than_a_free_month(
    saldo: Saldo,
) -> None:
    given_line(saldo, TIGO, "tigo-co")
    for number in range(5):
        topup(saldo, TIGO, cop("50000"), f"t-{number}")
    valid_until = balance(saldo, TIGO).valid_until

    receipt = buy(saldo, TIGO, "paquete-todo-12m", "p-12")

    # 20 % of 295.000 (59.000) is worth more than one month of it (24.583,33).
    assert receipt.price == cop("236000")
    assert receipt.valid_until == add_months_local(valid_until, 12, timezone=BOGOTA)


def test_stacked_promotions_give_the_discount_and_the_free_month(saldo: Saldo) -> None:
    given_line(saldo, MOVISTAR, "movistar-co")
    for number in range(6):
        topup(saldo, MOVISTAR, cop("50000"), f"t-{number}")
    valid_until = balance(saldo, MOVISTAR).valid_until

    receipt = buy(saldo, MOVISTAR, "plan-total-12m", "p-12")

    assert receipt.price == cop("270000")
    assert receipt.balance == cop("30000")
    assert receipt.valid_until == add_months_local(valid_until, 13, timezone=BOGOTA)
    assert receipt.promotion == "Paquete de 12 meses con 1 mes gratis + 10 % en tu primer paquete"
    with saldo.engine.connect() as connection:
        stored = connection.execute(select(t.plan_purchases.c.promotion)).scalar_one()
    assert stored == "doce-mas-uno+bienvenida"
    assert audit_ledger(saldo.uow()).clean


@pytest.mark.parametrize(
    ("plan_code", "price"), [("todo-incluido-1m", "30000"), ("todo-incluido-12m", "320000")]
)
def test_claro_colombia_plans_are_sold_at_their_catalog_price(
    saldo: Saldo, plan_code: str, price: str
) -> None:
    claro = "+573001234567"
    given_line(saldo, claro, "claro-co")
    for number in range(7):
        topup(saldo, claro, cop("50000"), f"t-{number}")

    receipt = buy(saldo, claro, plan_code, "p-1")

    assert receipt.promotion is None
    assert receipt.price == cop(price)
