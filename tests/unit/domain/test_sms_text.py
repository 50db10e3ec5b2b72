"""How long a text is as SMS: GSM-7 (160, or 153 per part) or UCS-2 (70, or 67 per part),
and cutting a reply so it never takes more than three SMS."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from saldo.domain.sms_text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_PARTS,
    fit_sms,
    is_gsm7,
    sms_parts,
)

# -- is_gsm7 ----------------------------------------------------------------------------------


def test_the_gsm_alphabet_has_127_basic_characters_besides_the_escape_and_10_extended() -> None:
    # The basic table has 128 codes; one (0x1B) is the escape to the extension table, which
    # is not a character anyone types.
    assert len(GSM7_BASIC) == 127
    assert "\x1b" not in GSM7_BASIC
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    "text",
    ["", "Personal: saldo $3.000,00.", "Geldig tot 22 dec", "ÑÜ¿¡ äöüß é", "5 € [x] {y} ~|^\\"],
)
def test_plain_latin_text_and_the_euro_are_gsm7(text: str) -> None:
    assert is_gsm7(text)


@pytest.mark.parametrize("text", ["余额", "Válido hasta 22 dic", "ç", "…", "😀", "\t"])
def test_a_character_outside_gsm_03_38_makes_the_text_ucs2(text: str) -> None:
    # The GSM alphabet has é and É but not á, í, ó or ú; it has Ç but not ç.
    assert not is_gsm7(text)


# -- sms_parts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "parts"),
    [(0, 1), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_text_takes_160_characters_in_one_sms_and_153_per_part_after(
    length: int, parts: int
) -> None:
    assert sms_parts("a" * length) == parts


@pytest.mark.parametrize(
    ("length", "parts"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_text_takes_70_characters_in_one_sms_and_67_per_part_after(
    length: int, parts: int
) -> None:
    assert sms_parts("余" * length) == parts


def test_extension_characters_count_twice() -> None:
    assert sms_parts("€" * 80) == 1
    assert sms_parts("€" * 81) == 2
    assert sms_parts("a" * 159 + "{") == 2
    assert sms_parts("€" * 228) == 3  # 76 escape pairs fill each 153-septet part
    assert sms_parts("€" * 229) == 4


def test_one_chinese_character_makes_a_long_latin_text_ucs2() -> None:
    assert sms_parts("a" * 69 + "余") == 1
    assert sms_parts("a" * 70 + "余") == 2


def test_characters_beyond_the_basic_plane_count_as_two_ucs2_units() -> None:
    assert sms_parts("😀" * 35) == 1
    assert sms_parts("😀" * 36) == 2
    assert sms_parts("a" * 69 + "😀") == 2


def test_an_escape_pair_is_never_split_between_two_parts() -> None:
    # 152 letters, then "€" (escape + e), then 152 letters: 306 septets, which would be two
    # parts of 153 only if the escape ended part one and its "e" began part two. Phones
    # cannot do that, so the "€" moves to part two and the text needs three.
    assert sms_parts("a" * 152 + "€" + "a" * 152) == 3


def test_a_surrogate_pair_is_never_split_between_two_parts() -> None:
    # 66 units, an emoji (two units) and 66 units: 134 units, two parts of 67 only if the
    # emoji's halves travelled in different parts.
    assert sms_parts("余" * 66 + "😀" + "余" * 66) == 3


# -- fit_sms ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "Saldo $3.000,00", "a" * 459, "余" * 201, "€" * 228])
def test_a_text_that_fits_in_three_sms_is_left_unchanged(text: str) -> None:
    assert fit_sms(text) == text


def test_a_long_gsm7_text_is_cut_to_three_parts_with_three_dots() -> None:
    fitted = fit_sms("a" * 1000)

    assert fitted == "a" * 456 + "..."
    assert sms_parts(fitted) == 3


def test_a_long_ucs2_text_is_cut_to_three_parts_with_an_ellipsis() -> None:
    fitted = fit_sms("余" * 1000)

    assert fitted == "余" * 200 + "…"
    assert sms_parts(fitted) == 3


def test_a_cut_never_ends_in_spaces_before_the_ellipsis() -> None:
    fitted = fit_sms("palabra " * 100)

    assert fitted.endswith("...")
    assert not fitted.removesuffix("...").endswith(" ")


def test_fit_sms_honours_a_smaller_limit() -> None:
    fitted = fit_sms("a" * 400, max_parts=1)

    assert sms_parts(fitted) == 1
    assert fitted.endswith("...")


@given(text=st.text(max_size=2000))
@example(text="€" * 500)
@example(text="😀" * 300)
@example(text="a" * 459 + "余")
@example(text=" " * 1000)
def test_fit_sms_never_exceeds_three_parts_and_keeps_a_text_that_fits(text: str) -> None:
    """Proves that for any text (GSM-7 or not, with extension characters, astral characters,
    control characters or only spaces) ``fit_sms`` returns at most three SMS, returns the
    text itself when it already fits, and otherwise returns a prefix of it followed by an
    ellipsis."""
    fitted = fit_sms(text)

    assert sms_parts(fitted) <= MAX_PARTS
    if sms_parts(text) <= MAX_PARTS:
        assert fitted == text
    else:
        ellipsis = "..." if is_gsm7(text) else "…"
        assert fitted.endswith(ellipsis)
        assert text.startswith(fitted.removesuffix(ellipsis))
