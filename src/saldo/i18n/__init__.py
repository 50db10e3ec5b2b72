"""Message catalogs (es, fr, nl, en, zh) and the formatting of dates, counts, allowances and
exchange rates for people in their locale: one function per kind of value, used by every
channel (money is ``saldo.domain.money.format_money``). Channels render replies from plain
data with these."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_date_format
from babel.numbers import format_decimal

LANGUAGES = ("es", "fr", "nl", "en", "zh")
# The locales money and dates are read and written in: one per language and country served.
LOCALES = ("es_AR", "es_CO", "fr_BE", "nl_BE", "en", "zh_CN")
_MESSAGES = Path(__file__).parent / "messages"


@cache
def catalog(language: str) -> dict[str, str]:
    """The messages of ``language`` (English for a language Saldo does not speak)."""
    # PyYAML is loaded with the first catalog, not by every command that formats a number.
    import yaml

    # libyaml's loader where PyYAML was built with it (its wheels are): 7× faster than the
    # pure-Python one, and the same documents; every CLI command that replies reads these.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    name = language if language in LANGUAGES else "en"
    # The main file, then one file per part of Saldo that brings its own (``portal/en.yaml``).
    messages: dict[str, str] = {}
    for path in (_MESSAGES / f"{name}.yaml", *sorted(_MESSAGES.glob(f"*/{name}.yaml"))):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        if not isinstance(data, dict):
            raise ValueError(f"{path} is not a mapping of message keys to texts")
        if twice := messages.keys() & {str(key) for key in data}:
            raise ValueError(f"{path} repeats {sorted(twice)}")
        messages.update({str(key): str(value) for key, value in data.items()})
    return messages


def translate(key: str, *, language: str, **values: Any) -> str:
    """The message ``key`` in ``language`` with its placeholders filled."""
    return catalog(language)[key].format(**values)


def last_valid_day(valid_until: datetime, *, timezone: str, locale: str) -> str:
    """The last day a validity ``[…, valid_until)`` covers, as people write dates: validity
    ending at midnight on 23 December is "valid until 22 Dec 2026"."""
    local = (valid_until - timedelta(microseconds=1)).astimezone(ZoneInfo(timezone))
    return _medium_date(local.date(), locale)


@lru_cache(maxsize=8192)
def _medium_date(day: date, locale: str) -> str:
    # Many lines share a few validity days; each is formatted once per locale.
    return str(format_date(day, format=_date_pattern(locale), locale=locale))


# The day, the month's abbreviated name and the year, where CLDR's medium date writes the
# month as a number (es_CO: "7/04/2027", which a reader of another country takes for July).
NAMED_MONTH = "d MMM y"


@cache
def _date_pattern(locale: str) -> str:
    """CLDR's medium date for ``locale`` when it names the month ("7 abr 2027", "Apr 7,
    2027", "2027年4月7日"), else NAMED_MONTH."""
    pattern = str(get_date_format("medium", locale=locale).pattern)
    return pattern if "MMM" in pattern or "年" in pattern else NAMED_MONTH


def date_text(day: date, *, locale: str) -> str:
    """A day as people of ``locale`` read it, its month never a bare number: "7 abr 2027"
    (es_AR, es_CO), "7 avr. 2027", "Apr 7, 2027", "2027年4月7日"."""
    return _medium_date(day, locale)


def number_text(count: int, *, locale: str) -> str:
    """A whole number grouped as in ``locale``: 166.666.666 (es), 166,666,666 (en), 166 666 666
    (fr, with a narrow no-break space)."""
    if 0 <= count < 1000:
        return str(count)  # nothing to group: Babel would cost ~20 µs for each SMS reply
    return _grouped(count, locale)


@lru_cache(maxsize=8192)
def _grouped(count: int, locale: str) -> str:
    return str(format_decimal(count, locale=locale))


# Exchange rates shown to people keep this many significant digits (docs/exchange-rates.md).
RATE_DIGITS = 6


def rate_text(rate: Decimal, *, locale: str) -> str:
    """An exchange rate for people: RATE_DIGITS significant digits, rounded half-even, in the
    locale's digits ("1.421,25", "0,00488622", "1,0876"); scripts get the exact rate."""
    digits = RATE_DIGITS - rate.adjusted() - 1
    shown = rate.quantize(Decimal(1).scaleb(-digits)) if digits > 0 else rate.quantize(1)
    return str(format_decimal(shown, format="#,##0.##", locale=locale, decimal_quantization=False))


def exact_rate_text(rate: Decimal, *, locale: str) -> str:
    """An exchange rate digit for digit, with at least two decimals ("1.421,245",
    "0,000952381"): receipts show the rate exactly as the amount was converted with it."""
    return str(
        format_decimal(
            rate.normalize(), format="#,##0.00", locale=locale, decimal_quantization=False
        )
    )


def minutes_text(seconds: int, *, locale: str) -> str:
    """Voice time to the second for staff: "166.666.666 min", "1 min 1 s"."""
    minutes, rest = divmod(seconds, 60)
    return f"{number_text(minutes, locale=locale)} min" + (f" {rest} s" if rest else "")


def data_text(data_bytes: int, *, locale: str) -> str:
    """Data for staff, in whole megabytes (1 MB = 1,048,576 bytes) grouped as in ``locale``,
    or in bytes below one: "2.048 MB", "512 B"."""
    megabytes = data_bytes / (1024 * 1024)
    if megabytes >= 1:
        return f"{number_text(round(megabytes), locale=locale)} MB"
    return f"{number_text(data_bytes, locale=locale)} B"


def local_moment(moment: datetime, *, timezone: str, locale: str) -> str:
    """A moment as people read it in their zone, date and 24-hour time: "23 nov 2026 15:00"
    (no trailing abbreviation that would clash with a sentence's full stop)."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{_medium_date(local.date(), locale)} {local:%H:%M}"


def quantities(*, locale: str, voice_seconds: int, sms: int, data_bytes: int) -> str:
    """Allowances for an SMS, in whole minutes, SMS and megabytes or gigabytes to a tenth,
    grouped as in ``locale``: "1.200 min, 50 SMS, 1,5 GB" (only those the line has)."""
    parts = []
    if voice_seconds:
        parts.append(f"{number_text(voice_seconds // 60, locale=locale)} min")
    if sms:
        parts.append(f"{number_text(sms, locale=locale)} SMS")
    if data_bytes:
        megabytes = data_bytes / (1024 * 1024)
        if megabytes >= 1024:
            gigabytes = Decimal(f"{megabytes / 1024:.1f}")
            shown = format_decimal(gigabytes, format="#,##0.#", locale=locale)
            parts.append(f"{shown} GB")
        else:
            parts.append(f"{number_text(int(megabytes), locale=locale)} MB")
    return ", ".join(parts)
