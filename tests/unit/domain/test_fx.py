"""Exchange rates: Decimal-only rates with a source and a time, conversion in both directions
rounded once with a named mode, the payer's spread, cross rates through a pivot, and the
refusal of stale rates. Rates are fixed, at 2026-11-22 13:00 UTC unless a test says otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saldo.domain.fx import (
    ExchangeRate,
    InvalidRate,
    StaleRate,
    UnknownRate,
    check_fresh,
    convert,
    cross,
    describe_age,
    is_fresh,
    parse_rate,
    parse_spread,
    rate_age,
    rate_text,
    with_spread,
)
from saldo.domain.money import MAX_MINOR, InvalidAmount, Money, UnknownCurrency

FETCHED = datetime(2026, 11, 22, 13, 0, tzinfo=UTC)


def rate(base: str, quote: str, value: str, source: str = "test") -> ExchangeRate:
    return ExchangeRate(
        base=base, quote=quote, rate=Decimal(value), source=source, fetched_at=FETCHED
    )


USD_ARS = rate("USD", "ARS", "1450.25", "bcra")
USD_COP = rate("USD", "COP", "3875.50", "banrep")
EUR_CNY = rate("EUR", "CNY", "8.2450", "ecb")
EUR_USD = rate("EUR", "USD", "1.1632", "ecb")
EUR_ARS = rate("EUR", "ARS", "1687.40", "bcra")


# -- the rate value ---------------------------------------------------------------------------


def test_a_rate_keeps_its_source_time_and_every_published_digit() -> None:
    given_rate = rate("EUR", "GBP", "0.88130", "ecb")

    assert given_rate.rate == Decimal("0.88130")
    assert rate_text(given_rate.rate) == "0.88130"
    assert given_rate.source == "ecb"
    assert given_rate.fetched_at == FETCHED
    assert given_rate.pair == "EUR/GBP"
    assert given_rate.via is None


def test_fetched_at_is_kept_in_utc_whatever_zone_it_was_given_in() -> None:
    buenos_aires = timezone(timedelta(hours=-3))

    given_rate = ExchangeRate(
        base="USD",
        quote="ARS",
        rate=Decimal("1450.25"),
        source="bcra",
        fetched_at=datetime(2026, 11, 22, 10, 0, tzinfo=buenos_aires),
    )

    assert given_rate.fetched_at == FETCHED
    assert given_rate.fetched_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.0876, "never floats"),
        (1, "a Decimal, not int"),
        ("1.0876", "a Decimal, not str"),
        (Decimal("0"), "positive"),
        (Decimal("-1.08"), "positive"),
        (Decimal("NaN"), "positive"),
        (Decimal("Infinity"), "positive"),
    ],
)
def test_a_rate_is_a_positive_decimal_and_never_a_float(value: object, message: str) -> None:
    with pytest.raises(InvalidRate, match=message):
        ExchangeRate(base="EUR", quote="USD", rate=value, source="ecb", fetched_at=FETCHED)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("base", "quote", "message"),
    [
        ("usd", "ARS", "not an ISO 4217 code"),
        ("US", "ARS", "not an ISO 4217 code"),
        ("XYZ", "ARS", "not an ISO 4217 currency"),
        ("ARS", "ARS", "not ARS to itself"),
    ],
)
def test_a_rate_links_two_real_currencies(base: str, quote: str, message: str) -> None:
    with pytest.raises(InvalidRate, match=message):
        ExchangeRate(base=base, quote=quote, rate=Decimal("1"), source="x", fetched_at=FETCHED)


@pytest.mark.parametrize("source", ["", "  ", " ecb"])
def test_a_rate_names_its_source(source: str) -> None:
    with pytest.raises(InvalidRate, match="source"):
        ExchangeRate(base="EUR", quote="USD", rate=Decimal("1"), source=source, fetched_at=FETCHED)


def test_a_rate_without_a_timezone_is_refused() -> None:
    with pytest.raises(InvalidRate, match="timezone"):
        ExchangeRate(
            base="EUR",
            quote="USD",
            rate=Decimal("1.1632"),
            source="ecb",
            fetched_at=datetime(2026, 11, 22, 13, 0),
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.0876", "1.0876"),
        ("19402.35", "19402.35"),
        ("0.000689", "0.000689"),
        ("7.6500", "7.6500"),
    ],
)
def test_a_rate_is_read_exactly_from_plain_decimal_text(text: str, expected: str) -> None:
    parsed = parse_rate(text)

    assert parsed == Decimal(expected)
    assert rate_text(parsed) == expected


@pytest.mark.parametrize(
    "text", ["1,0876", "-1.08", "+1.08", "1e3", "1.08E-2", ".5", "5.", "", " 1.08", "0", "0.000"]
)
def test_a_rate_that_is_not_plain_positive_decimal_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidRate):
        parse_rate(text)


def test_a_rate_longer_than_storage_keeps_is_refused() -> None:
    with pytest.raises(InvalidRate, match="at most 40 characters"):
        parse_rate("1." + "1" * 39)


# -- conversion -------------------------------------------------------------------------------


def test_an_amount_in_the_base_currency_is_multiplied_by_the_rate() -> None:
    assert convert(Money.of("100.00", "USD"), rate=USD_ARS, rounding=ROUND_HALF_UP) == Money.of(
        "145025.00", "ARS"
    )


def test_an_amount_in_the_quote_currency_is_divided_by_the_rate() -> None:
    # 10,000 ARS / 1450.25 = 6.8953...
    price = Money.of("10000.00", "ARS")

    assert convert(price, rate=USD_ARS, rounding=ROUND_HALF_UP) == Money.of("6.90", "USD")
    assert convert(price, rate=USD_ARS, rounding=ROUND_DOWN) == Money.of("6.89", "USD")


def test_a_colombian_price_converts_to_dollars() -> None:
    # 50,000 COP / 3875.50 = 12.9015...
    price = Money.of("50000", "COP")

    assert convert(price, rate=USD_COP, rounding=ROUND_HALF_UP) == Money.of("12.90", "USD")
    assert convert(price, rate=USD_COP, rounding=ROUND_CEILING) == Money.of("12.91", "USD")


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [
        (ROUND_HALF_UP, "8.25"),
        (ROUND_HALF_EVEN, "8.24"),
        (ROUND_DOWN, "8.24"),
        (ROUND_UP, "8.25"),
        (ROUND_FLOOR, "8.24"),
    ],
)
def test_a_half_cent_is_rounded_by_the_named_mode(rounding: str, expected: str) -> None:
    # 1 EUR = 8.2450 CNY: exactly half a fen.
    assert convert(Money.of("1.00", "EUR"), rate=EUR_CNY, rounding=rounding) == Money.of(
        expected, "CNY"
    )


def test_a_currency_without_cents_is_rounded_to_whole_units() -> None:
    eur_jpy = rate("EUR", "JPY", "181.27", "ecb")

    assert convert(Money.of("10.00", "EUR"), rate=eur_jpy, rounding=ROUND_HALF_UP) == Money.of(
        "1813", "JPY"
    )


def test_a_division_is_rounded_once_not_first_to_28_digits() -> None:
    # 0.01 / 2.0000000000000000000000000000001 = 0.0049999...9975: below half a cent. Rounded
    # to 28 digits first it would become 0.005 and round up to a cent.
    eur_usd = rate("USD", "EUR", "2.0000000000000000000000000000001")

    assert convert(Money.of("0.01", "EUR"), rate=eur_usd, rounding=ROUND_HALF_UP) == Money.of(
        "0.00", "USD"
    )


def test_a_product_is_exact_before_it_is_rounded() -> None:
    long_rate = rate("EUR", "USD", "0.4999999999999999999999999999999999999")

    assert convert(Money.of("0.01", "EUR"), rate=long_rate, rounding=ROUND_HALF_UP) == Money.of(
        "0.00", "USD"
    )


def test_an_amount_in_neither_currency_of_the_rate_is_refused() -> None:
    with pytest.raises(InvalidRate, match="cannot be converted with a USD/ARS rate"):
        convert(Money.of("10.00", "EUR"), rate=USD_ARS, rounding=ROUND_HALF_UP)


@pytest.mark.parametrize("rounding", ["HALF_UP", "round_half_up", ""])
def test_a_conversion_names_a_real_rounding_mode(rounding: str) -> None:
    with pytest.raises(InvalidRate, match="not a rounding mode"):
        convert(Money.of("10.00", "USD"), rate=USD_ARS, rounding=rounding)


def test_money_is_never_made_in_a_currency_saldo_does_not_keep() -> None:
    eur_huf = rate("EUR", "HUF", "384.90", "ecb")

    with pytest.raises(UnknownCurrency):
        convert(Money.of("10.00", "EUR"), rate=eur_huf, rounding=ROUND_HALF_UP)


amounts = st.integers(min_value=0, max_value=10**15)
rates = st.decimals(
    min_value=Decimal("0.000001"), max_value=Decimal("100000"), places=6, allow_nan=False
)


@given(minor=amounts, value=rates, inverse=st.booleans())
def test_a_conversion_is_the_exact_result_rounded_once(
    minor: int, value: Decimal, inverse: bool
) -> None:
    """Proves, for any amount and six-decimal rate, in either direction, that the result is
    the exact rational result rounded half-up to cents: no float, no double rounding; and
    that a result beyond the largest amount Saldo keeps is refused, never stored."""
    given_rate = rate("USD", "ARS", str(value))
    amount = Money(minor, "ARS" if inverse else "USD")
    exact = Fraction(minor, 100) * (1 / Fraction(value) if inverse else Fraction(value))
    expected = int(exact * 100 + Fraction(1, 2))

    if expected > MAX_MINOR:
        with pytest.raises(InvalidAmount, match="more than any amount Saldo keeps"):
            convert(amount, rate=given_rate, rounding=ROUND_HALF_UP)
        return
    converted = convert(amount, rate=given_rate, rounding=ROUND_HALF_UP)

    assert converted.minor == expected


# -- inverse, spread, cross -------------------------------------------------------------------


def test_the_inverse_swaps_the_currencies_and_keeps_twelve_digits() -> None:
    inverse = USD_ARS.inverse()

    assert (inverse.base, inverse.quote) == ("ARS", "USD")
    assert inverse.rate == Decimal("0.000689536286847")
    assert (inverse.source, inverse.fetched_at) == ("bcra", FETCHED)


def test_the_spread_gives_the_payer_fewer_units_of_the_price_currency() -> None:
    usd_ars = rate("USD", "ARS", "1000")

    payer = with_spread(usd_ars, Decimal("0.02"))

    assert payer.rate == Decimal("980")
    assert convert(Money.of("9800.00", "ARS"), rate=payer, rounding=ROUND_HALF_UP) == Money.of(
        "10.00", "USD"
    )


def test_a_spread_makes_the_payer_pay_more() -> None:
    price = Money.of("25000.00", "ARS")

    plain = convert(price, rate=USD_ARS, rounding=ROUND_HALF_UP)
    spread = convert(price, rate=with_spread(USD_ARS, Decimal("0.02")), rounding=ROUND_HALF_UP)

    assert (plain, spread) == (Money.of("17.24", "USD"), Money.of("17.59", "USD"))


def test_no_spread_leaves_the_rate_as_it_is() -> None:
    assert with_spread(USD_ARS, Decimal("0")) is USD_ARS


@pytest.mark.parametrize(
    ("spread", "message"),
    [(0.02, "never a float"), (Decimal("1"), "from 0 up to 1"), (Decimal("-0.01"), "from 0")],
)
def test_a_spread_is_a_decimal_fraction_below_one(spread: object, message: str) -> None:
    with pytest.raises(InvalidRate, match=message):
        with_spread(USD_ARS, spread)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "expected"), [("0.02", "0.02"), ("0", "0"), ("0.015", "0.015")])
def test_a_spread_is_read_from_plain_decimal_text(text: str, expected: str) -> None:
    assert parse_spread(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["2%", "0,02", "-0.02", "1", "1.5", "2e-2"])
def test_a_spread_that_is_not_a_fraction_below_one_is_refused(text: str) -> None:
    with pytest.raises(InvalidRate):
        parse_spread(text)


def test_a_cross_rate_goes_through_the_pivot() -> None:
    # CNY → EUR (the ECB's EUR/CNY inverted) → ARS.
    cny_ars = cross(EUR_CNY.inverse(), EUR_ARS)

    assert (cny_ars.base, cny_ars.quote, cny_ars.via) == ("CNY", "ARS", "EUR")
    assert cny_ars.rate == Decimal("204.657368102")
    assert cny_ars.source == "ecb+bcra"
    assert convert(Money.of("100.00", "CNY"), rate=cny_ars, rounding=ROUND_HALF_UP) == Money.of(
        "20465.74", "ARS"
    )


def test_a_cross_rate_is_as_old_as_its_older_leg_and_names_one_source_once() -> None:
    older_eur_usd = ExchangeRate(
        base="EUR",
        quote="USD",
        rate=Decimal("1.1632"),
        source="banrep",
        fetched_at=FETCHED - timedelta(hours=46),
    )

    eur_cop = cross(older_eur_usd, USD_COP)

    assert eur_cop.fetched_at == FETCHED - timedelta(hours=46)
    assert eur_cop.source == "banrep"
    assert eur_cop.rate == Decimal("4507.981600")
    assert eur_cop.via == "USD"


def test_legs_that_do_not_meet_at_one_pivot_are_refused() -> None:
    with pytest.raises(InvalidRate, match="do not meet"):
        cross(EUR_USD, EUR_CNY)


def test_a_cross_of_a_cross_rate_is_refused() -> None:
    cny_ars = cross(EUR_CNY.inverse(), EUR_ARS)

    with pytest.raises(InvalidRate, match="not of cross rates"):
        cross(cny_ars, USD_ARS.inverse())


# -- freshness --------------------------------------------------------------------------------


def test_a_rate_exactly_as_old_as_the_maximum_is_still_fresh() -> None:
    now = FETCHED + timedelta(hours=24)

    assert check_fresh(USD_ARS, max_age=timedelta(hours=24), now=now) is USD_ARS
    assert is_fresh(USD_ARS, max_age=timedelta(hours=24), now=now)
    assert rate_age(USD_ARS, now=now) == timedelta(hours=24)


def test_a_rate_older_than_the_maximum_is_refused_with_its_age() -> None:
    now = FETCHED + timedelta(hours=48)

    with pytest.raises(StaleRate) as refused:
        check_fresh(USD_ARS, max_age=timedelta(hours=24), now=now)

    assert refused.value.code == "stale_rate"
    assert refused.value.age == timedelta(hours=48)
    assert refused.value.rate is USD_ARS
    assert refused.value.message == (
        "the USD/ARS rate from bcra was fetched 2026-11-22 13:00 UTC, 2 d ago; "
        "quotes accept rates up to 24 h old"
    )
    assert not is_fresh(USD_ARS, max_age=timedelta(hours=24), now=now)


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (timedelta(seconds=59), "0 min"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=3, minutes=59), "3 h"),
        (timedelta(hours=47), "47 h"),
        (timedelta(days=2, hours=5), "2 d 5 h"),
        (timedelta(minutes=-3), "0 min"),
    ],
)
def test_an_age_is_told_in_minutes_hours_or_days(age: timedelta, text: str) -> None:
    assert describe_age(age) == text


def test_errors_carry_their_codes() -> None:
    assert (InvalidRate.code, UnknownRate.code, StaleRate.code) == (
        "invalid_rate",
        "unknown_rate",
        "stale_rate",
    )


@pytest.mark.parametrize(
    "text", ["0.000000000000001", "0.0000000000000000000000000000000000001", "1000000000.5"]
)
def test_a_rate_no_two_currencies_are_apart_by_is_refused(text: str) -> None:
    with pytest.raises(InvalidRate, match="is not a rate between currencies"):
        parse_rate(text)


@pytest.mark.parametrize("text", ["0.000000001", "1000000000"])
def test_the_widest_rates_are_taken(text: str) -> None:
    assert parse_rate(text) == Decimal(text)
