"""Exchange rates: what one unit of a currency is worth in another, and where that came from.

``ExchangeRate(base="USD", quote="ARS", rate=Decimal("1000"), ...)`` reads "1 USD = 1000 ARS".
Rates are ``Decimal`` and never floats; they come from a named source at a known moment, and
a quote refuses a rate older than its maximum age. Rates worked out here (an inverse, a cross
rate, a rate after the spread) are rounded to ``DERIVED_RATE_DIGITS`` significant digits, so
the rate a payer is shown is exactly the rate their amount was converted with. Converting
money names its rounding mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import (
    ROUND_05UP,
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Final

from babel.numbers import list_currencies

from saldo.domain.errors import SaldoError
from saldo.domain.money import Money
from saldo.domain.periods import NaiveDateTime, require_aware

# The modes of the ``decimal`` module: a conversion names one of them.
ROUNDING_MODES: Final[frozenset[str]] = frozenset(
    {
        ROUND_UP,
        ROUND_DOWN,
        ROUND_CEILING,
        ROUND_FLOOR,
        ROUND_HALF_UP,
        ROUND_HALF_DOWN,
        ROUND_HALF_EVEN,
        ROUND_05UP,
    }
)

# Rates are stored as plain decimal text (exact on SQLite and PostgreSQL alike); no source
# publishes more digits than this.
RATE_TEXT_MAX: Final = 40
# No two currencies Saldo keeps are a billion apart: a rate outside this range is a typo
# (or a feed's fault), and would turn an ordinary amount into one no balance can hold.
RATE_RANGE: Final = (Decimal("0.000000001"), Decimal("1000000000"))

# Inverse, cross and spread rates keep 12 significant digits, rounded half-even. A cross of
# two ECB rates (5 or 6 digits each) stays exact, and 12 digits move a converted amount of a
# billion by less than a hundredth.
DERIVED_RATE_DIGITS: Final = 12
_DERIVED = Context(
    prec=DERIVED_RATE_DIGITS,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
# Conversions multiply exactly (an amount's 19 digits times a 40-digit rate fit) and divide
# rounding to "odd" (ROUND_05UP) far below the cent, so that the named rounding that follows
# is the only one that decides the result: no double rounding.
_CONVERSION = Context(prec=80, rounding=ROUND_05UP, traps=[InvalidOperation, DivisionByZero])

_PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_ISO_CODES: Final = frozenset(list_currencies())

# The pivots cross rates go through, in the order they are tried: the ECB quotes everything
# against the euro, and most other sources against the dollar.
PIVOTS: Final[tuple[str, ...]] = ("EUR", "USD")


class InvalidRate(SaldoError, ValueError):
    """A rate, a spread or a rounding mode that Saldo cannot use."""

    code = "invalid_rate"


class UnknownRate(SaldoError):
    """No stored rate links the two currencies, directly, inverted or through a pivot."""

    code = "unknown_rate"


class StaleRate(SaldoError):
    """The newest rate is older than quotes accept."""

    code = "stale_rate"

    def __init__(self, message: str, *, rate: ExchangeRate, age: timedelta) -> None:
        super().__init__(message)
        self.rate = rate
        self.age = age


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """1 ``base`` = ``rate`` ``quote``, as ``source`` gave it at ``fetched_at`` (aware UTC).

    ``via`` names the pivot currency of a cross rate; it is None for a rate a source quoted
    (directly or inverted). Raises InvalidRate for a float or a rate that is not positive, an
    unknown or repeated currency, an empty source, or a naive ``fetched_at``.
    """

    base: str
    quote: str
    rate: Decimal
    source: str
    fetched_at: datetime
    via: str | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        check_currency(self.base)
        check_currency(self.quote)
        if self.via is not None:
            check_currency(self.via)
        if self.base == self.quote:
            raise InvalidRate(f"a rate links two currencies, not {self.base} to itself")
        if isinstance(self.rate, float):
            raise InvalidRate("rates are never floats; pass a Decimal or a string")
        if not isinstance(self.rate, Decimal):
            raise InvalidRate(f"a rate is a Decimal, not {type(self.rate).__name__}")
        if not self.rate.is_finite() or self.rate <= 0:
            raise InvalidRate(f"a rate is a positive number, not {self.rate}")
        check_source(self.source)
        try:
            fetched_at = require_aware(self.fetched_at)
        except NaiveDateTime:
            raise InvalidRate("a rate's fetched_at needs a timezone") from None
        object.__setattr__(self, "fetched_at", fetched_at)

    @property
    def pair(self) -> str:
        return f"{self.base}/{self.quote}"

    def inverse(self) -> ExchangeRate:
        """The same rate the other way round: 1 ``quote`` = 1/``rate`` ``base``."""
        return replace(
            self, base=self.quote, quote=self.base, rate=_DERIVED.divide(Decimal(1), self.rate)
        )


def check_currency(code: str) -> str:
    """Return ``code`` when it is an ISO 4217 currency code; raise InvalidRate otherwise."""
    if not isinstance(code, str) or not _CURRENCY.fullmatch(code):
        raise InvalidRate(f"{code!r} is not an ISO 4217 code like USD")
    if code not in _ISO_CODES:
        raise InvalidRate(f"{code} is not an ISO 4217 currency")
    return code


def check_source(name: str) -> str:
    """Return ``name`` when it can name a rate's source (``"ecb"``, ``"bcra"``): not empty,
    without surrounding spaces; raise InvalidRate otherwise."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidRate("a rate names its source")
    if name != name.strip():
        raise InvalidRate(f"a source is a name without surrounding spaces, not {name!r}")
    return name


