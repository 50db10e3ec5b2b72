"""Subscriber numbers (MSISDN in E.164) and SIM card numbers (ICCID).

Numbers are parsed and validated with ``phonenumbers`` against the operator's country, so a
Colombian number cannot be registered on an Argentine operator. Logs only ever see masked
numbers.

``phonenumbers`` is imported by the functions that parse, not with this module: importing it
is a noticeable part of a short command's start (docs/performance.md), and a number already
in E.164, as the CLI, gateways and the API mostly send it, is looked up without it.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from saldo.domain.errors import SaldoError, quoted


class InvalidMsisdn(SaldoError, ValueError):
    """The text is not a valid phone number."""

    code = "invalid_msisdn"


class ForeignMsisdn(InvalidMsisdn):
    """The number is valid but belongs to another country than the operator's."""

    code = "foreign_msisdn"


class InvalidIccid(SaldoError, ValueError):
    """The text is not a valid SIM card number."""

    code = "invalid_iccid"


# What people type for a number: digits, a leading +, and the separators they group digits
# with. ``phonenumbers`` alone would also read letters (vanity numbers, "+57300123456A") and
# drop an extension ("ext 5"), so a number that is not the line's could be taken for it.
_PHONE_TEXT = re.compile(r"\+?[0-9][0-9 ()./-]*")
# A number already in E.164: ``+``, a country code and at most 15 digits in all.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _check_phone_text(text: str) -> str:
    candidate = text.strip()
    if not _PHONE_TEXT.fullmatch(candidate):
        raise InvalidMsisdn(f"{quoted(text)} is not a phone number (digits and a leading +)")
    return candidate


def normalize_msisdn(text: str, *, country: str) -> str:
    """The E.164 form (``+5491123456789``) of a number typed in international or ``country``'s
    national format.

    Raises InvalidMsisdn when it is not a valid number and ForeignMsisdn when it is valid but
    not a number of ``country``.
    """
    if _E164.fullmatch(text):
        check = _e164_mobile_check(country)
        if check is not None and check.is_mobile(text):
            return text
    return _normalized_by_phonenumbers(text, country=country)


def _normalized_by_phonenumbers(text: str, *, country: str) -> str:
    """``normalize_msisdn`` through ``phonenumbers.parse``: every number, whatever its form."""
    import phonenumbers

    _check_phone_text(text)
    try:
        parsed = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        raise InvalidMsisdn(f"{text!r} is not a phone number") from None
    # A number's type is UNKNOWN exactly when it is not valid (``is_valid_number`` asks the
    # same question of the same metadata): asked once, it answers both (a line import asks
    # it of every row).
    kind = phonenumbers.number_type(parsed)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        raise InvalidMsisdn(f"{text!r} is not a valid phone number")
    region = phonenumbers.region_code_for_number(parsed)
    if region != country:
        raise ForeignMsisdn(f"{text!r} is a number of {region}, not of {country}")
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        # In Argentina "11 2345-6789" is a Buenos Aires landline; the mobile is 11 15 2345-6789
        # (+54 9 11 ...). Refusing landlines keeps a subscriber from being registered under
        # a number that is not their line.
        raise InvalidMsisdn(f"{text!r} is not a mobile number")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


class _E164MobileCheck:
    """Whether a number written in E.164 (``+`` and digits, nothing else) is a mobile number
    of one country, decided with ``phonenumbers``' own metadata for it (its patterns compiled
    once) instead of ``phonenumbers.parse``, which costs about 50 µs a number (a line import
    asks it of every row).

    It answers only yes or "ask phonenumbers": yes when ``parse`` would keep the digits after
    the country code as they are (no national prefix to strip, no leading zero) and
    ``number_type`` would say mobile (or fixed line or mobile), which is what
    ``_number_type_helper`` decides, here in the same order with the same patterns. Anything
    else (another country code, a national prefix, an invalid, fixed or special number) goes
    through ``phonenumbers`` as before, so every refusal keeps its message.
    tests/unit/domain/test_numbering_e164.py proves it equal to ``phonenumbers`` on random
    numbers and on every region's example numbers."""

    def __init__(self, metadata: Any) -> None:
        self._prefix = f"+{metadata.country_code}"
        pattern = metadata.national_prefix_for_parsing
        self._national_prefix = re.compile(pattern) if pattern else None
        self._transform = bool(metadata.national_prefix_transform_rule)
        self._same = bool(metadata.same_mobile_and_fixed_line_pattern)
        special = (
            metadata.premium_rate,
            metadata.toll_free,
            metadata.shared_cost,
            metadata.voip,
            metadata.personal_number,
            metadata.pager,
            metadata.uan,
            metadata.voicemail,
        )
        # Per length of the national number, the patterns that apply to it (a type's
        # possible lengths are checked before its pattern), the special types' as one.
        self._by_length: dict[int, _Patterns] = {}
        for length in range(2, 18):
            general = _pattern_for(length, metadata.general_desc)
            if general is not None:
                self._by_length[length] = (
                    general,
                    _pattern_for(length, *special),
                    _pattern_for(length, metadata.fixed_line),
                    _pattern_for(length, metadata.mobile),
                )

    def is_mobile(self, text: str) -> bool:
        """True when ``text`` (already in E.164 shape) is a mobile number of this country as
        ``phonenumbers`` reads it; False when only ``phonenumbers`` can tell."""
        if not text.startswith(self._prefix):
            return False
        national = text[len(self._prefix) :]
        # Between 2 and 17 digits (shorter or longer, parse refuses it), no leading zero
        # (parse would keep it apart, as for Italy).
        patterns = self._by_length.get(len(national))
        if patterns is None or national[0] == "0":
            return False
        if self._national_prefix is not None:
            found = self._national_prefix.match(national)
            # An empty match that captured nothing strips nothing and transforms nothing.
            if found is not None and (
                found.end() > 0
                or (self._transform and found.groups() and found.groups()[-1] is not None)
            ):
                return False
        general, special, fixed, mobile = patterns
        if not general.fullmatch(national):
            return False
        if special is not None and special.fullmatch(national):
            return False
        is_mobile = mobile is not None and mobile.fullmatch(national) is not None
        if fixed is not None and fixed.fullmatch(national):
            return self._same or is_mobile
        return not self._same and is_mobile


