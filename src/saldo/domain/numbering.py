"""Subscriber numbers (MSISDN in E.164) and SIM card numbers (ICCID).

Numbers are parsed and validated with ``phonenumbers`` against the operator's country, so a
Colombian number cannot be registered on an Argentine operator. Logs only ever see masked
numbers.
"""

from __future__ import annotations

import re

import phonenumbers

from saldo.domain.errors import SaldoError


class InvalidMsisdn(SaldoError, ValueError):
    """The text is not a valid phone number."""

    code = "invalid_msisdn"


class ForeignMsisdn(InvalidMsisdn):
    """The number is valid but belongs to another country than the operator's."""

    code = "foreign_msisdn"


class InvalidIccid(SaldoError, ValueError):
    """The text is not a valid SIM card number."""

    code = "invalid_iccid"


def normalize_msisdn(text: str, *, country: str) -> str:
    """The E.164 form (``+5491123456789``) of a number typed in international or ``country``'s
    national format.

    Raises InvalidMsisdn when it is not a valid number and ForeignMsisdn when it is valid but
    not a number of ``country``.
    """
    try:
        parsed = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        raise InvalidMsisdn(f"{text!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidMsisdn(f"{text!r} is not a valid phone number")
    region = phonenumbers.region_code_for_number(parsed)
    if region != country:
        raise ForeignMsisdn(f"{text!r} is a number of {region}, not of {country}")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def parse_msisdn(text: str) -> str:
    """The E.164 form of a number typed in international format, whatever its country.

    Raises InvalidMsisdn otherwise. Used to find a line before its operator is known.
    """
    candidate = text.strip()
    if not candidate.startswith("+") and candidate.isdigit():
        candidate = "+" + candidate
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException:
        raise InvalidMsisdn(f"{text!r} is not a phone number in international format") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidMsisdn(f"{text!r} is not a valid phone number")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def mask_msisdn(msisdn: str) -> str:
    """A number safe for logs: country code and operator prefix kept, the subscriber part
    hidden but for its last three digits (``+54911*****789``)."""
    digits = msisdn.lstrip("+")
    if len(digits) <= 6:
        return "+" + "*" * len(digits)
    return "+" + digits[:5] + "*" * (len(digits) - 8) + digits[-3:]


_ICCID = re.compile(r"89\d{16,18}")


def normalize_iccid(text: str) -> str:
    """The ICCID without spaces, checked for length (19 or 20 digits, ``89`` first) and for
    its Luhn check digit. Raises InvalidIccid otherwise."""
    digits = re.sub(r"[\s-]", "", text)
    if not _ICCID.fullmatch(digits) or len(digits) not in (19, 20):
        raise InvalidIccid(f"{text!r} is not an ICCID (19 or 20 digits starting with 89)")
    if not luhn_valid(digits):
        raise InvalidIccid(f"{text!r} has a wrong check digit")
    return digits


def luhn_valid(digits: str) -> bool:
    """True when the last digit of ``digits`` is its Luhn check digit."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn check."""
    for digit in "0123456789":
        if luhn_valid(payload + digit):
            return digit
    raise AssertionError("unreachable: one of ten digits always completes a Luhn number")
