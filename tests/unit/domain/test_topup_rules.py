"""Top-up rules: accepted amounts, the validity they grant, and receipt numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saldo.domain.money import Money
from saldo.domain.operator import Denomination, TopUpRules
from saldo.domain.topup import (
    AmountBelowMinimum,
    TopUpAmountRefused,
    WrongCurrency,
    check_topup_amount,
    receipt_number,
    valid_until_after_topup,
    validity_days_for,
)

BOGOTA = "America/Bogota"
NOW = datetime(2026, 11, 22, 19, 0, tzinfo=UTC)  # 14:00 in Bogotá
END_OF_22_DECEMBER_IN_BOGOTA = datetime(2026, 12, 23, 5, 0, tzinfo=UTC)


def cop(amount: str) -> Money:
    return Money.of(amount, "COP")


RULES = TopUpRules(
    minimum=cop("3000"),
    denominations=(
        Denomination(amount=cop("5000"), validity_days=7),
        Denomination(amount=cop("10000"), validity_days=15),
        Denomination(amount=cop("20000"), validity_days=30),
        Denomination(amount=cop("50000"), validity_days=60),
    ),
)


@pytest.mark.parametrize("amount", ["3000", "3001", "50000", "1000000"])
def test_an_amount_at_or_above_the_minimum_is_accepted(amount: str) -> None:
    check_topup_amount(cop(amount), rules=RULES)


def test_an_amount_below_the_minimum_is_refused() -> None:
    with pytest.raises(AmountBelowMinimum, match=r"3000\.00 COP"):
        check_topup_amount(cop("2999"), rules=RULES)


def test_an_amount_in_another_currency_is_refused() -> None:
    with pytest.raises(WrongCurrency, match="in COP, not ARS"):
        check_topup_amount(Money.of("50000", "ARS"), rules=RULES)


def test_both_refusals_are_top_up_amount_refusals() -> None:
    assert issubclass(AmountBelowMinimum, TopUpAmountRefused)
    assert issubclass(WrongCurrency, TopUpAmountRefused)


@pytest.mark.parametrize(
    ("amount", "days"),
    [
        ("5000", 7),
        ("9999", 7),
        ("10000", 15),
        ("20000", 30),
        ("49999", 30),
        ("50000", 60),
        ("1000000", 60),
        ("3000", 7),
    ],
    ids=[
        "exactly-a-denomination",
        "just-below-the-next",
        "the-next-denomination",
        "a-middle-denomination",
        "just-below-the-largest",
        "the-largest",
        "far-above-the-largest",
        "above-minimum-below-every-denomination",
    ],
)
def test_an_amount_grants_the_days_of_the_largest_denomination_not_above_it(
    amount: str, days: int
) -> None:
    assert validity_days_for(cop(amount), rules=RULES) == days


def test_a_top_up_extends_validity_to_the_end_of_the_local_day() -> None:
    valid_until = NOW - timedelta(days=3)

    extended = valid_until_after_topup(
        valid_until=valid_until, validity_days=30, timezone=BOGOTA, now=NOW
    )

    assert extended == END_OF_22_DECEMBER_IN_BOGOTA


def test_a_small_top_up_never_shrinks_a_longer_validity() -> None:
    valid_until = datetime(2027, 3, 1, 5, 0, tzinfo=UTC)

    extended = valid_until_after_topup(
        valid_until=valid_until, validity_days=7, timezone=BOGOTA, now=NOW
    )

    assert extended == valid_until


def test_small_top_ups_on_the_same_day_do_not_stack_validity() -> None:
    first = valid_until_after_topup(valid_until=NOW, validity_days=30, timezone=BOGOTA, now=NOW)

    second = valid_until_after_topup(valid_until=first, validity_days=30, timezone=BOGOTA, now=NOW)

    assert second == first == END_OF_22_DECEMBER_IN_BOGOTA


@pytest.mark.parametrize(
    ("topup_id", "slug", "number"),
    [
        (1234, "claro-co", "CLARO-CO-T-000001234"),
        (1, "proximus-be", "PROXIMUS-BE-T-000000001"),
        (123456789, "movistar-ar", "MOVISTAR-AR-T-123456789"),
    ],
)
def test_a_receipt_number_is_the_operator_slug_and_a_zero_padded_id(
    topup_id: int, slug: str, number: str
) -> None:
    assert receipt_number(topup_id, operator_slug=slug) == number
