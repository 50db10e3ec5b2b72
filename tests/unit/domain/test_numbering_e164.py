"""A number already in E.164 is checked without ``phonenumbers.parse`` (``normalize_msisdn``'s
fast path, from the same metadata): it must answer exactly as ``parse`` and ``number_type``
do, the same number or the same refusal with the same message, for every country a demo
operator is in. Proved on random numbers built from each region's own number ranges
(mobile, fixed, toll-free, premium, ...), cut short, run long and mistyped; and on every
region's example numbers."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from saldo.domain.numbering import (
    InvalidMsisdn,
    _e164_mobile_check,
    _normalized_by_phonenumbers,
    normalize_msisdn,
)

DEMO_COUNTRIES = ("AR", "CO", "BE")  # the bundled catalog's operators' countries
# The demo countries' codes, and others that test the edges: +1 and +7 (shared by several
# regions), +39 (numbers with a leading zero), +55 and +52 (national prefixes to strip).
COUNTRY_CODES = (54, 57, 32, 1, 7, 39, 55, 52, 598)


def example_numbers(region: str, kinds: tuple[int, ...] | None = None) -> list[str]:
    """The national significant number of the example of each number type of ``region``
    (or of these ``kinds``)."""
    found = []
    for kind in kinds or phonenumbers.PhoneNumberType.values():
        example = phonenumbers.example_number_for_type(region, kind)
        if example is not None:
            found.append(phonenumbers.national_significant_number(example))
    return found


RANGES = {
    code: sorted(
        {
            n
            for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
            for n in example_numbers(region)
        }
    )
    for code in COUNTRY_CODES
}
MOBILES = {
    region: example_numbers(region, (phonenumbers.PhoneNumberType.MOBILE,))
    for region in DEMO_COUNTRIES
}


def answer(normalize: object, text: str, country: str) -> object:
    """What a normalisation says: the number, or the refusal's type and message."""
    assert callable(normalize)
    try:
        return normalize(text, country=country)
    except InvalidMsisdn as refused:
        return type(refused), str(refused)


def digits(count: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=count, max_size=count)


@st.composite
def mobile_like(draw: st.DrawFn, *, country: str) -> str:
    """One of ``country``'s example mobile numbers with its last digits drawn anew: mostly
    valid mobile numbers (the fast path's yes)."""
    start = draw(st.sampled_from(MOBILES[country]))
    tail = draw(st.integers(1, 6))
    code = phonenumbers.country_code_for_region(country)
    return f"+{code}{start[:-tail]}{draw(digits(tail))}"


@st.composite
def any_e164(draw: st.DrawFn) -> str:
    """Any part of some region's number range run to any length, a digit mistyped now and
    then: mostly what only ``phonenumbers`` can answer (the fast path's no)."""
    code = draw(st.sampled_from(COUNTRY_CODES))
    start = draw(st.sampled_from(RANGES[code]))
    kept = start[: draw(st.integers(0, len(start)))]
    if kept and draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(kept) - 1))
        kept = kept[:at] + draw(digits(1)) + kept[at + 1 :]
    length = draw(st.integers(1, 16 - len(str(code))))  # one too many now and then
    return f"+{code}{(kept + draw(digits(length)))[:length]}"


@settings(max_examples=500, deadline=None)
@given(data=st.data(), country=st.sampled_from(DEMO_COUNTRIES))
def test_a_number_in_e164_gets_the_answer_phonenumbers_gives(
    data: st.DataObject, country: str
) -> None:
    text = data.draw(mobile_like(country=country) | any_e164())
    check = _e164_mobile_check(country)
    event("answered without parse" if check and check.is_mobile(text) else "left to parse")

    assert answer(normalize_msisdn, text, country) == answer(
        _normalized_by_phonenumbers, text, country
    )


@pytest.mark.parametrize("region", sorted(phonenumbers.SUPPORTED_REGIONS))
def test_every_example_number_of_every_region_gets_the_answer_phonenumbers_gives(
    region: str,
) -> None:
    code = phonenumbers.country_code_for_region(region)
    # Its national prefix after the country code, as people mistype it: parse strips it.
    prefix = phonenumbers.PhoneMetadata.metadata_for_region(region).national_prefix or ""
    for national in example_numbers(region):
        for digits in (national, national[:-1], national + "5", prefix + national):
            text = f"+{code}{digits}"
            for country in (*DEMO_COUNTRIES, region):
                assert answer(normalize_msisdn, text, country) == answer(
                    _normalized_by_phonenumbers, text, country
                ), (text, country)


@pytest.mark.parametrize(
    ("text", "country"),
    [("+5492614123456", "AR"), ("+573001234567", "CO"), ("+32470123456", "BE")],
)
def test_a_mobile_number_of_a_demo_country_is_answered_without_parse(
    text: str, country: str
) -> None:
    check = _e164_mobile_check(country)

    assert check is not None and check.is_mobile(text)
    assert normalize_msisdn(text, country=country) == text


@pytest.mark.parametrize(
    "text",
    [
        "+5411152345678",  # Buenos Aires with the mobile prefix 15 inside: parse rewrites it
        "+541123456789",  # a Buenos Aires landline
        "+5480012345678",  # toll-free
        "+573001234567",  # Colombian: another country's
        "+54911234567",  # a digit short
    ],
)
def test_what_the_fast_path_cannot_say_yes_to_is_left_to_phonenumbers(text: str) -> None:
    check = _e164_mobile_check("AR")

    assert check is not None and not check.is_mobile(text)
    assert answer(normalize_msisdn, text, "AR") == answer(_normalized_by_phonenumbers, text, "AR")


def test_a_country_code_shared_by_several_regions_has_no_fast_path() -> None:
    assert _e164_mobile_check("US") is None
    assert _e164_mobile_check("CA") is None
