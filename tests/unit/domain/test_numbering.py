"""Subscriber numbers (MSISDN) and SIM card numbers (ICCID)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saldo.domain.numbering import (
    ForeignMsisdn,
    InvalidIccid,
    InvalidMsisdn,
    luhn_check_digit,
    mask_msisdn,
    normalize_iccid,
    normalize_msisdn,
    parse_msisdn,
)

ICCID_PAYLOAD = "891000000000000001"
VALID_ICCID = ICCID_PAYLOAD + luhn_check_digit(ICCID_PAYLOAD)


# -- normalize_msisdn -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "country", "msisdn"),
    [
        ("+54 9 11 2345-6789", "AR", "+5491123456789"),
        ("011 15 2345-6789", "AR", "+5491123456789"),
        ("11 15 2345 6789", "AR", "+5491123456789"),
        ("300 123 4567", "CO", "+573001234567"),
        ("+57 300 123 4567", "CO", "+573001234567"),
        ("0470 12 34 56", "BE", "+32470123456"),
        ("+32 470 12 34 56", "BE", "+32470123456"),
    ],
)
def test_a_mobile_number_typed_nationally_or_internationally_becomes_e164(
    text: str, country: str, msisdn: str
) -> None:
    assert normalize_msisdn(text, country=country) == msisdn


@pytest.mark.parametrize(
    ("text", "country"),
    [("+57 300 123 4567", "AR"), ("+32 470 12 34 56", "CO")],
)
def test_a_valid_number_of_another_country_is_refused_as_foreign(text: str, country: str) -> None:
    with pytest.raises(ForeignMsisdn, match=f"not of {country}"):
        normalize_msisdn(text, country=country)


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("hello", "AR"),
        ("", "AR"),
        ("123", "AR"),
        ("+54 9 11 2345-678", "AR"),
        ("300 123 4567", "AR"),
    ],
)
def test_text_that_is_not_a_valid_number_is_refused(text: str, country: str) -> None:
    with pytest.raises(InvalidMsisdn) as raised:
        normalize_msisdn(text, country=country)

    assert not isinstance(raised.value, ForeignMsisdn)


# -- parse_msisdn -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "msisdn"),
    [
        ("+5491123456789", "+5491123456789"),
        ("5491123456789", "+5491123456789"),
        (" +573001234567 ", "+573001234567"),
        ("+54 9 11 2345-6789", "+5491123456789"),
        ("+32470123456", "+32470123456"),
        ("00573001234567", "+573001234567"),  # the international call prefix
        ("0032470123456", "+32470123456"),
    ],
)
def test_parse_msisdn_reads_a_number_in_international_format_of_any_country(
    text: str, msisdn: str
) -> None:
    assert parse_msisdn(text) == msisdn


@pytest.mark.parametrize("text", ["01123456789", "abc", "+541", ""])
def test_parse_msisdn_refuses_national_formats_and_garbage(text: str) -> None:
    with pytest.raises(InvalidMsisdn):
        parse_msisdn(text)


# -- mask_msisdn ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("msisdn", "masked"),
    [
        ("+5491123456789", "+54911*****789"),
        ("+573001234567", "+57300****567"),
        ("+32470123456", "+32470***456"),
        ("+123456", "+******"),
    ],
)
def test_a_masked_number_keeps_the_prefix_and_last_three_digits(msisdn: str, masked: str) -> None:
    assert mask_msisdn(msisdn) == masked


@pytest.mark.parametrize(
    "international",
    ["+29051234", "+6907290"],
    ids=["saint-helena-mobile", "tokelau-mobile"],
)
def test_a_short_but_valid_international_number_is_still_masked(international: str) -> None:
    msisdn = parse_msisdn(international)

    masked = mask_msisdn(msisdn)

    assert len(masked) == len(msisdn)
    assert "*" in masked


@given(digits=st.text(alphabet="0123456789", min_size=7, max_size=15))
def test_a_masked_number_never_shows_its_middle_digits(digits: str) -> None:
    """Proves that for any E.164 number (7 to 15 digits) the mask keeps each character in its
    place, shows at most the first five and the last three digits, and hides at least one."""
    msisdn = "+" + digits

    masked = mask_msisdn(msisdn)

    assert len(masked) == len(msisdn)
    assert "*" in masked
    for position, (shown, real) in enumerate(zip(masked, msisdn, strict=True)):
        if shown != "*":
            assert shown == real
        if 6 <= position < len(msisdn) - 3:
            assert shown == "*"


# -- ICCID ------------------------------------------------------------------------------------


def test_a_19_digit_iccid_with_its_luhn_digit_is_accepted() -> None:
    assert len(VALID_ICCID) == 19

    assert normalize_iccid(VALID_ICCID) == VALID_ICCID


@pytest.mark.parametrize(
    "text",
    [
        "8910 0000 0000 0000 01" + VALID_ICCID[-1],
        "8910-0000-0000-0000-01" + VALID_ICCID[-1],
    ],
)
def test_an_iccid_typed_with_spaces_or_dashes_is_normalized(text: str) -> None:
    assert normalize_iccid(text) == VALID_ICCID


def test_a_20_digit_iccid_with_its_luhn_digit_is_accepted() -> None:
    payload = "8910000000000000001"
    iccid = payload + luhn_check_digit(payload)

    assert normalize_iccid(iccid) == iccid


def test_an_iccid_with_a_wrong_check_digit_is_refused() -> None:
    wrong = VALID_ICCID[:-1] + str((int(VALID_ICCID[-1]) + 1) % 10)

    with pytest.raises(InvalidIccid, match="wrong check digit"):
        normalize_iccid(wrong)


@pytest.mark.parametrize(
    "text",
    [
        VALID_ICCID[:-1],
        VALID_ICCID + "00",
        "79" + VALID_ICCID[2:-1] + luhn_check_digit("79" + VALID_ICCID[2:-1]),
        "89ABCDEFGHIJKLMNOPQ",
        "",
    ],
    ids=["18-digits", "21-digits", "not-89", "letters", "empty"],
)
def test_an_iccid_of_the_wrong_shape_is_refused(text: str) -> None:
    with pytest.raises(InvalidIccid, match="19 or 20 digits starting with 89"):
        normalize_iccid(text)


@settings(max_examples=400)
@given(
    region=st.sampled_from(["AR", "CO", "BE", "ES", "FR", "NL", "CN", "US", "IT", "GB", "MX"]),
    digits=st.text(alphabet="0123456789", min_size=4, max_size=15),
)
def test_a_number_s_type_is_unknown_exactly_when_it_is_not_valid(region: str, digits: str) -> None:
    # normalize_msisdn asks the type once and takes UNKNOWN for "not valid"
    import phonenumbers

    try:
        parsed = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return
    unknown = phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.UNKNOWN

    assert unknown == (not phonenumbers.is_valid_number(parsed))