def parse_rate(text: str) -> Decimal:
    """A rate from its plain decimal text (``"1.0876"``, ``"162.45"``), exactly.

    Raises InvalidRate for a decimal comma, a sign, an exponent, zero, more than
    ``RATE_TEXT_MAX`` characters, or a rate outside ``RATE_RANGE``.
    """
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise InvalidRate(f"{text!r} is not a plain decimal rate like 1.0876")
    if len(text) > RATE_TEXT_MAX:
        raise InvalidRate(f"a rate has at most {RATE_TEXT_MAX} characters")
    value = Decimal(text)
    if value == 0:
        raise InvalidRate("a rate of zero is not a rate")
    least, most = RATE_RANGE
    if not least <= value <= most:
        raise InvalidRate(f"{text} is not a rate between currencies (0.000000001 to 1000000000)")
    return value


def rate_text(rate: Decimal) -> str:
    """The rate as plain decimal text, without exponent (``Decimal("1E+3")`` → ``"1000"``)."""
    return format(rate, "f")


def parse_spread(text: str) -> Decimal:
    """A spread from its plain decimal text, a fraction such as ``"0.02"`` for 2 %.

    Raises InvalidRate when it is not a plain decimal from 0 up to, not including, 1.
    """
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise InvalidRate(f"{text!r} is not a spread like 0.02 (for 2 %)")
    spread = Decimal(text)
    _check_spread(spread)
    return spread


def _check_spread(spread: Decimal) -> None:
    if not isinstance(spread, Decimal):
        raise InvalidRate("a spread is a Decimal such as Decimal('0.02'), never a float")
    if not spread.is_finite() or not 0 <= spread < 1:
        raise InvalidRate(f"a spread is a fraction from 0 up to 1 (0.02 is 2 %), not {spread}")


def with_spread(rate: ExchangeRate, spread: Decimal) -> ExchangeRate:
    """The rate a payer gets who pays in ``rate.base`` for something priced in ``rate.quote``:
    ``spread`` fewer quote units per base unit (``1 USD = 1000 ARS`` with 0.02 becomes
    ``1 USD = 980 ARS``), so the payer pays more. Orient the rate with ``inverse()`` first.

    Raises InvalidRate unless ``spread`` is a Decimal from 0 up to, not including, 1.
    """
    _check_spread(spread)
    if spread == 0:
        return rate
    kept = _CONVERSION.subtract(Decimal(1), spread)
    return replace(rate, rate=_DERIVED.multiply(rate.rate, kept))


