"""Message catalogs (es, fr, nl, en, zh) and the formatting of money, dates and quantities
for people in their locale. Channels render replies from plain data with these."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from babel.dates import format_date

LANGUAGES = ("es", "fr", "nl", "en", "zh")
# The locales money and dates are read and written in: one per language and country served.
LOCALES = ("es_AR", "es_CO", "fr_BE", "nl_BE", "en", "zh_CN")
_MESSAGES = Path(__file__).parent / "messages"


@cache
def catalog(language: str) -> dict[str, str]:
    """The messages of ``language`` (English for a language Saldo does not speak)."""
    name = language if language in LANGUAGES else "en"
    data = yaml.safe_load((_MESSAGES / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return {str(key): str(value) for key, value in data.items()}


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
    return str(format_date(day, format="medium", locale=locale))


def local_moment(moment: datetime, *, timezone: str, locale: str) -> str:
    """A moment as people read it in their zone, date and 24-hour time: "23 nov 2026 15:00"
    (no trailing abbreviation that would clash with a sentence's full stop)."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{_medium_date(local.date(), locale)} {local:%H:%M}"


def quantities(*, language: str, voice_seconds: int, sms: int, data_bytes: int) -> str:
    """Allowances for an SMS: "120 min, 50 SMS, 2 GB" (only those the line has)."""
    parts = []
    if voice_seconds:
        parts.append(f"{voice_seconds // 60} min")
    if sms:
        parts.append(f"{sms} SMS")
    if data_bytes:
        megabytes = data_bytes / (1024 * 1024)
        if megabytes >= 1024:
            gigabytes = f"{megabytes / 1024:.1f}".rstrip("0").rstrip(".")
            if language in ("es", "fr", "nl"):
                gigabytes = gigabytes.replace(".", ",")
            parts.append(f"{gigabytes} GB")
        else:
            parts.append(f"{int(megabytes)} MB")
    return ", ".join(parts)
