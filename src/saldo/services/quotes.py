"""Quoting an order before it is placed: a plan and add-ons for a line, the promotion it gets
today, tax broken out, and, for a payer in another currency, the exchange rate, the spread and
the payment method's fee. Reads only; nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from saldo.domain.fx import ExchangeRate
from saldo.domain.money import minor_unit_exponent
from saldo.domain.numbering import lookup_msisdn
from saldo.domain.operator import AddOn, Operator, Presentation
from saldo.domain.periods import require_aware
from saldo.domain.quotes import PaymentMethod, Quote, UnableToQuote, quote
from saldo.services.buy_plan import find_plan, plan_promotion
from saldo.services.exchange_rates import latest_rate
from saldo.services.lines import line_and_operator, line_record, live_state
from saldo.services.ports import UnitOfWork


class UnknownAddOn(UnableToQuote):
    code = "unknown_addon"


class UnknownPaymentMethod(UnableToQuote):
    code = "unknown_payment_method"


def quote_order(
    uow: UnitOfWork,
    *,
    msisdn: str,
    plan_code: str,
    addon_codes: tuple[str, ...],
    pay_in: str,
    method: str,
    max_rate_age: timedelta,
    now: datetime,
) -> Quote:
    """What the line's order of ``plan_code`` and ``addon_codes`` costs now, paid in
    ``pay_in`` with ``method``: the promotion ``buy_plan`` would apply, the operator's spread
    and the method's fee, at the rate ``latest_rate`` finds when ``pay_in`` is not the line's
    currency.

    Raises LineNotFound, UnknownPlan, UnknownAddOn, UnknownPaymentMethod, UnknownCurrency;
    UnableToQuote when the line's balance would pay in another currency; UnknownRate or
    StaleRate when no fresh rate links the currencies.
    """
    now = require_aware(now)
    number = lookup_msisdn(msisdn)
    pay_in = pay_in.strip().upper()
    minor_unit_exponent(pay_in)
    try:
        payment = PaymentMethod(method.strip().lower())
    except ValueError:
        known = ", ".join(m.value for m in PaymentMethod)
        raise UnknownPaymentMethod(f"{method!r} is not a payment method ({known})") from None
    with uow.reading():
        record = line_record(uow, number=number)
        operator = record.operator
        # No price for a number that is going away.
        live_state(line=record.line, operator=operator, now=now)
        plan = find_plan(operator, plan_code)
        addons = tuple(_find_addon(operator, code) for code in addon_codes)
        promotion = plan_promotion(
            uow, operator=operator, line_id=record.line.id, plan=plan, now=now
        )
    if payment is PaymentMethod.BALANCE and pay_in != operator.currency:
        raise UnableToQuote(f"the line's balance pays in {operator.currency}, not {pay_in}")
    rate: ExchangeRate | None = None
    if pay_in != operator.currency:
        rate = latest_rate(uow, base=pay_in, quote=operator.currency, max_age=max_rate_age, now=now)
    return quote(
        plan=plan,
        addons=addons,
        promotion=promotion,
        tax_rate=operator.tax_rate,
        pay_in=pay_in,
        rate=rate,
        spread=operator.fx_spread,
        fee=operator.fee_for(payment),
    )


@dataclass(frozen=True, slots=True)
class LineQuote:
    """A quote as the line's payer is shown it: the number, the quote, what it sells named in
    the line's language (the plan, then each add-on), and how to show its amounts."""

    msisdn: str
    quote: Quote
    names: tuple[str, ...]
    presentation: Presentation


def quote_for_line(
    uow: UnitOfWork,
    *,
    msisdn: str,
    plan_code: str,
    addon_codes: tuple[str, ...],
    pay_in: str | None,
    method: str,
    max_rate_age: timedelta,
    now: datetime,
) -> LineQuote:
    """``quote_order``, paid in ``pay_in`` or, when it is None, in the line's own currency,
    ready to show. Raises InvalidMsisdn, LineNotFound, then everything ``quote_order``
    raises."""
    record = line_and_operator(uow, msisdn=msisdn)
    line, operator = record.line, record.operator
    quoted = quote_order(
        uow,
        msisdn=line.msisdn,
        plan_code=plan_code,
        addon_codes=addon_codes,
        pay_in=pay_in or operator.currency,
        method=method,
        max_rate_age=max_rate_age,
        now=now,
    )
    return LineQuote(
        msisdn=line.msisdn,
        quote=quoted,
        names=tuple(item.name_in(line.language) for item in (quoted.plan, *quoted.addons)),
        presentation=operator.presentation_for(line.language),
    )


def _find_addon(operator: Operator, code: str) -> AddOn:
    wanted = code.strip().lower()
    for addon in operator.addons:
        if addon.code == wanted:
            return addon
    raise UnknownAddOn(f"{operator.name} has no add-on {code!r}")
