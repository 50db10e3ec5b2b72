"""The quote of an order: what a plan and its add-ons cost, shown before anything is paid.

Catalog prices include tax. A quote breaks the price out into its net and tax parts, takes off
the promotion applied, and, when the payer pays in another currency than the line's (a USD or
CNY card for an ARS line), converts the price at the market rate made worse by the operator's
spread, then adds the payment method's fee. Every rounding is named:

- the net part is ``price / (1 + tax rate)`` rounded half-up to minor units; the tax part is
  the rest, so that net + tax == price exactly;
- the conversion into the payer's currency rounds half-up;
- the fee is ``percent`` % of the converted amount rounded half-up, plus a fixed amount (a
  fixed amount in the line's currency is converted like the price).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import ROUND_05UP, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Final

from saldo.domain.errors import SaldoError
from saldo.domain.fx import ExchangeRate, convert, with_spread
from saldo.domain.money import Money

if TYPE_CHECKING:
    # operator.py lists an operator's payment-method fees; plans and add-ons are only named.
    from saldo.domain.operator import AddOn, Plan
    from saldo.domain.promotions import AppliedPromotion

TAX_ROUNDING: Final = ROUND_HALF_UP
CONVERSION_ROUNDING: Final = ROUND_HALF_UP
FEE_ROUNDING: Final = ROUND_HALF_UP

_HUNDRED = Decimal(100)
# Divides far below the cent, rounding to "odd", so that the named rounding that follows is the
# only one that decides the net part (as in domain/fx.py: no double rounding).
_EXACT = Context(prec=80, rounding=ROUND_05UP, traps=[InvalidOperation])


class PaymentMethod(enum.StrEnum):
    CARD = "card"
    DEBIT_CARD = "debit_card"
    PAYPAL = "paypal"
    WALLET = "wallet"
    BALANCE = "balance"


class UnableToQuote(SaldoError):
    code = "unable_to_quote"


class MissingRate(UnableToQuote):
    """The payer pays in another currency and no exchange rate was given."""

    code = "missing_rate"


@dataclass(frozen=True, slots=True)
class PaymentMethodFee:
    """What paying with ``method`` costs on top of the price: ``percent`` % of the amount
    charged (3.5 for 3.5 %) plus ``fixed``, if any."""

    method: PaymentMethod
    percent: Decimal
    fixed: Money | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.percent, Decimal) or not self.percent.is_finite():
            raise UnableToQuote("a fee percent is a Decimal such as Decimal('3.5'), never a float")
        if not 0 <= self.percent < _HUNDRED:
            raise UnableToQuote(f"a fee percent is from 0 up to 100, not {self.percent}")
        if self.fixed is not None and self.fixed.is_negative():
            raise UnableToQuote(f"a fixed fee is not negative, not {self.fixed}")


@dataclass(frozen=True, slots=True)
class Quote:
    """What an order costs. Amounts up to ``tax`` are in the line's currency; ``converted``,
    ``fee`` and ``total`` are in ``pay_in``. ``rate`` (1 ``pay_in`` = ``rate.rate`` of the
    line's currency, spread applied), ``market_rate`` and ``spread`` are None when the payer
    pays in the line's currency."""

    plan: Plan
    addons: tuple[AddOn, ...]
    gross: Money  # the plan and add-ons at catalog prices, tax included
    promotion: str | None  # the name of the promotion applied
    discount: Money
    free_months: int
    price: Money  # gross less the discount, tax included
    tax_rate: Decimal
    net: Money
    tax: Money
    pay_in: str
    market_rate: ExchangeRate | None
    rate: ExchangeRate | None
    spread: Decimal | None
    converted: Money  # the price in the payer's currency, before the fee
    method: PaymentMethod
    fee: Money
    total: Money  # what the payer pays: converted + fee


def quote(
    *,
    plan: Plan,
    addons: tuple[AddOn, ...],
    promotion: AppliedPromotion | None,
    tax_rate: Decimal,
    pay_in: str,
    rate: ExchangeRate | None,
    spread: Decimal,
    fee: PaymentMethodFee,
) -> Quote:
    """The quote for ``plan`` and ``addons`` with ``promotion`` applied, paid in ``pay_in``
    with ``fee``'s method. ``rate`` links ``pay_in`` and the plan's currency in either
    direction; it is ignored when they are the same.

    Raises MissingRate when the currencies differ and there is no rate; UnableToQuote for a
    rate of other currencies, an add-on or discount in another currency, a discount above
    the price, a tax rate outside [0, 1) or a fixed fee in a third currency; InvalidRate for a
    bad spread.
    """
    currency = plan.price.currency
    if not isinstance(tax_rate, Decimal) or not tax_rate.is_finite() or not 0 <= tax_rate < 1:
        raise UnableToQuote(f"a tax rate is a Decimal from 0 up to 1, not {tax_rate}")
    gross = plan.price
    for addon in addons:
        if addon.price.currency != currency:
            raise UnableToQuote(f"add-on {addon.code} is priced in {addon.price.currency}")
        gross += addon.price
    discount = Money.zero(currency) if promotion is None else promotion.discount
    if discount.currency != currency or discount.is_negative() or discount > gross:
        raise UnableToQuote(f"a discount of {discount} does not fit a price of {gross}")
    price = gross - discount
    net = Money.of_rounded(
        _EXACT.divide(price.to_decimal(), 1 + tax_rate), currency, rounding=TAX_ROUNDING
    )

    market_rate = payer_rate = None
    if pay_in == currency:
        converted = price
    else:
        if rate is None:
            raise MissingRate(f"paying {price} in {pay_in} needs a {pay_in}/{currency} rate")
        market_rate = _oriented(rate, pay_in=pay_in, currency=currency)
        payer_rate = with_spread(market_rate, spread)
        converted = convert(price, rate=payer_rate, rounding=CONVERSION_ROUNDING)
    charged = converted.multiply(fee.percent / _HUNDRED, rounding=FEE_ROUNDING)
    if fee.fixed is not None:
        charged += _fixed_fee(fee.fixed, pay_in=pay_in, payer_rate=payer_rate)

    return Quote(
        plan=plan,
        addons=addons,
        gross=gross,
        promotion=None if promotion is None else promotion.name,
        discount=discount,
        free_months=0 if promotion is None else promotion.free_months,
        price=price,
        tax_rate=tax_rate,
        net=net,
        tax=price - net,
        pay_in=pay_in,
        market_rate=market_rate,
        rate=payer_rate,
        spread=None if payer_rate is None else spread,
        converted=converted,
        method=fee.method,
        fee=charged,
        total=converted + charged,
    )


def _oriented(rate: ExchangeRate, *, pay_in: str, currency: str) -> ExchangeRate:
    """The rate as "1 ``pay_in`` = x ``currency``", which is how ``with_spread`` reads it."""
    if (rate.base, rate.quote) == (pay_in, currency):
        return rate
    if (rate.base, rate.quote) == (currency, pay_in):
        return rate.inverse()
    raise UnableToQuote(f"a {rate.pair} rate cannot convert {currency} into {pay_in}")


def _fixed_fee(fixed: Money, *, pay_in: str, payer_rate: ExchangeRate | None) -> Money:
    if fixed.currency == pay_in:
        return fixed
    if payer_rate is not None and fixed.currency == payer_rate.quote:
        return convert(fixed, rate=payer_rate, rounding=CONVERSION_ROUNDING)
    raise UnableToQuote(f"a fixed fee of {fixed} cannot be charged in {pay_in}")
