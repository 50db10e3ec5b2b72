"""Scratch-card vouchers: PINs, their check digit, their keyed hash, and the rate limit on
wrong PINs.

A PIN is 16 digits: 15 random ones and a Luhn check digit, so most typing mistakes are caught
before any lookup. Only a keyed hash (HMAC-SHA256 with the instance's secret) is stored; the
PIN itself is shown once, in the batch export.
"""

from __future__ import annotations

import enum
import hmac
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from saldo.domain.errors import SaldoError
from saldo.domain.numbering import luhn_check_digit, luhn_valid

PIN_LENGTH: Final = 16
MAX_WRONG_PINS: Final = 5
WRONG_PIN_WINDOW: Final = timedelta(hours=24)
WRONG_PIN_BLOCK: Final = timedelta(hours=24)


class VoucherState(enum.StrEnum):
    ACTIVE = "active"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    VOID = "void"


class MalformedPin(SaldoError, ValueError):
    """The text cannot be a PIN: wrong length, not digits, or a wrong check digit."""

    code = "malformed_pin"


def pin_from_random_digits(digits: str) -> str:
    """A PIN from 15 random digits: the digits and their Luhn check digit."""
    if len(digits) != PIN_LENGTH - 1 or not digits.isascii() or not digits.isdigit():
        raise ValueError(f"a PIN is made from {PIN_LENGTH - 1} random digits")
    return digits + luhn_check_digit(digits)


_SEPARATORS = re.compile(r"[\s\-.]")


def read_pin(text: str) -> str:
    """The PIN in ``text`` as typed on a handset ("1234 5678-9012 3456"); raise MalformedPin
    when it cannot be one."""
    digits = _SEPARATORS.sub("", text)
    if len(digits) != PIN_LENGTH or not digits.isascii() or not digits.isdigit():
        raise MalformedPin(f"a PIN has {PIN_LENGTH} digits")
    if not luhn_valid(digits):
        raise MalformedPin("the PIN has a typing mistake")
    return digits


def format_pin(pin: str) -> str:
    """A PIN as printed on a card: four groups of four."""
    return " ".join(pin[i : i + 4] for i in range(0, len(pin), 4))


def pin_hash(pin: str, *, key: bytes) -> str:
    """The keyed hash stored for a PIN; without the key, the PINs cannot be recovered."""
    return hmac.digest(key, pin.encode(), "sha256").hex()  # HMAC-SHA256, in one C call


def blocked_until(wrong_pins_at: Sequence[datetime], *, now: datetime) -> datetime | None:
    """When a line that typed wrong PINs at these instants may try again, or None if it may
    now. Five wrong PINs within 24 hours block redemption for 24 hours from the fifth."""
    times = sorted(wrong_pins_at)
    until: datetime | None = None
    for index in range(MAX_WRONG_PINS - 1, len(times)):
        if times[index] - times[index - MAX_WRONG_PINS + 1] < WRONG_PIN_WINDOW:
            candidate = times[index] + WRONG_PIN_BLOCK
            until = candidate if until is None or candidate > until else until
    return until if until is not None and now < until else None


def wrong_pins_left(wrong_pins_at: Sequence[datetime], *, now: datetime) -> int:
    """Wrong PINs a line may still type in the current 24 hours before it is blocked."""
    recent = [moment for moment in wrong_pins_at if now - moment < WRONG_PIN_WINDOW]
    return max(0, MAX_WRONG_PINS - len(recent))
