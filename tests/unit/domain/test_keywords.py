"""Matching what subscribers type to an operator's SMS keywords: case, accents, spacing,
multi-word keywords, arguments and the words that confirm a pending offer."""

from __future__ import annotations

import pytest

from saldo.domain.keywords import CONFIRM_WORDS, Command, match_keyword, normalize

# Keywords as the bundled catalogs define them.
CLARO_CO = {
    "balance": ("SALDO", "CONSULTA"),
    "topup": ("RECARGA", "PIN"),
    "plans": ("PAQUETES", "PLANES"),
    "renew": ("RENOVAR", "COMPRAR"),
    "help": ("AYUDA",),
}
MOVISTAR_AR = {
    "balance": ("MIS DATOS",),
    "topup": ("RECARGA", "CARGA"),
    "plans": ("PACKS", "PLANES"),
    "renew": ("RENOVAR",),
    "help": ("AYUDA",),
}


# -- normalize --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("saldo", "SALDO"),
        ("SALDO", "SALDO"),
        ("Sáldo", "SALDO"),
        ("  saldo  ", "SALDO"),
        ("mis   datos", "MIS DATOS"),
        ("Código", "CODIGO"),
        ("ＳＡＬＤＯ", "SALDO"),  # full-width letters, as some handsets send them
        ("sí", "SI"),
        ("是", "是"),
    ],
)
def test_normalize_ignores_case_accents_and_extra_spaces(typed: str, normalized: str) -> None:
    assert normalize(typed) == normalized


def test_normalize_drops_control_characters() -> None:
    assert normalize("\x00SAL\x07DO\x1b\u200b") == "SALDO"


def test_normalize_of_only_spaces_and_control_characters_is_empty() -> None:
    assert normalize(" \t\r\n\x00\x7f ") == ""


def test_a_newline_between_two_words_separates_them_like_a_space() -> None:
    # Some handsets put a line break where the subscriber pressed "enter" between words.
    assert normalize("MIS\nDATOS") == "MIS DATOS"
    assert normalize("RECARGA\t1234") == "RECARGA 1234"


# -- match_keyword ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["SALDO", "saldo", "Sáldo", "  saldo ", "consulta", " Consulta  "]
)
def test_every_spelling_of_a_balance_keyword_asks_for_the_balance(typed: str) -> None:
    assert match_keyword(typed, keywords=CLARO_CO) == Command("balance")


@pytest.mark.parametrize("typed", ["MIS DATOS", "mis datos", "mis   datos", " Mís Datos "])
def test_a_two_word_keyword_matches_however_the_words_are_spaced(typed: str) -> None:
    assert match_keyword(typed, keywords=MOVISTAR_AR) == Command("balance")


def test_the_first_word_of_a_two_word_keyword_alone_is_not_that_keyword() -> None:
    assert match_keyword("MIS", keywords=MOVISTAR_AR).action == "unknown"


def test_the_longest_matching_keyword_wins() -> None:
    keywords = {"help": ("MIS",), "balance": ("MIS DATOS",)}

    assert match_keyword("mis datos", keywords=keywords) == Command("balance")
    assert match_keyword("mis otros", keywords=keywords) == Command("help", "OTROS")


def test_a_keyword_that_is_only_the_start_of_a_longer_word_does_not_match() -> None:
    # "PIN" is a top-up keyword at Claro Colombia; "PINTURA" is not "PIN" + an argument.
    assert match_keyword("PINTURA", keywords=CLARO_CO).action == "unknown"


def test_what_follows_the_keyword_is_its_argument() -> None:
    command = match_keyword("RECARGA 1234 5678 9012 3456", keywords=CLARO_CO)

    assert command == Command("topup", "1234 5678 9012 3456")


def test_the_argument_is_normalized_like_the_keyword() -> None:
    command = match_keyword("renovar   todo-incluido-1m ", keywords=CLARO_CO)

    assert command == Command("renew", "TODO-INCLUIDO-1M")


def test_an_argument_after_a_two_word_keyword_is_kept() -> None:
    assert match_keyword("mis datos ahora", keywords=MOVISTAR_AR) == Command("balance", "AHORA")


def test_a_pin_after_a_line_break_is_still_the_argument() -> None:
    command = match_keyword("RECARGA\n1234 5678 9012 3456", keywords=CLARO_CO)

    assert command == Command("topup", "1234 5678 9012 3456")


@pytest.mark.parametrize("typed", ["SI", "si", "sí", "Sí", " SI ", "OUI", "oui", "JA", "ja", "YES"])
def test_confirm_words_confirm_in_every_language(typed: str) -> None:
    assert match_keyword(typed, keywords=CLARO_CO) == Command("confirm")


def test_chinese_subscribers_confirm_with_shi_or_queren() -> None:
    assert match_keyword("是", keywords=CLARO_CO) == Command("confirm")
    assert match_keyword("确认", keywords=CLARO_CO) == Command("confirm")


def test_every_confirm_word_is_already_in_normalized_form() -> None:
    assert all(normalize(word) == word for word in CONFIRM_WORDS)


def test_a_confirm_word_followed_by_more_text_is_not_a_confirmation() -> None:
    assert match_keyword("SI por favor", keywords=CLARO_CO).action == "unknown"


def test_unknown_text_is_unknown_and_carries_the_normalized_text() -> None:
    assert match_keyword("hola qué tal", keywords=CLARO_CO) == Command("unknown", "HOLA QUE TAL")


@pytest.mark.parametrize("typed", ["", "   ", "\n\t", "\x00\x01", "\u200b"])
def test_empty_text_is_unknown_with_no_argument(typed: str) -> None:
    assert match_keyword(typed, keywords=CLARO_CO) == Command("unknown")


def test_control_characters_inside_a_keyword_are_ignored() -> None:
    assert match_keyword("SAL\x00DO\x07", keywords=CLARO_CO) == Command("balance")


def test_an_operator_without_keywords_understands_only_confirmations() -> None:
    assert match_keyword("SALDO", keywords={}) == Command("unknown", "SALDO")
    assert match_keyword("SI", keywords={}) == Command("confirm")
