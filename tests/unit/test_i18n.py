"""The message catalogs (es, fr, nl, en, zh) and the formatting of dates and quantities."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

import saldo.i18n as i18n
from saldo.i18n import (
    LANGUAGES,
    catalog,
    date_text,
    last_valid_day,
    quantities,
    rate_text,
    translate,
)

MESSAGES = Path(__file__).parents[2] / "src" / "saldo" / "i18n" / "messages"
OTHER_LANGUAGES = [language for language in LANGUAGES if language != "en"]
MB = 1024 * 1024
GB = 1024 * MB


class DuplicateKey(yaml.YAMLError):
    pass


class StrictLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a mapping with the same key twice (PyYAML keeps the last)."""


def _construct_strict_mapping(loader: StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise DuplicateKey(f"{key!r} twice, line {key_node.start_mark.line + 1}")
        seen.add(key)
    return loader.construct_mapping(node)


StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_strict_mapping,  # type: ignore[arg-type]
)


def load_strictly(language: str) -> dict[str, str]:
    """Every message of ``language``: its main file and each part's (``portal/en.yaml``), no key
    twice in a file or across them."""
    messages: dict[str, str] = {}
    for path in (MESSAGES / f"{language}.yaml", *sorted(MESSAGES.glob(f"*/{language}.yaml"))):
        data = yaml.load(path.read_text(encoding="utf-8"), StrictLoader)
        assert isinstance(data, dict)
        assert not messages.keys() & data.keys(), f"{path} repeats keys of another file"
        messages.update(data)
    return messages


def placeholders(message: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(message) if field is not None}


# -- the catalogs -----------------------------------------------------------------------------


def test_there_is_one_message_file_per_language_and_no_other() -> None:
    assert sorted(path.stem for path in MESSAGES.glob("*.yaml")) == sorted(LANGUAGES)
    for part in (path for path in MESSAGES.iterdir() if path.is_dir()):
        assert sorted(path.stem for path in part.glob("*.yaml")) == sorted(LANGUAGES), part