def cross(a_to_pivot: ExchangeRate, pivot_to_b: ExchangeRate) -> ExchangeRate:
    """The rate from A to B through a pivot: ``A/P × P/B``. It is as old as its older leg,
    names both sources (``"ecb+bcra"`` when they differ) and has ``via`` = the pivot.

    Raises InvalidRate when the legs do not meet at one pivot or lead back to A.
    """
    pivot = a_to_pivot.quote
    if pivot_to_b.base != pivot:
        raise InvalidRate(
            f"{a_to_pivot.pair} and {pivot_to_b.pair} do not meet at one pivot currency"
        )
    if a_to_pivot.via is not None or pivot_to_b.via is not None:
        raise InvalidRate("a cross rate is made of two quoted rates, not of cross rates")
    sources = [a_to_pivot.source]
    if pivot_to_b.source != a_to_pivot.source:
        sources.append(pivot_to_b.source)
    return ExchangeRate(
        base=a_to_pivot.base,
        quote=pivot_to_b.quote,
        rate=_DERIVED.multiply(a_to_pivot.rate, pivot_to_b.rate),
        source="+".join(sources),
        fetched_at=min(a_to_pivot.fetched_at, pivot_to_b.fetched_at),
        via=pivot,
    )


def convert(amount: Money, *, rate: ExchangeRate, rounding: str) -> Money:
    """``amount`` in the other currency of ``rate``: times the rate when it is in the base
    currency, divided by it when it is in the quote currency, then rounded to the target's
    minor units with ``rounding`` (one of ``ROUNDING_MODES``, e.g. ROUND_HALF_UP).

    Raises InvalidRate for an unknown rounding mode or an amount in neither currency, and
    UnknownCurrency when Saldo keeps no money in the target currency.
    """
    if rounding not in ROUNDING_MODES:
        raise InvalidRate(f"{rounding!r} is not a rounding mode; use one of ROUND_HALF_UP, ...")
    value = amount.to_decimal()
    if amount.currency == rate.base:
        return Money.of_rounded(
            _CONVERSION.multiply(value, rate.rate), rate.quote, rounding=rounding
        )
    if amount.currency == rate.quote:
        return Money.of_rounded(_CONVERSION.divide(value, rate.rate), rate.base, rounding=rounding)
    raise InvalidRate(f"{amount} cannot be converted with a {rate.pair} rate")


def rate_age(rate: ExchangeRate, *, now: datetime) -> timedelta:
    """How long ago the rate was fetched (negative for a rate stamped after ``now``)."""
    return require_aware(now) - rate.fetched_at


def is_fresh(rate: ExchangeRate, *, max_age: timedelta, now: datetime) -> bool:
    """True while the rate is at most ``max_age`` old."""
    return rate_age(rate, now=now) <= max_age


def check_fresh(rate: ExchangeRate, *, max_age: timedelta, now: datetime) -> ExchangeRate:
    """Return ``rate`` if it is at most ``max_age`` old; raise StaleRate otherwise."""
    age = rate_age(rate, now=now)
    if age > max_age:
        raise StaleRate(
            f"the {rate.pair} rate from {rate.source} was fetched "
            f"{rate.fetched_at:%Y-%m-%d %H:%M} UTC, {describe_age(age)} ago; quotes accept "
            f"rates up to {describe_age(max_age)} old",
            rate=rate,
            age=age,
        )
    return rate


def describe_age(age: timedelta) -> str:
    """An age for people: ``"45 min"``, ``"3 h"``, ``"2 d 5 h"``."""
    minutes = max(int(age.total_seconds()) // 60, 0)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
