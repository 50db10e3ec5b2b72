"""Amounts, quantities and days said aloud in each of the hotline's languages."""

from __future__ import annotations

from datetime import date

import pytest

from saldo.channels.hotline.sayings import (
    GB,
    MB,
    chinese_number,
    data_words,
    day_words,
    days_words,
    digits_words,
    minutes_words,
    money_words,
    number_words,
    sms_words,
)
from saldo.domain.money import Money


@pytest.mark.parametrize(
    ("amount", "language", "locale", "said"),
    [
        (Money.of("30000", "COP"), "es", "es_CO", "treinta mil pesos"),
        (Money.of("80000", "COP"), "es", "es_CO", "ochenta mil pesos"),
        (Money.of("1", "ARS"), "es", "es_AR", "un peso"),
        (Money.of("21000", "ARS"), "es", "es_AR", "veintiún mil pesos"),
        (Money.of("31000", "ARS"), "es", "es_AR", "treinta y un mil pesos"),
        (Money.of("1000000", "COP"), "es", "es_CO", "un millón de pesos"),
        (
            Money.of("1234.50", "ARS"),
            "es",
            "es_AR",
            "mil doscientos treinta y cuatro pesos con cincuenta centavos",
        ),
        (Money.of("71", "EUR"), "fr", "fr_BE", "septante et un euros"),
        (Money.of("15.50", "EUR"), "fr", "fr_BE", "quinze euros et cinquante cents"),
        (Money.of("1", "EUR"), "fr", "fr_BE", "un euro"),
        (Money.of("1000000", "EUR"), "fr", "fr_BE", "un million d'euros"),
        (Money.of("15.50", "EUR"), "nl", "nl_BE", "vijftien euro en vijftig cent"),
        (Money.of("30000", "COP"), "nl", "nl_BE", "dertigduizend peso's"),
        (Money.of("30000", "COP"), "en", "en", "thirty thousand pesos"),
        (Money.of("1.01", "EUR"), "en", "en", "one euro and one cent"),
        (Money.of("30000", "ARS"), "zh", "zh_CN", "三万比索"),
        (Money.of("15.50", "EUR"), "zh", "zh_CN", "十五欧元五十分"),
        (Money.of("20000", "COP"), "zh", "zh_CN", "两万比索"),
    ],
)
def test_an_amount_is_said_in_words(amount: Money, language: str, locale: str, said: str) -> None:
    assert money_words(amount, language=language, locale=locale) == said


@pytest.mark.parametrize(
    ("data_bytes", "language", "said"),
    [
        (int(2.5 * GB), "es", "dos coma cinco gigas"),
        (2 * GB, "es", "dos gigas"),
        (1 * GB, "es", "un giga"),
        (500 * MB, "es", "quinientos megas"),
        (int(2.5 * GB), "fr", "deux virgule cinq gigas"),
        (int(2.5 * GB), "nl", "twee komma vijf gigabyte"),
        (int(2.5 * GB), "en", "two point five gigabytes"),
        (int(2.5 * GB), "zh", "二点五G"),
        (2 * GB, "zh", "两G"),
        (500 * MB, "zh", "五百兆"),
    ],
)
def test_data_is_said_in_gigabytes_to_a_tenth_or_in_megabytes(
    data_bytes: int, language: str, said: str
) -> None:
    assert data_words(data_bytes, language=language) == said


@pytest.mark.parametrize(
    ("language", "minutes", "sms", "days"),
    [
        ("es", "cien minutos", "un mensaje", "treinta días"),
        ("fr", "cent minutes", "un SMS", "trente jours"),
        ("nl", "honderd minuten", "één sms", "dertig dagen"),
        ("en", "one hundred minutes", "one text message", "thirty days"),
        ("zh", "一百分钟", "一条短信", "三十天"),
    ],
)
def test_minutes_sms_and_days_are_counted_with_their_noun(
    language: str, minutes: str, sms: str, days: str
) -> None:
    assert minutes_words(6000, language=language) == minutes
    assert sms_words(1, language=language) == sms
    assert days_words(30, language=language) == days


def test_a_single_minute_is_said_in_the_singular() -> None:
    assert minutes_words(60, language="es") == "un minuto"
    assert minutes_words(119, language="en") == "one minute"


@pytest.mark.parametrize(
    ("day", "language", "said"),
    [
        (date(2026, 12, 22), "es", "veintidós de diciembre"),
        (date(2027, 1, 1), "es", "primero de enero"),
        (date(2026, 12, 22), "fr", "vingt-deux décembre"),
        (date(2027, 1, 1), "fr", "premier janvier"),
        (date(2026, 12, 22), "nl", "tweeëntwintig december"),
        (date(2026, 12, 22), "en", "December twenty-second"),
        (date(2026, 12, 22), "zh", "十二月二十二日"),
    ],
)
def test_a_day_is_said_as_people_say_it(day: date, language: str, said: str) -> None:
    assert day_words(day, language=language) == said


def test_belgian_french_says_septante_and_nonante() -> None:
    assert number_words(70, language="fr", locale="fr_BE") == "septante"
    assert number_words(90, language="fr", locale="fr_BE") == "nonante"
    assert number_words(70, language="fr", locale="fr_FR") == "soixante-dix"


def test_digits_are_read_one_by_one() -> None:
    assert digits_words("0123", language="es") == "cero, uno, dos, tres"
    assert digits_words("0123", language="zh") == "零一二三"


@pytest.mark.parametrize(
    ("count", "said"),
    [
        (0, "零"),
        (10, "十"),
        (12, "十二"),
        (105, "一百零五"),
        (1010, "一千零一十"),
        (2200, "两千二百"),
        (30000, "三万"),
        (10001, "一万零一"),
        (120003, "十二万零三"),
        (100000000, "一亿"),
    ],
)
def test_chinese_numbers_are_grouped_by_wan(count: int, said: str) -> None:
    assert chinese_number(count) == said
