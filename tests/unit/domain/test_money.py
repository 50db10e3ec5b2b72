"""Money: exact construction, rounding by named modes, arithmetic, and money as people in
each of our locales type it and read it."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest
from babel import Locale
from babel.numbers import format_currency
from hypothesis import example, given, settings
from hypothesis import strategies as st

from saldo.domain.money import (
    MAX_MINOR,
    WHOLE_UNIT_DISPLAY,
    CurrencyMismatch,
    InvalidAmount,
    Money,
    UnknownCurrency,
    decimals_in_use,
    format_money,
    minor_unit_exponent,
    parse_money,
)

NARROW_NBSP = "\u202f"
NBSP = "\u00a0"

# The (locale, currency) pairs the bundled operators speak: Argentina (es_AR, en),
# Colombia (es_CO, en) and Belgium (fr_BE, nl_BE, en).
OPERATOR_LOCALES = [
    ("es_AR", "ARS"),
    ("en", "ARS"),
    ("es_CO", "COP"),
    ("en", "COP"),
    ("fr_BE", "EUR"),
    ("nl_BE", "EUR"),
    ("en", "EUR"),
]


# -- Money.of ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("1234.56", "ARS", 123456),
        ("12.5", "EUR", 1250),
        ("12", "EUR", 1200),
        (" 12.50 ", "EUR", 1250),
        ("-3.10", "EUR", -310),
        ("50000", "COP", 5000000),
        ("1500", "CLP", 1500),
        ("1500.00", "JPY", 1500),
        (Decimal("12.50"), "EUR", 1250),
        (Decimal("1E+3"), "EUR", 100000),
        (7, "EUR", 700),
        (7, "JPY", 7),
    ],
)
def test_money_of_takes_canonical_strings_decimals_and_ints(
    amount: str | Decimal | int, currency: str, minor: int
) -> None:
    money = Money.of(amount, currency)

    assert money == Money(minor, currency)


@pytest.mark.parametrize("amount", [12.5, 0.0])
def test_money_of_refuses_a_float(amount: float) -> None:
    with pytest.raises(InvalidAmount, match="never floats"):
        Money.of(amount, "EUR")  # type: ignore[arg-type]


def test_money_of_refuses_a_boolean() -> None:
    with pytest.raises(InvalidAmount):
        Money.of(True, "EUR")


@pytest.mark.parametrize("text", ["1e3", "1E3", "+3.10", "3.", ".5", "1,5", "", "1.2.3"])
def test_money_of_refuses_text_that_is_not_a_plain_decimal(text: str) -> None:
    with pytest.raises(InvalidAmount, match="not a plain decimal amount"):
        Money.of(text, "EUR")


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity")])
def test_money_of_refuses_a_decimal_that_is_not_finite(amount: Decimal) -> None:
    with pytest.raises(InvalidAmount, match="not a finite amount"):
        Money.of(amount, "EUR")


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("0.001", "ARS"),
        (Decimal("1.234"), "EUR"),
        ("1.5", "CLP"),
        ("1500.5", "JPY"),
    ],
)
def test_money_of_refuses_more_decimals_than_the_currency_has(
    amount: str | Decimal, currency: str
) -> None:
    with pytest.raises(InvalidAmount, match=f"more than .* decimal places for {currency}"):
        Money.of(amount, currency)


@pytest.mark.parametrize("amount", ["12.345", "50000.50", "0.01", Decimal("1.5")])
def test_colombian_pesos_are_taken_in_whole_pesos_only(amount: str | Decimal) -> None:
    with pytest.raises(InvalidAmount, match="amounts in COP are whole units"):
        Money.of(amount, "COP")


def test_colombian_pesos_are_still_kept_in_iso_centavos() -> None:
    assert Money.of("50000", "COP").minor == 5_000_000
    assert Money.of("50000.00", "COP").minor == 5_000_000


@pytest.mark.parametrize(
    ("computed", "rounding", "pesos"),
    [
        (Decimal("60504.20"), ROUND_HALF_EVEN, 60504),
        (Decimal("60504.50"), ROUND_HALF_EVEN, 60504),
        (Decimal("60505.50"), ROUND_HALF_EVEN, 60506),
        (Decimal("49.5"), ROUND_HALF_UP, 50),
        (Decimal("0.4"), ROUND_HALF_UP, 0),
    ],
)
def test_a_computed_amount_of_colombian_pesos_is_rounded_to_whole_pesos_by_the_named_mode(
    computed: Decimal, rounding: str, pesos: int
) -> None:
    money = Money.of_rounded(computed, "COP", rounding=rounding)

    assert money == Money(pesos * 100, "COP")


def test_money_of_refuses_a_currency_saldo_does_not_keep() -> None:
    with pytest.raises(UnknownCurrency):
        Money.of("1", "XXX")


@pytest.mark.parametrize("minor", [1.5, True, "100"])
def test_money_refuses_a_minor_amount_that_is_not_an_integer(minor: object) -> None:
    with pytest.raises(InvalidAmount):
        Money(minor, "EUR")  # type: ignore[arg-type]


def test_money_reads_back_as_a_canonical_string_with_the_currency_decimals() -> None:
    assert Money(5, "EUR").canonical() == "0.05"
    assert Money(-5, "EUR").canonical() == "-0.05"
    assert Money(1500, "CLP").canonical() == "1500"
    assert str(Money(1250, "EUR")) == "12.50 EUR"
    assert Money(1250, "EUR").to_decimal() == Decimal("12.50")


# -- rounding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "rounding", "minor"),
    [
        ("2.345", "EUR", ROUND_HALF_EVEN, 234),
        ("2.345", "EUR", ROUND_HALF_UP, 235),
        ("2.355", "EUR", ROUND_HALF_EVEN, 236),
        ("2.355", "EUR", ROUND_HALF_UP, 236),
        ("0.005", "EUR", ROUND_HALF_EVEN, 0),
        ("0.005", "EUR", ROUND_HALF_UP, 1),
        ("-2.345", "EUR", ROUND_HALF_EVEN, -234),
        ("-2.345", "EUR", ROUND_HALF_UP, -235),
        ("2.5", "CLP", ROUND_HALF_EVEN, 2),
        ("2.5", "CLP", ROUND_HALF_UP, 3),
        ("3.5", "CLP", ROUND_HALF_EVEN, 4),
        ("3.5", "CLP", ROUND_HALF_UP, 4),
    ],
)
def test_of_rounded_rounds_a_half_with_the_named_mode(
    amount: str, currency: str, rounding: str, minor: int
) -> None:
    money = Money.of_rounded(Decimal(amount), currency, rounding=rounding)

    assert money == Money(minor, currency)


@pytest.mark.parametrize(
    ("price", "factor", "rounding", "result"),
    [
        ("1.25", "0.5", ROUND_HALF_EVEN, "0.62"),
        ("1.25", "0.5", ROUND_HALF_UP, "0.63"),
        ("1.35", "0.5", ROUND_HALF_EVEN, "0.68"),
        ("1.35", "0.5", ROUND_HALF_UP, "0.68"),
        ("10.05", "0.21", ROUND_HALF_EVEN, "2.11"),
    ],
)
def test_multiply_rounds_the_product_with_the_named_mode(
    price: str, factor: str, rounding: str, result: str
) -> None:
    product = Money.of(price, "EUR").multiply(Decimal(factor), rounding=rounding)

    assert product == Money.of(result, "EUR")


# -- arithmetic -------------------------------------------------------------------------------


def test_amounts_of_one_currency_add_subtract_negate_and_compare() -> None:
    fifty = Money.of("50000", "COP")
    thirty = Money.of("30000", "COP")

    assert fifty + thirty == Money.of("80000", "COP")
    assert thirty - fifty == Money.of("-20000", "COP")
    assert -thirty == Money.of("-30000", "COP")
    assert thirty < fifty
    assert thirty <= thirty
    assert fifty > thirty
    assert fifty >= fifty
    assert Money.zero("COP").is_zero()
    assert (thirty - fifty).is_negative()


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
    ids=["add", "subtract", "lt", "le", "gt", "ge"],
)
def test_amounts_in_different_currencies_do_not_mix(combine) -> None:  # type: ignore[no-untyped-def]
    euros = Money.of("10", "EUR")
    pesos = Money.of("10", "ARS")

    with pytest.raises(CurrencyMismatch, match="EUR and ARS do not mix"):
        combine(euros, pesos)


def test_amounts_in_different_currencies_are_not_equal() -> None:
    assert Money.of("10", "EUR") != Money.of("10", "ARS")


def test_money_does_not_add_a_bare_number() -> None:
    with pytest.raises(TypeError):
        Money.of("10", "EUR") + 1  # type: ignore[operator]


# -- parse_money ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "locale", "minor"),
    [
        ("1.234,56", "ARS", "es_AR", 123456),
        ("1234,56", "ARS", "es_AR", 123456),
        ("500,00", "ARS", "es_AR", 50000),
        ("1.500", "ARS", "es_AR", 150000),
        ("50.000", "COP", "es_CO", 5000000),
        ("50000", "COP", "es_CO", 5000000),
        ("1 234,56", "EUR", "fr_BE", 123456),
        (f"1{NARROW_NBSP}234,56", "EUR", "fr_BE", 123456),
        (f"1{NBSP}234,56", "EUR", "fr_BE", 123456),
        ("1.234,56", "EUR", "nl_BE", 123456),
        ("1,234.56", "EUR", "en", 123456),
        ("12.50", "EUR", "en", 1250),
        ("1.234", "CLP", "es_AR", 1234),
    ],
)
def test_parse_money_reads_amounts_as_people_type_them_in_their_locale(
    text: str, currency: str, locale: str, minor: int
) -> None:
    money = parse_money(text, currency=currency, locale=locale)

    assert money == Money(minor, currency)


@pytest.mark.parametrize(
    ("text", "currency", "locale", "minor"),
    [
        ("$ 1.234,56", "ARS", "es_AR", 123456),
        ("$1.234,56", "ARS", "es_AR", 123456),
        ("1.234,56 $", "ARS", "es_AR", 123456),
        ("ARS 1.234,56", "ARS", "es_AR", 123456),
        ("1.234,56 ARS", "ARS", "es_AR", 123456),
        ("$ 50.000", "COP", "es_CO", 5000000),
        ("COP 50.000", "COP", "es_CO", 5000000),
        ("EUR 12,50", "EUR", "fr_BE", 1250),
        ("12,50 EUR", "EUR", "fr_BE", 1250),
        ("12,50 €", "EUR", "fr_BE", 1250),
        ("$AR 1 234,56", "ARS", "fr_BE", 123456),
        ("€ 12,50", "EUR", "nl_BE", 1250),
        ("€12.50", "EUR", "en", 1250),
    ],
)
def test_parse_money_accepts_a_leading_or_trailing_currency_symbol_or_code(
    text: str, currency: str, locale: str, minor: int
) -> None:
    money = parse_money(text, currency=currency, locale=locale)

    assert money == Money(minor, currency)


@pytest.mark.parametrize(
    ("text", "currency", "locale"),
    [
        ("USD 12.50", "EUR", "en"),
        ("US$ 12.50", "EUR", "en"),
    ],
)
def test_parse_money_refuses_the_code_of_another_currency(
    text: str, currency: str, locale: str
) -> None:
    with pytest.raises(InvalidAmount):
        parse_money(text, currency=currency, locale=locale)


@pytest.mark.parametrize(
    ("text", "currency", "locale"),
    [
        ("500.00", "ARS", "es_AR"),
        ("1.5", "ARS", "es_AR"),
        ("1.234,56", "EUR", "en"),
        ("1,50", "EUR", "en"),
        ("1 234,56", "EUR", "nl_BE"),
        ("12.34.567", "ARS", "es_AR"),
    ],
)
def test_parse_money_refuses_text_written_for_another_locale(
    text: str, currency: str, locale: str
) -> None:
    with pytest.raises(InvalidAmount, match="is not an amount"):
        parse_money(text, currency=currency, locale=locale)


@pytest.mark.parametrize(
    ("text", "currency", "locale"),
    [
        ("12,345", "ARS", "es_AR"),
        ("1,234", "EUR", "nl_BE"),
        ("1.234,5", "CLP", "es_AR"),
    ],
)
def test_parse_money_refuses_more_decimals_than_the_currency_has(
    text: str, currency: str, locale: str
) -> None:
    with pytest.raises(InvalidAmount, match="decimal places"):
        parse_money(text, currency=currency, locale=locale)


def test_parse_money_refuses_a_negative_amount_by_default() -> None:
    with pytest.raises(InvalidAmount, match="negative"):
        parse_money("-5,00", currency="ARS", locale="es_AR")


@pytest.mark.parametrize("text", ["-5,00", "- 5,00", "$ -5,00"])
def test_parse_money_reads_a_negative_amount_when_allowed(text: str) -> None:
    money = parse_money(text, currency="ARS", locale="es_AR", allow_negative=True)

    assert money == Money(-500, "ARS")


@pytest.mark.parametrize("text", ["1e3", "1E3", "2,5e2"])
def test_parse_money_refuses_exponent_notation(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_money(text, currency="ARS", locale="es_AR")


@pytest.mark.parametrize("text", ["", "   ", "abc", "$", "NaN", "Infinity", "5,00-"])
def test_parse_money_refuses_empty_or_garbage_text(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_money(text, currency="ARS", locale="es_AR")


@pytest.mark.parametrize(
    ("text", "locale"), [("1_000", "es_AR"), ("1_0", "en"), ("1.000_5", "es_AR")]
)
def test_parse_money_refuses_underscores_which_only_python_reads_as_digit_groups(
    text: str, locale: str
) -> None:
    with pytest.raises(InvalidAmount, match="is not an amount"):
        parse_money(text, currency="ARS", locale=locale)


@pytest.mark.parametrize(
    "text", ["99999999999999999", "90.000.000.000.000.000", "10.000.000.000.001"]
)
def test_parse_money_refuses_an_amount_beyond_what_saldo_takes(text: str) -> None:
    # the database keeps 64-bit integers: no amount comes near, nor could overflow a balance
    with pytest.raises(InvalidAmount, match="more than any amount Saldo takes"):
        parse_money(text, currency="COP", locale="es_CO")


def test_the_largest_amount_taken_is_ten_trillion_of_a_two_decimal_currency() -> None:
    assert Money.of("10000000000000", "COP") == Money(MAX_MINOR, "COP")
    assert Money.of("-10000000000000", "COP") == Money(-MAX_MINOR, "COP")
    with pytest.raises(InvalidAmount):
        Money.of("10000000000001", "COP")
    with pytest.raises(InvalidAmount):
        Money.of(MAX_MINOR * 10 + 1, "JPY")


def test_parse_money_refuses_an_unknown_locale() -> None:
    with pytest.raises(InvalidAmount, match="unknown locale"):
        parse_money("1.234,56", currency="ARS", locale="xx_YY")


def test_parse_money_refuses_an_unknown_currency() -> None:
    with pytest.raises(UnknownCurrency):
        parse_money("1.234,56", currency="XXX", locale="es_AR")


# -- format_money -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "locale", "shown"),
    [
        (Money(123456, "ARS"), "es_AR", "$1.234,56"),
        (Money(5000000, "ARS"), "es_AR", "$50.000,00"),
        (Money(5000000, "COP"), "es_CO", "$50.000"),
        (Money(5000050, "COP"), "es_CO", "$50.000,50"),
        (Money(123456, "EUR"), "fr_BE", f"1{NARROW_NBSP}234,56{NBSP}€"),
        (Money(1250, "EUR"), "fr_BE", f"12,50{NBSP}€"),
        (Money(123456, "EUR"), "nl_BE", f"€{NBSP}1.234,56"),
        (Money(123456, "EUR"), "en", "€1,234.56"),
        (Money(123456, "ARS"), "en", "ARS1,234.56"),
        (Money(5000000, "COP"), "en", "COP50,000"),
        (Money(123456, "ARS"), "zh_CN", "ARS1,234.56"),
        (Money(1250, "EUR"), "zh_CN", "€12.50"),
        (Money(1234, "CLP"), "en", "CLP1,234"),
    ],
)
def test_format_money_shows_amounts_as_people_read_them(
    money: Money, locale: str, shown: str
) -> None:
    assert format_money(money, locale=locale) == shown


@pytest.mark.parametrize(("locale", "currency"), OPERATOR_LOCALES)
@settings(deadline=None)
@given(minor=st.integers(min_value=0, max_value=10**15))
@example(minor=0)
@example(minor=123_456)
@example(minor=5_000_000)
def test_formatted_money_parses_back_to_the_same_amount(
    locale: str, currency: str, minor: int
) -> None:
    """Proves that for any non-negative amount Saldo takes (whole pesos for COP), what
    format_money shows in each locale an operator speaks is read back by parse_money, symbol
    and separators included, as the very same amount."""
    step = 10 ** (minor_unit_exponent(currency) - decimals_in_use(currency))
    money = Money(minor - minor % step, currency)

    shown = format_money(money, locale=locale)

    assert parse_money(shown, currency=currency, locale=locale) == money


@settings(max_examples=300)
@given(
    minor=st.integers(min_value=-(10**13), max_value=10**13),
    locale=st.sampled_from(["es_AR", "es_CO", "fr_BE", "nl_BE", "en", "zh_CN"]),
    currency=st.sampled_from(["ARS", "COP", "EUR", "USD", "CNY", "CLP"]),
)
def test_money_is_formatted_exactly_as_babel_formats_it(
    minor: int, locale: str, currency: str
) -> None:
    """Proves that the fast formatter used for every SMS reply writes any amount, positive or
    negative, as Babel lays out the locale's standard currency pattern in every locale Saldo
    speaks, with Saldo's own rule for decimals (not CLDR's, which changes between Babel
    releases): the ISO decimals, none for whole-unit currencies when the cents are zero, and
    the cents shown should an amount have any, never hidden."""
    money = Money(minor, currency)
    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    whole = currency in WHOLE_UNIT_DISPLAY and minor % 10**money.exponent == 0
    if whole or money.exponent == 0:
        pattern = pattern.replace(".00", "")

    expected = format_currency(
        money.to_decimal(), currency, format=pattern, locale=locale, currency_digits=False
    )

    assert format_money(money, locale=locale) == expected
