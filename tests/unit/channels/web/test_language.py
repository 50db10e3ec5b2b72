"""Which language a portal page speaks, and the locale a line's amounts are written in."""

from __future__ import annotations

import pytest

from saldo.channels.web.language import accepted_language, locale_for, page_language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("nl-BE,nl;q=0.9,en;q=0.8", "nl"),
        ("de-DE,de;q=0.9,fr;q=0.5,en;q=0.7", "en"),
        ("zh-CN", "zh"),
        ("es-419;q=0.2, fr-BE;q=0.3", "fr"),
        ("fr;q=0, es", "es"),
        ("de, it", "en"),
        ("", "en"),
        ("en;q=abc, es;q=0.5", "es"),
    ],
)
def test_the_first_of_saldo_s_languages_by_weight(header: str, language: str) -> None:
    assert accepted_language(header) == language


def test_the_chosen_language_comes_first_then_the_line_s_then_the_browser_s() -> None:
    assert page_language(chosen="zh", line_language="es", accept="fr") == "zh"
    assert page_language(chosen=None, line_language="es", accept="fr") == "es"
    assert page_language(chosen="xx", line_language=None, accept="fr") == "fr"


@pytest.mark.parametrize(
    ("language", "country", "locale"),
    [
        ("es", "AR", "es_AR"),
        ("es", "CO", "es_CO"),
        ("nl", "BE", "nl_BE"),
        ("fr", "BE", "fr_BE"),
        ("es", "BE", "es"),
        ("zh", "AR", "zh_CN"),
        ("en", "CO", "en"),
        ("fr", None, "fr"),
    ],
)
def test_a_line_s_amounts_are_written_for_the_language_in_its_country(
    language: str, country: str | None, locale: str
) -> None:
    assert locale_for(language, country=country) == locale
