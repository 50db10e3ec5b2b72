"""Quotes: tax broken out of tax-inclusive prices (net + tax == price, exactly), the promotion
taken off, the conversion into the payer's currency at the market rate less the spread, and
the payment method's fee; in ARS, COP and EUR with fixed rates, every rounding half-up."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from saldo.domain.fx import ExchangeRate, InvalidRate
from saldo.domain.money import Money
from saldo.domain.operator import AddOn, Allowances, Plan
from saldo.domain.promotions import AppliedPromotion, ExtraValidity, FirstOrderDiscount
from saldo.domain.quotes import (
    MissingRate,
    PaymentMethod,
    PaymentMethodFee,
    Quote,
    UnableToQuote,
    quote,
)

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
NO_FEE = PaymentMethodFee(method=PaymentMethod.BALANCE, percent=Decimal(0))
CARD = PaymentMethodFee(method=PaymentMethod.CARD, percent=Decimal("3.5"))


def plan(price: Money, months: int = 1) -> Plan:
    return Plan(code="p", name="Plan", months=months, price=price, allowances=Allowances())


def addon(price: Money) -> AddOn:
    return AddOn(code="a", name="Extra", price=price, allowances=Allowances(), validity_days=30)


def rate(base: str, quote_currency: str, value: str) -> ExchangeRate:
    return ExchangeRate(
        base=base, quote=quote_currency, rate=Decimal(value), source="test", fetched_at=NOW
    )


def quoted(
    price: Money,
    *,
    addons: tuple[AddOn, ...] = (),
    promotion: AppliedPromotion | None = None,
    tax_rate: str = "0.21",
    pay_in: str | None = None,
    with_rate: ExchangeRate | None = None,
    spread: str = "0.02",
    fee: PaymentMethodFee = NO_FEE,
) -> Quote:
    return quote(
        plan=plan(price),
        addons=addons,
        promotion=promotion,
        tax_rate=Decimal(tax_rate),
        pay_in=pay_in or price.currency,
        rate=with_rate,
        spread=Decimal(spread),
        fee=fee,
    )


# -- tax and promotions, in the line's currency ------------------------------------------------


def test_an_ars_plan_with_an_add_on_breaks_out_its_tax_and_pays_a_card_fee() -> None:
    result = quoted(Money.of("9000", "ARS"), addons=(addon(Money.of("4500", "ARS")),), fee=CARD)

    assert result.gross == Money.of("13500", "ARS")
    assert (result.promotion, result.discount) == (None, Money.zero("ARS"))
    assert result.price == Money.of("13500", "ARS")
    # 13500 / 1.21 = 11157.0247...
    assert (result.net, result.tax) == (Money.of("11157.02", "ARS"), Money.of("2342.98", "ARS"))
    assert result.net + result.tax == result.price
    assert (result.rate, result.market_rate, result.spread) == (None, None, None)
    assert result.converted == result.price
    # 3.5 % of 13500 = 472.50
    assert result.fee == Money.of("472.50", "ARS")
    assert result.total == Money.of("13972.50", "ARS")


def test_a_cop_first_order_discount_is_taken_off_before_the_tax_is_broken_out() -> None:
    discount = FirstOrderDiscount(code="primera", name="20 % primera compra", percent=Decimal(20))
    applied = AppliedPromotion(
        promotions=(discount,),
        discount=Money.of("6000", "COP"),
        free_months=0,
        value=Money.of("6000", "COP"),
    )

    result = quoted(Money.of("30000", "COP"), promotion=applied, tax_rate="0.19")

    assert (result.promotion, result.discount) == ("20 % primera compra", Money.of("6000", "COP"))
    assert result.price == Money.of("24000", "COP")
    # 24000 / 1.19 = 20168.0672...: whole pesos, and the tax is what is left.
    assert (result.net, result.tax) == (Money.of("20168", "COP"), Money.of("3832", "COP"))
    assert result.total == Money.of("24000", "COP")


def test_free_months_are_named_without_lowering_the_price() -> None:
    free = ExtraValidity(code="doce", name="1 mes gratis", min_months=12, free_months=1)
    applied = AppliedPromotion(
        promotions=(free,),
        discount=Money.zero("COP"),
        free_months=1,
        value=Money.of("26666", "COP"),
    )

    result = quoted(Money.of("320000", "COP"), promotion=applied, tax_rate="0.19")

    assert (result.promotion, result.free_months) == ("1 mes gratis", 1)
    assert result.price == Money.of("320000", "COP")


def test_a_net_part_exactly_half_a_cent_rounds_up() -> None:
    # 1.00 / 1.6 = 0.625: half-up gives 0.63 (half-even would give 0.62).
    result = quoted(Money.of("1.00", "EUR"), tax_rate="0.6")

    assert (result.net, result.tax) == (Money.of("0.63", "EUR"), Money.of("0.37", "EUR"))


def test_a_fee_exactly_half_a_cent_rounds_up() -> None:
    fee = PaymentMethodFee(method=PaymentMethod.WALLET, percent=Decimal("4.5"))

    # 4.5 % of 1.00 = 0.045: half-up gives 0.05 (half-even would give 0.04).
    result = quoted(Money.of("1.00", "EUR"), fee=fee)

    assert (result.fee, result.total) == (Money.of("0.05", "EUR"), Money.of("1.05", "EUR"))


def test_a_tax_free_price_is_all_net() -> None:
    result = quoted(Money.of("15.00", "EUR"), tax_rate="0")

    assert (result.net, result.tax) == (Money.of("15.00", "EUR"), Money.zero("EUR"))


# -- another currency --------------------------------------------------------------------------


def test_an_ars_line_paid_in_usd_uses_the_rate_less_the_spread_and_converts_a_fixed_fee() -> None:
    paypal = PaymentMethodFee(
        method=PaymentMethod.PAYPAL, percent=Decimal("4.4"), fixed=Money.of("300", "ARS")
    )

    result = quoted(
        Money.of("9000", "ARS"),
        addons=(addon(Money.of("4500", "ARS")),),
        pay_in="USD",
        with_rate=rate("USD", "ARS", "1450.25"),
        fee=paypal,
    )

    assert result.market_rate == rate("USD", "ARS", "1450.25")
    assert result.rate is not None and result.rate.rate == Decimal("1421.2450")
    assert result.spread == Decimal("0.02")
    # 13500 / 1421.245 = 9.4987...
    assert result.converted == Money.of("9.50", "USD")
    # 4.4 % of 9.50 = 0.418 → 0.42; 300 ARS / 1421.245 = 0.211 → 0.21
    assert result.fee == Money.of("0.63", "USD")
    assert result.total == Money.of("10.13", "USD")
    assert result.net + result.tax == Money.of("13500", "ARS")


def test_a_cop_line_paid_in_usd_with_a_card() -> None:
    result = quoted(
        Money.of("24000", "COP"),
        tax_rate="0.19",
        pay_in="USD",
        with_rate=rate("USD", "COP", "3875.50"),
        fee=CARD,
    )

    # 24000 / (3875.50 × 0.98 = 3797.99) = 6.3191... → 6.32; 3.5 % of it = 0.2212 → 0.22
    assert result.converted == Money.of("6.32", "USD")
    assert (result.fee, result.total) == (Money.of("0.22", "USD"), Money.of("6.54", "USD"))


def test_a_rate_quoted_the_other_way_round_is_inverted_before_the_spread() -> None:
    result = quoted(
        Money.of("15.00", "EUR"),
        pay_in="CNY",
        with_rate=rate("EUR", "CNY", "7.8"),
        fee=CARD,
    )

    assert result.rate is not None
    assert (result.rate.base, result.rate.quote) == ("CNY", "EUR")
    # 1 / 7.8 = 0.128205128205, less 2 %: 0.125641025641; 15 / that = 119.3877...
    assert result.rate.rate == Decimal("0.125641025641")
    assert result.converted == Money.of("119.39", "CNY")
    # 3.5 % of 119.39 = 4.17865 → 4.18
    assert (result.fee, result.total) == (Money.of("4.18", "CNY"), Money.of("123.57", "CNY"))


def test_a_conversion_exactly_half_a_cent_rounds_up() -> None:
    result = quoted(
        Money.of("5", "ARS"), pay_in="USD", with_rate=rate("USD", "ARS", "1000"), spread="0"
    )

    # 5 / 1000 = 0.005
    assert result.converted == Money.of("0.01", "USD")


def test_paying_in_another_currency_without_a_rate_is_refused() -> None:
    with pytest.raises(MissingRate, match="needs a USD/ARS rate"):
        quoted(Money.of("9000", "ARS"), pay_in="USD")


def test_a_rate_between_other_currencies_is_refused() -> None:
    with pytest.raises(UnableToQuote, match="cannot convert ARS into USD"):
        quoted(Money.of("9000", "ARS"), pay_in="USD", with_rate=rate("EUR", "USD", "1.08"))


def test_a_spread_of_one_or_more_is_refused() -> None:
    with pytest.raises(InvalidRate):
        quoted(
            Money.of("9000", "ARS"),
            pay_in="USD",
            with_rate=rate("USD", "ARS", "1450"),
            spread="1",
        )


def test_a_fixed_fee_in_a_third_currency_is_refused() -> None:
    fee = PaymentMethodFee(
        method=PaymentMethod.PAYPAL, percent=Decimal(0), fixed=Money.of("1", "EUR")
    )

    with pytest.raises(UnableToQuote, match="cannot be charged in ARS"):
        quoted(Money.of("9000", "ARS"), fee=fee)


def test_a_fee_percent_that_is_a_float_is_refused() -> None:
    with pytest.raises(UnableToQuote, match="never a float"):
        PaymentMethodFee(method=PaymentMethod.CARD, percent=3.5)  # type: ignore[arg-type]