def test_a_key_in_two_files_of_one_language_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "part").mkdir()
    (tmp_path / "en.yaml").write_text('balance: "a"\n', encoding="utf-8")
    (tmp_path / "part" / "en.yaml").write_text('balance: "b"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "_MESSAGES", tmp_path)
    i18n.catalog.cache_clear()
    try:
        with pytest.raises(ValueError, match="repeats"):
            i18n.catalog("en")
    finally:
        i18n.catalog.cache_clear()


def test_the_strict_loader_refuses_a_duplicated_key() -> None:
    with pytest.raises(DuplicateKey, match="'balance' twice, line 2"):
        yaml.load('balance: "a"\nbalance: "b"\n', StrictLoader)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_message_file_has_a_duplicated_key(language: str) -> None:
    load_strictly(language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_a_non_empty_string(language: str) -> None:
    messages = load_strictly(language)

    assert all(isinstance(text, str) and text.strip() for text in messages.values())


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_language_has_exactly_the_english_keys(language: str) -> None:
    english = set(load_strictly("en"))
    translated = set(load_strictly(language))

    assert translated - english == set(), "keys English does not have"
    assert english - translated == set(), "keys missing from this language"


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_placeholder_in_english_is_used_in_every_language(language: str) -> None:
    english = load_strictly("en")
    translated = load_strictly(language)

    missing = {
        key: sorted(placeholders(english[key]) - placeholders(translated[key]))
        for key in english
        if key in translated and placeholders(english[key]) - placeholders(translated[key])
    }

    assert missing == {}


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_no_language_uses_a_placeholder_english_does_not_fill(language: str) -> None:
    english = load_strictly("en")
    translated = load_strictly(language)

    extra = {
        key: sorted(placeholders(translated[key]) - placeholders(english[key]))
        for key in translated
        if key in english and placeholders(translated[key]) - placeholders(english[key])
    }

    assert extra == {}


def test_a_language_saldo_does_not_speak_gets_english() -> None:
    assert catalog("pt") == catalog("en")


def test_translate_fills_the_placeholders() -> None:
    reply = translate("wrong_pin", language="es", left=3)

    assert reply == "PIN incorrecto. Intentos restantes: 3."


# -- last_valid_day ---------------------------------------------------------------------------


def test_a_validity_ending_at_midnight_shows_the_day_before() -> None:
    # 23 December 00:00 in Buenos Aires is 03:00 UTC: the line is valid all of 22 December.
    end = datetime(2026, 12, 23, 3, 0, tzinfo=UTC)

    shown = last_valid_day(end, timezone="America/Argentina/Buenos_Aires", locale="es_AR")

    assert shown == "22 dic 2026"


def test_a_validity_ending_in_the_afternoon_shows_that_day() -> None:
    end = datetime(2026, 12, 23, 18, 0, tzinfo=UTC)  # 15:00 in Buenos Aires

    shown = last_valid_day(end, timezone="America/Argentina/Buenos_Aires", locale="es_AR")

    assert shown == "23 dic 2026"


@pytest.mark.parametrize(
    ("timezone", "locale", "end", "shown"),
    [
        ("Europe/Brussels", "fr_BE", datetime(2026, 12, 22, 23, 0, tzinfo=UTC), "22 déc. 2026"),
        ("Europe/Brussels", "nl_BE", datetime(2026, 12, 22, 23, 0, tzinfo=UTC), "22 dec 2026"),
        ("Europe/Brussels", "en", datetime(2026, 12, 22, 23, 0, tzinfo=UTC), "Dec 22, 2026"),
        ("America/Bogota", "es_CO", datetime(2027, 3, 21, 5, 0, tzinfo=UTC), "20 mar 2027"),
        (
            "America/Argentina/Buenos_Aires",
            "zh_CN",
            datetime(2026, 12, 23, 3, 0, tzinfo=UTC),
            "2026年12月22日",
        ),
    ],
)
def test_the_last_valid_day_is_written_as_people_in_each_locale_write_dates(
    timezone: str, locale: str, end: datetime, shown: str
) -> None:
    assert last_valid_day(end, timezone=timezone, locale=locale) == shown


def test_the_last_valid_day_is_the_local_day_not_the_utc_day() -> None:
    # 1 January 02:00 UTC is still 31 December, 23:00, in Buenos Aires.
    end = datetime(2027, 1, 1, 2, 0, tzinfo=UTC)

    shown = last_valid_day(end, timezone="America/Argentina/Buenos_Aires", locale="en")

    assert shown == "Dec 31, 2026"


# -- quantities -------------------------------------------------------------------------------


def test_quantities_show_minutes_sms_and_data() -> None:
    shown = quantities(locale="en", voice_seconds=120 * 60, sms=50, data_bytes=2 * GB)

    assert shown == "120 min, 50 SMS, 2 GB"


def test_quantities_show_only_what_the_line_has() -> None:
    assert quantities(locale="en", voice_seconds=0, sms=0, data_bytes=0) == ""
    assert quantities(locale="en", voice_seconds=0, sms=10, data_bytes=0) == "10 SMS"


def test_quantities_count_whole_minutes() -> None:
    assert quantities(locale="en", voice_seconds=119, sms=0, data_bytes=0) == "1 min"


def test_less_than_a_gigabyte_is_shown_in_whole_megabytes() -> None:
    assert quantities(locale="en", voice_seconds=0, sms=0, data_bytes=512 * MB) == "512 MB"
    assert quantities(locale="en", voice_seconds=0, sms=0, data_bytes=1023 * MB) == "1,023 MB"


@pytest.mark.parametrize(
    ("language", "shown"),
    [("en", "1.5 GB"), ("zh", "1.5 GB"), ("es", "1,5 GB"), ("fr", "1,5 GB"), ("nl", "1,5 GB")],
)
def test_fractions_of_a_gigabyte_use_each_language_s_decimal_mark(
    language: str, shown: str
) -> None:
    assert quantities(locale=language, voice_seconds=0, sms=0, data_bytes=1536 * MB) == shown


def test_gigabytes_are_shown_with_at_most_one_decimal_and_no_trailing_zero() -> None:
    assert quantities(locale="en", voice_seconds=0, sms=0, data_bytes=12 * GB) == "12 GB"
    assert quantities(locale="en", voice_seconds=0, sms=0, data_bytes=1024 * MB) == "1 GB"
    assert quantities(locale="en", voice_seconds=0, sms=0, data_bytes=1100 * MB) == "1.1 GB"


@pytest.mark.parametrize(
    ("rate", "locale", "shown"),
    [
        ("1450.25", "en", "1,450.25"),
        ("1421.2450", "es_AR", "1.421,24"),
        ("0.00488621547944", "en", "0.00488622"),
        ("1.0876", "fr_BE", "1,0876"),
        ("1E+3", "en", "1,000"),
        ("123456789", "en", "123,456,789"),
    ],
)
def test_an_exchange_rate_is_shown_with_six_significant_digits_in_the_locale(
    rate: str, locale: str, shown: str
) -> None:
    # given a rate as stored (up to 12 significant digits when worked out)
    # when it is written for people, then it keeps six significant digits at most
    assert rate_text(Decimal(rate), locale=locale) == shown


@pytest.mark.parametrize(
    ("locale", "shown"),
    [("es_CO", "7 abr 2027"), ("es_AR", "7 abr 2027"), ("nl_BE", "7 apr 2027")],
)
def test_a_date_never_writes_its_month_as_a_bare_number(locale: str, shown: str) -> None:
    # given 7 April 2027, which CLDR's medium Colombian date writes as 7/04/2027
    # when it is written for people, then the month is named
    assert date_text(date(2027, 4, 7), locale=locale) == shown


def test_large_allowances_are_grouped_in_the_locale() -> None:
    # given a line with 20,000 minutes and 1,500 SMS
    # when its allowances are written for an SMS in Spanish, then both counts are grouped
    assert (
        quantities(locale="es_CO", voice_seconds=1_200_000, sms=1500, data_bytes=0)
        == "20.000 min, 1.500 SMS"
    )
