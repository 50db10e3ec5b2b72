"""A line's history made into what the portal's history pages print (``routes_history``):
what every history page shares (the line, the links between its pages, the words) and the
daily use as bar charts and a table. A month's movements are made in
``views_history_movements``, the plan and the advice in ``views_history_plan``. Every amount,
quantity and date is written in the page's language, in the line's country where Saldo has
that locale; templates only place these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Final
from urllib.parse import quote

from babel.dates import format_skeleton

from saldo.channels.web.language import locale_for
from saldo.channels.web.views import line_href
from saldo.domain.money import format_money
from saldo.domain.operator import Presentation
from saldo.i18n import data_text, date_text, minutes_text, number_text, quantities
from saldo.i18n import translate as _translate
from saldo.services.daily_use import DailyUseView, DayUse

MB: Final = 1024 * 1024
# The chart's drawing box (the SVG's viewBox, stretched to the page's width): each day a slot
# of the width with its bar in the middle; the busiest day's bar reaches TOP.
WIDTH: Final = 300
HEIGHT: Final = 100
TOP: Final = 4


@dataclass(frozen=True, slots=True)
class Link:
    href: str
    text: str
    current: bool = False


@dataclass(frozen=True, slots=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Heading:
    """What every history page starts with: the line, and the links between its pages."""

    msisdn: str
    line_href: str
    operator: str
    pages: tuple[Link, ...]


def heading(msisdn: str, shown: Presentation, *, page: str, language: str) -> Heading:
    base = line_href(msisdn)
    return Heading(
        msisdn=msisdn,
        line_href=base,
        operator=shown.operator_name,
        pages=tuple(
            Link(f"{base}/{name}", say(f"portal_history_{name}", language), name == page)
            for name in ("usage", "movements", "plan")
        ),
    )


# -- daily use --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # "5 nov 2026: 1,2 GB"
    zero: bool


@dataclass(frozen=True, slots=True)
class Chart:
    """One series' bars, a day each. ``title`` and ``summary`` are the SVG's title and
    description; ``peak`` labels the top line, ``first``/``last`` the ends of the days."""

    key: str  # data, voice, sms, money: the ids of the SVG's parts
    title: str
    summary: str
    peak: str
    first: str
    last: str
    bars: tuple[Bar, ...]
    width: int = WIDTH  # the drawing box; its top line at ``top``
    height: int = HEIGHT
    top: int = TOP


@dataclass(frozen=True, slots=True)
class UseRow:
    day: str
    values: tuple[str, ...]  # in the order of UsagePage.columns


@dataclass(frozen=True, slots=True)
class UsagePage:
    heading: Heading
    title: str
    period: str
    totals: tuple[Fact, ...]
    charts: tuple[Chart, ...]
    unused: tuple[str, ...]  # "No SMS sent or received in these 30 days."
    caption: str
    columns: tuple[str, ...]
    rows: tuple[UseRow, ...]
    total: UseRow


@dataclass(frozen=True, slots=True)
class _Series:
    key: str
    label: str  # the total's and the column's name
    value: Callable[[DayUse], int]
    text: Callable[[DayUse], str]


def usage_page(view: DailyUseView, *, language: str) -> UsagePage:
    """The use per day of ``view`` as charts (the series with some use; money only where use
    was charged to it) and as a table of every day, zeros included."""
    locale = page_locale(view.shown, language)
    first, last = view.days[0].day, view.days[-1].day
    day_text = {day.day: date_text(day.day, locale=locale) for day in view.days}
    # The table's days fit a phone without their year: the caption gives the period's.
    short = {day.day: str(format_skeleton("MMMd", day.day, locale=locale)) for day in view.days}
    period = say("portal_history_period", language, first=day_text[first], last=day_text[last])
    series = (
        _Series(
            "data",
            say("portal_bucket_data", language),
            lambda d: d.data_bytes,
            lambda d: _data(d.data_bytes, locale=locale),
        ),
        _Series(
            "voice",
            say("portal_bucket_voice", language),
            lambda d: d.voice_seconds,
            lambda d: minutes_text(d.voice_seconds, locale=locale),
        ),
        _Series(
            "sms",
            say("portal_bucket_sms", language),
            lambda d: d.sms,
            lambda d: number_text(d.sms, locale=locale),
        ),
        _Series(
            "money",
            say("portal_history_money_spent", language),
            lambda d: d.money.minor,
            lambda d: format_money(d.money, locale=locale),
        ),
    )
    used = [s for s in series if s.value(view.total) > 0]
    unused = [s for s in series if s.value(view.total) == 0 and s.key != "money"]
    return UsagePage(
        heading=heading(view.msisdn, view.shown, page="usage", language=language),
        title=say(
            "portal_history_usage_title", language, days=number_text(len(view.days), locale=locale)
        ),
        period=period,
        totals=tuple(Fact(s.label, s.text(view.total)) for s in series),
        charts=tuple(
            _chart(view, s, day_text=day_text, period=period, language=language) for s in used
        ),
        unused=tuple(say(f"portal_history_no_{s.key}", language) for s in unused),
        caption=say("portal_history_table_caption", language, period=period),
        columns=tuple(s.label for s in series),
        rows=tuple(
            UseRow(short[day.day], tuple(s.text(day) for s in series))
            for day in reversed(view.days)
        ),
        total=UseRow(
            say("portal_history_total", language), tuple(s.text(view.total) for s in series)
        ),
    )


def _chart(
    view: DailyUseView, series: _Series, *, day_text: dict[date, str], period: str, language: str
) -> Chart:
    peak_value = series.value(view.peak)
    peak_day = next(day for day in view.days if series.value(day) == peak_value)
    slot = WIDTH / len(view.days)
    bars = []
    for n, day in enumerate(view.days):
        value = series.value(day)
        # A day of some use is never thinner than a line; a day without use is a sliver on
        # the baseline, so every day of the period is seen to be there.
        height = max((HEIGHT - TOP) * value / peak_value, 1.5) if value else 2
        bars.append(
            Bar(
                x=round(n * slot + slot * 0.15, 2),
                y=round(HEIGHT - height, 2),
                width=round(slot * 0.7, 2),
                height=round(height, 2),
                label=f"{day_text[day.day]}: {series.text(day)}",
                zero=value == 0,
            )
        )
    return Chart(
        key=series.key,
        title=say(f"portal_history_chart_{series.key}", language),
        summary=say(
            "portal_history_chart_summary",
            language,
            period=period,
            total=series.text(view.total),
            peak=series.text(view.peak),
            day=day_text[peak_day.day],
        ),
        peak=series.text(view.peak),
        first=day_text[view.days[0].day],
        last=day_text[view.days[-1].day],
        bars=tuple(bars),
    )


def _data(data_bytes: int, *, locale: str) -> str:
    if data_bytes == 0:
        return "0 MB"
    if data_bytes < MB:
        return data_text(data_bytes, locale=locale)
    return quantities(locale=locale, voice_seconds=0, sms=0, data_bytes=data_bytes)


# -- words ------------------------------------------------------------------------------------


def page_locale(shown: Presentation, language: str) -> str:
    """The locale of ``language`` in the line's country (the country of its own locale)."""
    country = shown.locale.partition("_")[2] or None
    return locale_for(language, country=country)


def say(key: str, language: str, **values: str) -> str:
    return _translate(key, language=language, **values)


def statement_href(msisdn: str, month: str, extension: str) -> str:
    return f"{line_href(msisdn)}/statements/{quote(month, safe='')}.{extension}"
