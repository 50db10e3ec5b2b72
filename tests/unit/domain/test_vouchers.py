"""Voucher PINs: the Luhn check digit, reading what people type, printing, the keyed hash,
and the limit on wrong PINs (five within 24 hours block redemption for 24 hours)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saldo.domain.vouchers import (
    MalformedPin,
    blocked_until,
    format_pin,
    pin_from_random_digits,
    pin_hash,
    read_pin,
    wrong_pins_left,
)

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
KEY = b"k" * 32
OTHER_KEY = b"o" * 32

# Card numbers whose Luhn check digit is published: 15 payload digits + the check digit.
VISA = "4111111111111111"
VISA_ZEROS = "4000000000000002"
MASTERCARD = "5555555555554444"


def minutes_ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


# -- making and reading PINs -----------------------------------------------------------------


@pytest.mark.parametrize("pin", [VISA, VISA_ZEROS, MASTERCARD])
def test_a_pin_is_the_fifteen_random_digits_and_their_luhn_check_digit(pin: str) -> None:
    assert pin_from_random_digits(pin[:15]) == pin


@pytest.mark.parametrize("digits", ["41111111111111", "4111111111111111", "41111111111111a", ""])
def test_a_pin_is_only_made_from_exactly_fifteen_digits(digits: str) -> None:
    with pytest.raises(ValueError):
        pin_from_random_digits(digits)


def test_a_pin_is_not_made_from_non_ascii_digits() -> None:
    arabic_indic = "٤١١١١١١١١١١١١١١"

    with pytest.raises(ValueError):
        pin_from_random_digits(arabic_indic)


@pytest.mark.parametrize(
    "typed",
    [
        VISA,
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111.1111.1111.1111",
        " 4111 1111-1111 1111 ",
        "4111\t1111\n1111 1111",
    ],
)
def test_a_pin_is_read_with_the_spaces_and_dashes_people_type(typed: str) -> None:
    assert read_pin(typed) == VISA


@pytest.mark.parametrize(
    "typed",
    [
        "411111111111111",  # 15 digits
        "41111111111111111",  # 17 digits
        "",
        "4111 1111 1111",
    ],
)
def test_a_pin_of_the_wrong_length_is_refused(typed: str) -> None:
    with pytest.raises(MalformedPin):
        read_pin(typed)


@pytest.mark.parametrize(
    "typed", ["4111 1111 1111 111a", "4111+1111+1111+1111", "PIN 4111111111111111"]
)
def test_a_pin_with_other_characters_than_digits_is_refused(typed: str) -> None:
    with pytest.raises(MalformedPin):
        read_pin(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "٤١١١١١١١١١١١١١١١",  # Arabic-Indic digits
        "４１１１１１１１１１１１１１１１",  # fullwidth digits
    ],
)
def test_a_pin_in_non_ascii_digits_is_refused(typed: str) -> None:
    with pytest.raises(MalformedPin):
        read_pin(typed)


@pytest.mark.parametrize("typed", ["4111111111111112", "4111111111111121", "1411111111111111"])
def test_a_pin_with_a_typing_mistake_fails_the_check_digit(typed: str) -> None:
    with pytest.raises(MalformedPin, match="typing mistake"):
        read_pin(typed)


@given(st.text(alphabet="0123456789", min_size=15, max_size=15))
def test_every_pin_made_from_random_digits_reads_back_as_itself(digits: str) -> None:
    """Proves that whatever 15 digits are drawn, the PIN printed on the card is accepted."""
    pin = pin_from_random_digits(digits)

    assert read_pin(format_pin(pin)) == pin


def test_a_pin_is_printed_in_four_groups_of_four() -> None:
    assert format_pin(VISA_ZEROS) == "4000 0000 0000 0002"


# -- the keyed hash --------------------------------------------------------------------------


def test_the_same_pin_and_key_always_give_the_same_hash() -> None:
    assert pin_hash(VISA, key=KEY) == pin_hash(VISA, key=KEY)


def test_another_key_gives_another_hash() -> None:
    assert pin_hash(VISA, key=KEY) != pin_hash(VISA, key=OTHER_KEY)


def test_another_pin_gives_another_hash() -> None:
    assert pin_hash(VISA, key=KEY) != pin_hash(MASTERCARD, key=KEY)


def test_the_hash_never_contains_the_pin_and_is_not_a_plain_digest() -> None:
    hashed = pin_hash(VISA, key=KEY)

    assert VISA not in hashed
    assert len(hashed) == 64
    assert hashed != hashlib.sha256(VISA.encode()).hexdigest()


# -- wrong PINs ------------------------------------------------------------------------------


def test_four_wrong_pins_do_not_block() -> None:
    assert blocked_until(minutes_ago(40, 30, 20, 10), now=NOW) is None


def test_no_wrong_pins_do_not_block() -> None:
    assert blocked_until([], now=NOW) is None


def test_five_wrong_pins_within_24_hours_block_for_24_hours_from_the_fifth() -> None:
    wrong = minutes_ago(23 * 60, 40, 30, 20, 10)

    assert blocked_until(wrong, now=NOW) == NOW - timedelta(minutes=10) + timedelta(hours=24)


def test_the_order_the_wrong_pins_arrive_in_does_not_matter() -> None:
    wrong = minutes_ago(10, 40, 23 * 60, 20, 30)

    assert blocked_until(wrong, now=NOW) == NOW - timedelta(minutes=10) + timedelta(hours=24)


def test_five_wrong_pins_spread_over_more_than_24_hours_do_not_block() -> None:
    fifth = NOW - timedelta(minutes=1)
    wrong = [fifth - timedelta(hours=24, seconds=1), *minutes_ago(40, 30, 20, 1)]

    assert blocked_until(wrong, now=NOW) is None


def test_the_block_lasts_until_24_hours_after_the_fifth_and_not_an_instant_more() -> None:
    fifth = NOW
    wrong = [*minutes_ago(4, 3, 2, 1), fifth]
    ends_at = fifth + timedelta(hours=24)

    assert blocked_until(wrong, now=ends_at - timedelta(seconds=1)) == ends_at
    assert blocked_until(wrong, now=ends_at) is None
    assert blocked_until(wrong, now=ends_at + timedelta(days=3)) is None


def test_a_sixth_wrong_pin_during_the_block_does_not_shorten_it() -> None:
    wrong = minutes_ago(50, 40, 30, 20, 10, 5)

    assert blocked_until(wrong, now=NOW) == NOW - timedelta(minutes=5) + timedelta(hours=24)


def test_a_line_has_five_wrong_pins_before_any_mistake() -> None:
    assert wrong_pins_left([], now=NOW) == 5


def test_wrong_pins_left_counts_only_the_last_24_hours() -> None:
    wrong = [NOW - timedelta(hours=30), NOW - timedelta(hours=24), *minutes_ago(60, 5)]

    assert wrong_pins_left(wrong, now=NOW) == 3


def test_wrong_pins_left_never_goes_below_zero() -> None:
    assert wrong_pins_left(minutes_ago(6, 5, 4, 3, 2, 1, 0), now=NOW) == 0


def test_a_line_told_it_has_wrong_pins_left_is_not_blocked_by_the_next_one() -> None:
    """Four wrong PINs exactly 24 hours ago no longer count (wrong_pins_left says 5 are
    left), so one more wrong PIN now cannot be the fifth within 24 hours."""
    wrong = [NOW - timedelta(hours=24)] * 4
    assert wrong_pins_left(wrong, now=NOW) == 5

    assert blocked_until([*wrong, NOW], now=NOW) is None
