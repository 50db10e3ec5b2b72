"""Exchange rates for quotes: loading them, finding the rate to quote with, and the price of a
plan in the payer's currency.

A quote uses the first fresh rate in this order: the pair as stored, its inverse, a cross rate
through EUR, then through USD (each leg again as stored or inverted). A rate older than the
maximum age is never used; when only stale ones exist, the refusal names the first of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from saldo.domain.errors import SaldoError
from saldo.domain.fx import (
    PIVOTS,
    RATE_TEXT_MAX,
    ExchangeRate,
    InvalidRate,
    StaleRate,
    UnknownRate,
    check_fresh,
    convert,
    cross,
    rate_text,
    with_spread,
)
from saldo.domain.money import Money, minor_unit_exponent
from saldo.domain.periods import require_aware
from saldo.services.ports import RateRepository, UnitOfWork

SOURCE_MAX = 64
# A source's clock may run a little ahead of ours; beyond this a rate "from the future" is a
# wrong timestamp, and would look fresh for longer than it is.
CLOCK_SKEW = timedelta(minutes=5)


class UnableToLoadRates(SaldoError):
    code = "unable_to_load_rates"


@dataclass(frozen=True, slots=True)
class LoadedRates:
    """How many rates were new, and how many were already stored exactly as given."""

    stored: int
    unchanged: int


def load_rates(uow: UnitOfWork, *, rates: Sequence[ExchangeRate], now: datetime) -> LoadedRates:
    """Store ``rates``, all or none. A rate its source already gave for the same pair and
    moment is not stored twice.

    Raises UnableToLoadRates when there are no rates, one is a cross rate, is stamped after
    ``now``, has an over-long source name or rate, or differs from the one its source gave
    for the same pair and moment.
    """
    now = require_aware(now)
    if not rates:
        raise UnableToLoadRates("there are no rates to load")
    for rate in rates:
        _check_storable(rate, now=now)
    stored = unchanged = 0
    with uow:
        for rate in rates:
            known = uow.rates.add(rate, now=now)
            if known is None:
                stored += 1
            elif known == rate.rate:
                unchanged += 1
            else:
                raise UnableToLoadRates(
                    f"{rate.source} already gave {rate.pair} at "
                    f"{rate.fetched_at:%Y-%m-%d %H:%M} UTC as {rate_text(known)}, "
                    f"not {rate_text(rate.rate)}"
                )
        uow.commit()
    return LoadedRates(stored=stored, unchanged=unchanged)


def _check_storable(rate: ExchangeRate, *, now: datetime) -> None:
    if rate.via is not None:
        raise UnableToLoadRates(
            f"{rate.pair} is a cross rate via {rate.via}; only rates a source quoted are stored"
        )
    if len(rate.source) > SOURCE_MAX:
        raise UnableToLoadRates(f"a source name has at most {SOURCE_MAX} characters")
    if len(rate_text(rate.rate)) > RATE_TEXT_MAX:
        raise UnableToLoadRates(f"the {rate.pair} rate has more than {RATE_TEXT_MAX} characters")
    if rate.fetched_at > now + CLOCK_SKEW:
        raise UnableToLoadRates(
            f"the {rate.pair} rate from {rate.source} is stamped "
            f"{rate.fetched_at:%Y-%m-%d %H:%M} UTC, later than now"
        )


def latest_rate(
    uow: UnitOfWork, *, base: str, quote: str, max_age: timedelta, now: datetime
) -> ExchangeRate:
    """The rate to quote ``base`` in ``quote`` with: the first fresh one of the stored pair,
    its inverse, a cross rate through EUR, then through USD.

    Raises UnknownRate when no stored rate links the currencies, StaleRate when the only
    ones that do are older than ``max_age``, InvalidRate when both currencies are the same.
    """
    now = require_aware(now)
    if base == quote:
        raise InvalidRate(f"{base} to {base} needs no exchange rate")
    stale: StaleRate | None = None
    with uow.reading():
        for candidate in _routes(uow.rates, base=base, quote=quote):
            try:
                return check_fresh(candidate, max_age=max_age, now=now)
            except StaleRate as error:
                stale = stale or error
    if stale is not None:
        raise stale
    raise UnknownRate(
        f"no rate links {base} and {quote}: load one for the pair, or for each of them "
        f"against {' or '.join(PIVOTS)}"
    )


def _routes(rates: RateRepository, *, base: str, quote: str) -> Iterator[ExchangeRate]:
    yield from _quoted(rates, base=base, quote=quote)
    for pivot in PIVOTS:
        if pivot in (base, quote):
            continue
        first_legs = _quoted(rates, base=base, quote=pivot)
        second_legs = _quoted(rates, base=pivot, quote=quote) if first_legs else []
        for first in first_legs:
            for second in second_legs:
                yield cross(first, second)


def _quoted(rates: RateRepository, *, base: str, quote: str) -> list[ExchangeRate]:
    """The latest stored ``base``/``quote`` rate, then the latest stored inverse, inverted."""
    found = []
    direct = rates.latest(base=base, quote=quote)
    if direct is not None:
        found.append(direct)
    inverse = rates.latest(base=quote, quote=base)
    if inverse is not None:
        found.append(inverse.inverse())
    return found


def list_rates(uow: UnitOfWork) -> list[ExchangeRate]:
    """The latest rate of every stored pair, by base then quote currency."""
    with uow.reading():
        return uow.rates.latest_per_pair()


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """``price`` costs ``to_pay``: 1 unit of the payer's currency buys ``rate.rate`` units of
    the price's currency (``market_rate`` less the ``spread``), rounded with ``rounding``."""

    price: Money
    to_pay: Money
    rate: ExchangeRate
    market_rate: ExchangeRate
    spread: Decimal
    rounding: str


def quote_price(
    uow: UnitOfWork,
    *,
    price: Money,
    pay_in: str,
    spread: Decimal,
    rounding: str,
    max_age: timedelta,
    now: datetime,
) -> PriceQuote:
    """What a payer paying in ``pay_in`` pays for ``price``, at the rate of ``latest_rate``
    made worse for the payer by ``spread`` (0.02 for 2 %), rounded with ``rounding``.

    Raises UnknownCurrency when Saldo keeps no money in ``pay_in``; UnknownRate, StaleRate
    or InvalidRate as ``latest_rate``; InvalidRate for a bad spread or rounding mode.
    """
    minor_unit_exponent(pay_in)
    market = latest_rate(uow, base=pay_in, quote=price.currency, max_age=max_age, now=now)
    payer_rate = with_spread(market, spread)
    return PriceQuote(
        price=price,
        to_pay=convert(price, rate=payer_rate, rounding=rounding),
        rate=payer_rate,
        market_rate=market,
        spread=spread,
        rounding=rounding,
    )