_Patterns = tuple[
    "re.Pattern[str]", "re.Pattern[str] | None", "re.Pattern[str] | None", "re.Pattern[str] | None"
]


def _pattern_for(length: int, *descs: Any) -> re.Pattern[str] | None:
    """One pattern that matches a national number of ``length`` digits exactly when one of
    these number types does (``_is_number_matching_desc``: a type with possible lengths
    matches no other length; a type without a pattern matches nothing); None when none
    can."""
    patterns = [
        desc.national_number_pattern
        for desc in descs
        if desc is not None
        and desc.national_number_pattern
        and (not desc.possible_length or length in desc.possible_length)
    ]
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


@functools.cache
def _e164_mobile_check(country: str) -> _E164MobileCheck | None:
    """The check for ``country``, when its country code is its alone (a code shared by
    several regions, as +1 is, needs ``phonenumbers`` to tell them apart); else None."""
    import phonenumbers

    metadata = phonenumbers.PhoneMetadata.metadata_for_region(country)
    if metadata is None or metadata.country_code is None:
        return None
    if phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code) != (country,):
        return None
    return _E164MobileCheck(metadata)


def parse_msisdn(text: str) -> str:
    """The E.164 form of a number typed in international format, whatever its country: with
    its ``+`` or without it (``573001234567``, as SMSCs send it and people paste it), or after
    the ``00`` international call prefix.

    Raises InvalidMsisdn otherwise (a national number, ``3001234567``, is not a valid
    international one). Used to find a line before its operator is known.
    """
    import phonenumbers

    candidate = _check_phone_text(text)
    if candidate.startswith("00"):
        candidate = candidate[2:]  # the international call prefix, as SMSCs often send it
    if not candidate.startswith("+"):
        candidate = "+" + candidate
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException:
        raise InvalidMsisdn(f"{text!r} is not a phone number in international format") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidMsisdn(f"{text!r} is not a valid phone number")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def lookup_msisdn(text: str) -> str:
    """The E.164 form of a number to look a line up by. Text already in E.164 shape is taken
    as it is (every stored number was validated when its line was added, so an invalid one
    simply finds nothing); anything else goes through ``parse_msisdn``."""
    candidate = text.strip()
    if _E164.fullmatch(candidate):
        return candidate
    return parse_msisdn(candidate)


def same_number(text: str) -> str:
    """One text for a number however it is written (``+54…``, ``54…``, ``0054…``): its E.164
    form; text that is no number, as it came. For telling retries of one request apart from
    another request."""
    try:
        return lookup_msisdn(text)
    except InvalidMsisdn:
        return text


def mask_msisdn(msisdn: str) -> str:
    """A number safe for logs, as long as the number: the country code and operator prefix
    kept, the last three digits kept, everything between hidden (``+54911*****789``). Short
    numbers keep less, so at least half of their digits are always hidden."""
    digits = msisdn.lstrip("+")
    count = len(digits)
    if count >= 11:
        head, tail = 5, 3
    elif count > 6:
        tail = count // 4
        head = count // 2 - tail
    else:
        head = tail = 0
    hidden = count - head - tail
    return "+" + digits[:head] + "*" * hidden + digits[len(digits) - tail :]


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


# A digit's Luhn value where it is doubled (every second digit from the right).
_DOUBLED = {str(d): (2 * d - 9 if 2 * d > 9 else 2 * d) for d in range(10)}


def _luhn_sum(digits: str) -> int:
    """The Luhn sum of ``digits``, the last of them counted as the check digit's place."""
    total = sum(map(int, digits[::-2]))
    doubled = _DOUBLED
    for char in digits[-2::-2]:
        total += doubled[char]
    return total


def luhn_valid(digits: str) -> bool:
    """True when the last digit of ``digits`` is its Luhn check digit."""
    return _luhn_sum(digits) % 10 == 0


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn check."""
    return str(-_luhn_sum(payload + "0") % 10)
