"""Promotions: which one applies and what it gives, in ARS, COP and EUR, inside and outside
their windows, one at a time or stacked, every amount rounded down to minor units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from saldo.domain.money import Money
from saldo.domain.operator import Allowances, Plan
from saldo.domain.promotions import (
    ExtraValidity,
    FirstOrderDiscount,
    Promotion,
    TopUpBonus,
    best_plan_promotion,
    percent_of,
    topup_bonus_for,
)

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


def ars(amount: str) -> Money:
    return Money.of(amount, "ARS")


def cop(amount: str) -> Money:
    return Money.of(amount, "COP")


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def plan(price: Money, months: int) -> Plan:
    return Plan(
        code=f"p-{months}m", name="Plan", months=months, price=price, allowances=Allowances()
    )


def bonus(min_amount: Money, percent: str, **window: datetime | None) -> TopUpBonus:
    return TopUpBonus(
        code=f"bonus-{percent}",
        name=f"{percent} % bonus",
        min_amount=min_amount,
        percent=Decimal(percent),
        bonus_validity_days=30,
        **window,
    )


SIX_PLUS_ONE = ExtraValidity(code="six-plus-one", name="6 + 1", min_months=6, free_months=1)
FIRST_20 = FirstOrderDiscount(code="first-20", name="20 % off", percent=Decimal("20"))


# -- top-up bonus -----------------------------------------------------------------------------


def test_a_topup_at_the_minimum_earns_the_bonus_percent_of_the_amount_in_ars() -> None:
    promotion = bonus(ars("5000"), "10")

    earned = topup_bonus_for(ars("5000"), (promotion,), NOW)

    assert earned == (promotion, ars("500"))


def test_a_topup_below_the_minimum_earns_no_bonus() -> None:
    assert topup_bonus_for(ars("4999.99"), (bonus(ars("5000"), "10"),), NOW) is None


def test_a_bonus_is_rounded_down_to_the_cent_in_eur() -> None:
    # 12.5 % of 15.99 € is 1.99875 €: the subscriber gets 1.99 €, never 2.00 €.
    earned = topup_bonus_for(eur("15.99"), (bonus(eur("15"), "12.5"),), NOW)

    assert earned is not None
    assert earned[1] == eur("1.99")


def test_a_bonus_is_rounded_down_to_the_peso_in_cop() -> None:
    earned = topup_bonus_for(cop("33333"), (bonus(cop("10000"), "10"),), NOW)

    assert earned is not None
    assert earned[1] == cop("3333")


def test_the_largest_of_several_bonuses_applies() -> None:
    small, large = bonus(ars("1000"), "5"), bonus(ars("5000"), "10")

    assert topup_bonus_for(ars("6000"), (small, large), NOW) == (large, ars("600"))
    assert topup_bonus_for(ars("2000"), (small, large), NOW) == (small, ars("100"))


def test_a_bonus_in_another_currency_never_applies() -> None:
    assert topup_bonus_for(ars("5000"), (bonus(eur("15"), "10"),), NOW) is None


def test_a_bonus_that_rounds_down_to_nothing_is_not_given() -> None:
    assert topup_bonus_for(eur("0.09"), (bonus(eur("0.01"), "10"),), NOW) is None


def test_plan_promotions_do_not_give_topup_bonuses() -> None:
    assert topup_bonus_for(cop("30000"), (SIX_PLUS_ONE, FIRST_20), NOW) is None


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "applies"),
    [
        (NOW, None, True),  # starts now: included
        (NOW + timedelta(seconds=1), None, False),  # not yet
        (None, NOW + timedelta(seconds=1), True),
        (None, NOW, False),  # ended: the end is excluded
        (NOW - timedelta(days=1), NOW + timedelta(days=1), True),
    ],
)
def test_a_promotion_applies_only_inside_its_window(
    starts_at: datetime | None, ends_at: datetime | None, applies: bool
) -> None:
    promotion = bonus(eur("15"), "10", starts_at=starts_at, ends_at=ends_at)

    assert (topup_bonus_for(eur("20"), (promotion,), NOW) is not None) is applies


# -- plan promotions --------------------------------------------------------------------------


def test_free_months_apply_to_plans_of_the_minimum_months_or_more() -> None:
    twelve = plan(cop("320000"), 12)

    applied = best_plan_promotion(twelve, (SIX_PLUS_ONE,), first_order=False, now=NOW)

    assert applied is not None
    assert applied.free_months == 1
    assert applied.discount == cop("0")
    # 320.000 / 12 = 26.666,666…: rounded down to the peso, 26.666.
    assert applied.value == cop("26666")
    assert applied.code == "six-plus-one"
    assert (
        best_plan_promotion(plan(cop("85000"), 3), (SIX_PLUS_ONE,), first_order=False, now=NOW)
        is None
    )


def test_a_first_order_discount_applies_only_to_the_first_order() -> None:
    one = plan(ars("8800"), 1)

    first = best_plan_promotion(one, (FIRST_20,), first_order=True, now=NOW)

    assert first is not None
    assert first.discount == ars("1760")
    assert first.free_months == 0
    assert best_plan_promotion(one, (FIRST_20,), first_order=False, now=NOW) is None


def test_a_discount_is_rounded_down_to_the_cent() -> None:
    discount = FirstOrderDiscount(code="d", name="d", percent=Decimal("15"))

    applied = best_plan_promotion(plan(eur("9.99"), 1), (discount,), first_order=True, now=NOW)

    # 15 % of 9.99 € is 1.4985 €.
    assert applied is not None and applied.discount == eur("1.49")


def test_the_promotion_worth_more_to_the_subscriber_wins() -> None:
    twelve = plan(cop("295000"), 12)
    promotions: tuple[Promotion, ...] = (SIX_PLUS_ONE, FIRST_20)

    first = best_plan_promotion(twelve, promotions, first_order=True, now=NOW)
    later = best_plan_promotion(twelve, promotions, first_order=False, now=NOW)

    # 20 % is 59.000; a free month is 24.583,33…, 24.583 in whole pesos.
    assert first is not None and first.promotions == (FIRST_20,)
    assert first.value == cop("59000")
    assert later is not None and later.promotions == (SIX_PLUS_ONE,)
    assert later.value == cop("24583")


def test_a_free_month_beats_a_small_discount() -> None:
    five_percent = FirstOrderDiscount(code="five", name="5 %", percent=Decimal("5"))

    applied = best_plan_promotion(
        plan(eur("120.00"), 12), (five_percent, SIX_PLUS_ONE), first_order=True, now=NOW
    )

    # 5 % is 6 €, a month is 10 €.
    assert applied is not None and applied.promotions == (SIX_PLUS_ONE,)


def test_on_a_tie_the_promotion_listed_first_wins() -> None:
    ten_months = plan(eur("100.00"), 10)
    ten_percent = FirstOrderDiscount(code="ten", name="10 %", percent=Decimal("10"))
    free_month = ExtraValidity(code="month", name="+1", min_months=10, free_months=1)

    # Both are worth 10 €.
    discount_first = best_plan_promotion(
        ten_months, (ten_percent, free_month), first_order=True, now=NOW
    )
    month_first = best_plan_promotion(
        ten_months, (free_month, ten_percent), first_order=True, now=NOW
    )

    assert discount_first is not None and discount_first.promotions == (ten_percent,)
    assert month_first is not None and month_first.promotions == (free_month,)


def test_stacked_promotions_give_the_discount_and_the_free_months_together() -> None:
    twelve = plan(cop("300000"), 12)
    ten = FirstOrderDiscount(code="bienvenida", name="10 %", percent=Decimal("10"))
    twelve_plus_one = ExtraValidity(code="doce", name="12 + 1", min_months=12, free_months=1)

    applied = best_plan_promotion(
        twelve, (twelve_plus_one, ten), first_order=True, now=NOW, stackable=True
    )

    assert applied is not None
    assert applied.discount == cop("30000")
    assert applied.free_months == 1
    assert applied.value == cop("55000")
    assert applied.code == "doce+bienvenida"
    assert applied.name == "12 + 1 + 10 %"


def test_stacked_discounts_never_exceed_the_price() -> None:
    big = FirstOrderDiscount(code="a", name="a", percent=Decimal("60"))
    bigger = FirstOrderDiscount(code="b", name="b", percent=Decimal("70"))

    applied = best_plan_promotion(
        plan(eur("10.00"), 1), (big, bigger), first_order=True, now=NOW, stackable=True
    )

    assert applied is not None and applied.discount == eur("10.00")


def test_a_plan_promotion_outside_its_window_does_not_apply() -> None:
    ended = FirstOrderDiscount(code="d", name="d", percent=Decimal("20"), ends_at=NOW)

    assert best_plan_promotion(plan(eur("10.00"), 1), (ended,), first_order=True, now=NOW) is None


def test_topup_bonuses_do_not_apply_to_plans() -> None:
    assert (
        best_plan_promotion(
            plan(ars("8800"), 1), (bonus(ars("1"), "10"),), first_order=True, now=NOW
        )
        is None
    )


def test_percent_of_rounds_down() -> None:
    assert percent_of(ars("0.19"), Decimal("50")) == ars("0.09")
