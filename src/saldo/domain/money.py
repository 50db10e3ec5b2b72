"""Money: an integer count of minor units of one ISO 4217 currency.

Amounts are never floats. They come from canonical decimal strings (``"1234.56"``), from
``Decimal`` values, or from people's text in their locale (``"1.234,56"`` in es_AR), which is
parsed with Babel and refused when it is ambiguous, has more decimals than the currency allows,
uses exponent notation, or is negative where that is not allowed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Final

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    NumberFormatError,
    get_currency_symbol,
    list_currencies,
    parse_decimal,
)

from saldo.domain.errors import SaldoError

# ISO 4217 minor-unit exponents of the currencies Saldo serves or quotes in. A currency that is
# not here is refused rather than guessed: its exponent decides every amount stored for it.
MINOR_UNIT_EXPONENTS: Final[dict[str, int]] = {
    "ARS": 2,
    "BRL": 2,
    "CLP": 0,
    "CNY": 2,
    "COP": 2,
    "EUR": 2,
    "GBP": 2,
    "JPY": 0,
    "MXN": 2,
    "PEN": 2,
    "PYG": 0,
    "USD": 2,
    "UYU": 2,
}

# Currencies that ISO 4217 gives minor units nobody uses: Colombian pesos have had no centavo
# coins since the 1980s, and CLDR, the carriers and people write "$ 50.000". Saldo keeps such
# an amount in the ISO minor units (centavos, as processors such as Stripe count it), but every
# amount of it is a whole number of units: one taken in with centavos is refused, and one Saldo
# computes (a tax split, an exchange, a fee, a discount, a rated call) is rounded to whole units
# by the rounding mode its rule names. docs/operators.md ("Colombian pesos") says why.
WHOLE_UNITS_ONLY: Final[frozenset[str]] = frozenset({"COP"})

# Currencies shown without decimals (the whole-unit ones, and those ISO gives none). Should an
# amount with centavos reach the formatter (written before the whole-units rule), its centavos
# are shown rather than hidden: money on screen is never rounded.
WHOLE_UNIT_DISPLAY: Final[frozenset[str]] = WHOLE_UNITS_ONLY | {"CLP", "PYG", "JPY"}


class InvalidAmount(SaldoError, ValueError):
    """An amount could not be understood as money in the given currency."""

    code = "invalid_amount"


class UnknownCurrency(InvalidAmount):
    """The currency code is not one Saldo keeps money in."""

    code = "unknown_currency"


class ForeignCurrency(InvalidAmount):
    """The text names another currency than the one the amount must be in."""

    code = "wrong_currency"


class CurrencyMismatch(SaldoError, ValueError):
    """Two amounts in different currencies were combined."""

    code = "currency_mismatch"


def minor_unit_exponent(currency: str) -> int:
    """Return the ISO 4217 exponent of ``currency``; raise UnknownCurrency otherwise."""
    try:
        return MINOR_UNIT_EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrency(f"unknown currency {currency!r}") from None


def decimals_in_use(currency: str) -> int:
    """The decimals an amount of ``currency`` may have: the ISO exponent, or 0 for the
    currencies counted in whole units only (COP). Raises UnknownCurrency."""
    exponent = minor_unit_exponent(currency)
    return 0 if currency in WHOLE_UNITS_ONLY else exponent


# The largest amount taken in or computed, in minor units (10 trillion of a two-decimal
# currency). The database keeps money in 64-bit integers, about 9.2e18: no single amount
# comes near, and a balance would need thousands of such amounts (operators bound each
# top-up far lower, docs/operators.md) before it could overflow.
MAX_MINOR = 10**15


def smallest_amount(currency: str) -> int:
    """The minor units of the smallest amount of ``currency`` in use: 100 (one peso) for a
    whole-units currency such as COP, 1 otherwise. Raises UnknownCurrency."""
    return int(10 ** (minor_unit_exponent(currency) - decimals_in_use(currency)))


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An exact amount: ``minor`` units (cents, centavos) of ``currency``."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise InvalidAmount("money is an integer count of minor units")
        minor_unit_exponent(self.currency)

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def of(cls, amount: Decimal | str | int, currency: str) -> Money:
        """Exact money from a Decimal, an int or a canonical string such as ``"1234.56"``: an
        amount taken in (from people, clients or the catalog).

        Raises InvalidAmount for floats, exponents, more decimals than the currency has (any
        decimals for a whole-units currency such as COP), or more than ``MAX_MINOR``.
        """
        if isinstance(amount, float):
            raise InvalidAmount("amounts are never floats; pass a string or a Decimal")
        if isinstance(amount, str):
            text = amount.strip()
            if not _CANONICAL.fullmatch(text):
                raise InvalidAmount(f"{amount!r} is not a plain decimal amount like 1234.56")
            value = Decimal(text)
        elif isinstance(amount, bool):
            raise InvalidAmount("a boolean is not an amount")
        else:
            value = Decimal(amount)
        if not value.is_finite():
            raise InvalidAmount(f"{amount!r} is not a finite amount")
        money = cls._exact(value, currency)
        if abs(money.minor) > MAX_MINOR:
            raise InvalidAmount(f"{amount} {currency} is more than any amount Saldo takes")
        return money

    @classmethod
    def _exact(cls, value: Decimal, currency: str) -> Money:
        decimals = decimals_in_use(currency)
        if value.scaleb(decimals) != value.scaleb(decimals).to_integral_value():
            if currency in WHOLE_UNITS_ONLY:
                raise InvalidAmount(f"{value} {currency}: amounts in {currency} are whole units")
            raise InvalidAmount(f"{value} has more than {decimals} decimal places for {currency}")
        return cls(int(value.scaleb(minor_unit_exponent(currency))), currency)

    @classmethod
    def of_rounded(cls, amount: Decimal, currency: str, *, rounding: str) -> Money:
        """Money from a computed Decimal, rounded to the currency's precision (whole units for
        COP, see ``decimals_in_use``). Raises InvalidAmount beyond ``MAX_MINOR`` (a conversion
        at an absurd rate).

        ``rounding`` is one of the ``decimal`` module's modes (ROUND_HALF_EVEN, ROUND_HALF_UP,
        ROUND_DOWN, ...): every rounding in Saldo says which one it uses.
        """
        quantum = Decimal(1).scaleb(-decimals_in_use(currency))
        try:
            money = cls._exact(amount.quantize(quantum, rounding=rounding), currency)
        except InvalidOperation:  # more digits than the decimal context holds
            raise InvalidAmount(
                f"{amount} {currency} is more than any amount Saldo keeps"
            ) from None
        if abs(money.minor) > MAX_MINOR:
            raise InvalidAmount(
                f"{money.canonical()} {currency} is more than any amount Saldo keeps"
            )
        return money

    # -- reading -----------------------------------------------------------------------------

    @property
    def exponent(self) -> int:
        return minor_unit_exponent(self.currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-self.exponent)

    def canonical(self) -> str:
        """The amount as a plain decimal string with the currency's decimals, e.g. ``"12.50"``."""
        return f"{self.to_decimal():.{self.exponent}f}"

    def is_zero(self) -> bool:
        return self.minor == 0

    def is_negative(self) -> bool:
        return self.minor < 0

    # -- arithmetic --------------------------------------------------------------------------

    def _same_currency(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} do not mix")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.minor >= other.minor

    def multiply(self, factor: Decimal, *, rounding: str) -> Money:
        """This amount times ``factor``, rounded to minor units with the named mode."""
        return Money.of_rounded(self.to_decimal() * factor, self.currency, rounding=rounding)

    def __str__(self) -> str:
        return f"{self.canonical()} {self.currency}"


_CANONICAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
# Anything a person may type around the digits in any of our locales: digits, separators,
# spaces (regular, no-break and narrow no-break), a sign, and currency symbols or codes.
# Exponents ("1e3") and digit separators that only Python reads ("1_000") are not amounts.
_NOT_NUMERIC = re.compile(r"[eE_]")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def parse_money(text: str, *, currency: str, locale: str, allow_negative: bool = False) -> Money:
    """Parse money typed by a person in ``locale`` (``"1.234,56"`` in es_AR, ``"1,234.56"``
    in en, ``"1 234,56"`` in fr_BE).

    A leading or trailing currency symbol or code is accepted. Raises InvalidAmount when the
    text is empty, ambiguous for the locale, in exponent notation, has more decimals than the
    currency allows, or is negative while ``allow_negative`` is false.
    """
    try:
        babel_locale = Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        raise InvalidAmount(f"unknown locale {locale!r}") from None
    cleaned = _strip_currency(text.strip(), currency=currency, locale=babel_locale)
    if (
        not cleaned
        or _NOT_NUMERIC.search(cleaned)
        or not any(c in "0123456789" for c in cleaned)
        or any(c.isdigit() and c not in "0123456789" for c in cleaned)
    ):
        raise InvalidAmount(f"{text!r} is not an amount")
    negative = cleaned.startswith("-")
    if negative:
        if not allow_negative:
            raise InvalidAmount(f"{text!r} is negative; amounts here must be positive")
        cleaned = cleaned[1:].lstrip()
    group = babel_locale.number_symbols["latn"]["group"]
    if _SPACES.fullmatch(group):
        # People type a plain space where the locale groups with a narrow no-break space.
        cleaned = _SPACES.sub(group, cleaned)
    elif _SPACES.search(cleaned):
        raise InvalidAmount(f"{text!r} is not an amount")
    try:
        value = parse_decimal(cleaned, locale=babel_locale, strict=True)
    except NumberFormatError as error:
        hint = f" (did you mean {error.suggestions[0]}?)" if error.suggestions else ""
        raise InvalidAmount(f"{text!r} is not an amount in {locale}{hint}") from None
    if value.is_signed():
        raise InvalidAmount(f"{text!r} is not an amount")
    money = Money.of(value, currency)
    return -money if negative else money


def _strip_currency(text: str, *, currency: str, locale: Locale) -> str:
    """The text without this currency's code or symbol; raise ForeignCurrency when it names
    another currency ("€10" for a COP line, "10 USD" for an EUR one)."""
    own = {currency, locale.currency_symbols.get(currency, currency)}
    for token in sorted(own, key=len, reverse=True):
        if text.startswith(token):
            text = text[len(token) :].strip()
            break
        if text.endswith(token):
            text = text[: -len(token)].strip()
            break
    codes = {word.upper() for word in _WORDS.findall(text)} & _ISO_CODES
    if codes or any(unicodedata.category(char) == "Sc" for char in text):
        raise ForeignCurrency(f"amounts here are in {currency}, not {text!r}")
    return text


_WORDS = re.compile(r"[A-Za-z]{3}")
_ISO_CODES = frozenset(list_currencies())


def format_money(money: Money, *, locale: str) -> str:
    """Money for people, as CLDR writes it: ``$1.234,56`` in es_AR, ``1 234,56 €`` in fr_BE,
    ``$50.000`` in es_CO (whole-unit currencies drop zero cents).

    The locale's pattern, symbols and grouping are read from Babel once per locale and
    currency; the digits are laid out here (this runs for every SMS reply). It agrees with
    Babel's ``format_currency`` (a property test checks it).
    """
    whole = money.currency in WHOLE_UNIT_DISPLAY and money.minor % 10**money.exponent == 0
    layout = _layout(locale, money.currency)
    units, cents = divmod(abs(money.minor), 10**money.exponent)
    digits = str(units)
    primary, secondary = layout.grouping
    if len(digits) > primary:
        head, tail = digits[:-primary], digits[-primary:]
        groups = [tail]
        while len(head) > secondary:
            groups.append(head[-secondary:])
            head = head[:-secondary]
        groups.append(head)
        digits = layout.group.join(reversed(groups))
    if money.exponent and not whole:
        digits += layout.decimal + f"{cents:0{money.exponent}d}"
    if money.minor < 0:
        return layout.negative_prefix + digits + layout.negative_suffix
    return layout.prefix + digits + layout.suffix


@dataclass(frozen=True, slots=True)
class _Layout:
    prefix: str
    suffix: str
    negative_prefix: str
    negative_suffix: str
    group: str
    decimal: str
    grouping: tuple[int, int]


@cache
def _layout(locale: str, currency: str) -> _Layout:
    parsed = Locale.parse(locale)
    pattern = parsed.currency_formats["standard"]
    symbols = parsed.number_symbols["latn"]
    symbol = get_currency_symbol(currency, locale=parsed)

    def fill(text: str) -> str:
        return text.replace("¤", symbol).replace("-", symbols["minusSign"])

    return _Layout(
        prefix=fill(pattern.prefix[0]),
        suffix=fill(pattern.suffix[0]),
        negative_prefix=fill(pattern.prefix[1]),
        negative_suffix=fill(pattern.suffix[1]),
        group=symbols["group"],
        decimal=symbols["decimal"],
        grouping=(pattern.grouping[0], pattern.grouping[1]),
    )
