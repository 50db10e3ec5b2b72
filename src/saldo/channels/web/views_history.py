"""A line's history made into what the portal's history pages print (``routes_history``): its
daily use as bar charts and a table, a month's movements with their receipts and the months
around it, and its plan with the advice's arithmetic. Every amount, quantity and date is
written here in the page's language, in the line's country where Saldo has that locale;
templates only place these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Final
from urllib.parse import quote

from babel.dates import format_skeleton

from saldo.channels.statements.advice import advice_text, option_name
from saldo.channels.statements.view import description
from saldo.channels.web.language import locale_for
from saldo.channels.web.views import line_href
from saldo.domain.money import Money, format_money
from saldo.domain.operator import Allowances, Presentation
from saldo.domain.periods import add_months, local_date
from saldo.domain.recommendation import MonthlyUse, Option, Verdict
from saldo.domain.statement import FIRST_YEAR
from saldo.i18n import data_text, date_text, local_moment, minutes_text, number_text, quantities
from saldo.i18n import translate as _translate
from saldo.services.history import (
    DailyUseView,
    DayUse,
    Movement,
    MovementsView,
    PlanAdviceView,
    usage_by_day,
)

MB: Final = 1024 * 1024
# The chart's drawing box (the SVG's viewBox, stretched to the page's width): each day a slot
# of SLOT units with its bar in the middle; the peak day's bar reaches TOP.
WIDTH: Final = 300
HEIGHT: Final = 100
TOP: Final = 4
# The months a statement can be chosen from, this one included.
STATEMENT_MONTHS: Final = 24


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
            Link(f"{base}/{name}", _t(f"portal_history_{name}", language), name == page)
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
    locale = _locale(view.shown, language)
    first, last = view.days[0].day, view.days[-1].day
    day_text = {day.day: date_text(day.day, locale=locale) for day in view.days}
    # The table's days fit a phone without their year: the caption gives the period's.
    short = {day.day: str(format_skeleton("MMMd", day.day, locale=locale)) for day in view.days}
    period = _t("portal_history_period", language, first=day_text[first], last=day_text[last])
    series = (
        _Series(
            "data",
            _t("portal_bucket_data", language),
            lambda d: d.data_bytes,
            lambda d: _data(d.data_bytes, locale=locale),
        ),
        _Series(
            "voice",
            _t("portal_bucket_voice", language),
            lambda d: d.voice_seconds,
            lambda d: minutes_text(d.voice_seconds, locale=locale),
        ),
        _Series(
            "sms",
            _t("portal_bucket_sms", language),
            lambda d: d.sms,
            lambda d: number_text(d.sms, locale=locale),
        ),
        _Series(
            "money",
            _t("portal_history_money_spent", language),
            lambda d: d.money.minor,
            lambda d: format_money(d.money, locale=locale),
        ),
    )
    used = [s for s in series if s.value(view.total) > 0]
    unused = [s for s in series if s.value(view.total) == 0 and s.key != "money"]
    return UsagePage(
        heading=heading(view.msisdn, view.shown, page="usage", language=language),
        title=_t(
            "portal_history_usage_title", language, days=number_text(len(view.days), locale=locale)
        ),
        period=period,
        totals=tuple(Fact(s.label, s.text(view.total)) for s in series),
        charts=tuple(
            _chart(view, s, day_text=day_text, period=period, language=language) for s in used
        ),
        unused=tuple(_t(f"portal_history_no_{s.key}", language) for s in unused),
        caption=_t("portal_history_table_caption", language, period=period),
        columns=tuple(s.label for s in series),
        rows=tuple(
            UseRow(short[day.day], tuple(s.text(day) for s in series))
            for day in reversed(view.days)
        ),
        total=UseRow(
            _t("portal_history_total", language), tuple(s.text(view.total) for s in series)
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
        title=_t(f"portal_history_chart_{series.key}", language),
        summary=_t(
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


# -- a month's movements ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MovementItem:
    when: str
    what: str
    amount: str  # signed: "+$10.000,00", "-$9.000,00"
    credit: bool
    balance_after: str | None  # "Balance after: $1.000,00"
    receipt_title: str  # "Receipt MOVISTAR-AR-T-000000001", or "Details"
    receipt: tuple[Fact, ...]


@dataclass(frozen=True, slots=True)
class MonthOption:
    value: str  # YYYY-MM
    text: str
    selected: bool


@dataclass(frozen=True, slots=True)
class MovementsPage:
    heading: Heading
    title: str
    month: str  # YYYY-MM
    previous: Link | None
    next: Link | None
    items: tuple[MovementItem, ...]
    empty: str | None  # said when the month has no movement
    totals: tuple[Fact, ...]
    statement_action: str
    months: tuple[MonthOption, ...]


def movements_page(view: MovementsView, *, language: str, now: datetime) -> MovementsPage:
    """The month's movements, newest first, a day's usage of each service summed into one
    (as the statement lists them), each with its receipt; links to the months before and
    after it (none after this month), and the months a statement can be asked for."""
    shown = view.shown
    locale = _locale(shown, language)
    first_day = date.fromisoformat(view.month + "-01")
    this_month = local_date(now, timezone=shown.timezone).replace(day=1)
    base = line_href(view.msisdn) + "/movements?month="

    def month_link(day: date, key: str) -> Link:
        return Link(base + f"{day:%Y-%m}", _t(key, language, month=_month_name(day, locale)))

    before, after = add_months(first_day, -1), add_months(first_day, 1)
    movements = usage_by_day(view.movements, timezone=shown.timezone)
    month_name = _month_name(first_day, locale)
    chosen = [add_months(this_month, -n) for n in range(STATEMENT_MONTHS)]
    if first_day not in chosen:
        chosen.append(first_day)
    return MovementsPage(
        heading=heading(view.msisdn, shown, page="movements", language=language),
        title=_t("portal_history_movements_title", language, month=month_name),
        month=view.month,
        previous=(
            month_link(before, "portal_history_previous") if before.year >= FIRST_YEAR else None
        ),
        next=month_link(after, "portal_history_next") if after <= this_month else None,
        items=tuple(
            _movement(m, shown=shown, language=language, locale=locale) for m in reversed(movements)
        ),
        empty=(
            None if movements else _t("portal_history_no_movements", language, month=month_name)
        ),
        totals=(
            Fact(
                _t("statement_credits", language), format_money(view.totals.credits, locale=locale)
            ),
            Fact(_t("statement_debits", language), format_money(view.totals.debits, locale=locale)),
        ),
        statement_action=line_href(view.msisdn) + "/statement",
        months=tuple(
            MonthOption(f"{day:%Y-%m}", _capitalised(_month_name(day, locale)), day == first_day)
            for day in chosen
        ),
    )


def _movement(
    movement: Movement, *, shown: Presentation, language: str, locale: str
) -> MovementItem:
    when = local_moment(movement.at, timezone=shown.timezone, locale=locale)
    amount = _signed(movement.amount, locale=locale)
    balance_after = (
        None
        if movement.balance_after is None
        else _t(
            "portal_history_balance_after",
            language,
            amount=format_money(movement.balance_after, locale=locale),
        )
    )
    receipt = (
        [Fact(_t("portal_history_receipt_number", language), movement.receipt)]
        if movement.receipt
        else []
    )
    receipt.append(Fact(_t("portal_history_when", language), when))
    if movement.channel:
        receipt.append(
            Fact(_t("portal_history_channel", language), _channel(movement.channel, language))
        )
    receipt.append(Fact(_t("statement_amount", language), amount))
    if movement.balance_change != movement.amount:
        receipt.append(
            Fact(
                _t("portal_history_balance_change", language),
                _signed(movement.balance_change, locale=locale),
            )
        )
    if movement.bonus.minor:
        receipt.append(
            Fact(_t("portal_bucket_bonus", language), _signed(movement.bonus, locale=locale))
        )
    receipt += _allowances(movement.allowances, language=language, locale=locale)
    if movement.balance_after is not None:
        receipt.append(
            Fact(
                _t("portal_history_balance", language),
                format_money(movement.balance_after, locale=locale),
            )
        )
    return MovementItem(
        when=when,
        what=description(movement, language=language, locale=locale),
        amount=amount,
        credit=movement.amount.minor > 0,
        balance_after=balance_after,
        receipt_title=(
            _t("portal_history_receipt", language, number=movement.receipt)
            if movement.receipt
            else _t("portal_history_details", language)
        ),
        receipt=tuple(receipt),
    )


def _allowances(given: Allowances, *, language: str, locale: str) -> list[Fact]:
    """The minutes, SMS and data a movement granted, and those it used."""
    values = (given.voice_seconds, given.sms, given.data_bytes)
    granted = quantities(locale=locale, **_named(*(max(v, 0) for v in values)))
    used = quantities(locale=locale, **_named(*(max(-v, 0) for v in values)))
    facts = []
    if granted:
        facts.append(Fact(_t("portal_history_granted", language), granted))
    if used:
        facts.append(Fact(_t("portal_history_used", language), used))
    return facts


def _named(voice_seconds: int, sms: int, data_bytes: int) -> dict[str, int]:
    return {"voice_seconds": voice_seconds, "sms": sms, "data_bytes": data_bytes}


_CHANNELS: Final = frozenset(
    {"cli", "sms", "ussd", "web", "app", "store", "reseller", "voucher", "auto", "staff", "network"}
)


def _channel(channel: str, language: str) -> str:
    """How a movement reached Saldo, in words; a payment processor's name as it is."""
    return _t(f"portal_history_channel_{channel}", language) if channel in _CHANNELS else channel


def _signed(money: Money, *, locale: str) -> str:
    written = format_money(money, locale=locale)
    return "+" + written if money.minor > 0 else written


def _month_name(first_day: date, locale: str) -> str:
    """A month as people of ``locale`` name it: "noviembre de 2026", "November 2026",
    "2026年11月"."""
    return str(format_skeleton("yMMMM", first_day, locale=locale))


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- the plan and the advice ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanPage:
    heading: Heading
    plan: tuple[Fact, ...]  # empty: no plan bought
    verdict: str
    summary: str  # the advice with its arithmetic in a sentence
    arithmetic: tuple[Fact, ...]


def plan_page(view: PlanAdviceView, *, language: str) -> PlanPage:
    """The current plan (what it includes and costs) and the advice from the last 30 and 90
    days, with each step of its arithmetic."""
    shown, advice = view.shown, view.advice
    locale = _locale(shown, language)
    names = {**view.names, **_names(advice.best, language), **_names(advice.current, language)}
    worded = replace(view, shown=replace(shown, locale=locale), names=names)
    plan: list[Fact] = []
    current = view.current
    if current is not None:
        months = (
            "portal_history_months_one" if current.months == 1 else "portal_history_months_other"
        )
        plan = [
            Fact(_t("portal_history_plan_name", language), names.get(current.code, current.name)),
            Fact(
                _t("portal_history_price", language),
                _t(
                    months,
                    language,
                    price=format_money(current.price, locale=locale),
                    months=number_text(current.months, locale=locale),
                ),
            ),
            Fact(
                _t("portal_history_includes", language), _use(current.allowances, language, locale)
            ),
        ]
        if current.addons:
            plan.append(Fact(_t("portal_history_addons", language), ", ".join(current.addons)))
        if current.bought_at is not None:
            plan.append(
                Fact(
                    _t("portal_history_bought", language),
                    date_text(
                        local_date(current.bought_at, timezone=shown.timezone), locale=locale
                    ),
                )
            )
    arithmetic = [
        Fact(_t("portal_history_used_30", language), _use(advice.use_30, language, locale)),
        Fact(_t("portal_history_used_90", language), _use(advice.use_90, language, locale)),
        Fact(_t("portal_history_use_to_cover", language), _use(advice.use, language, locale)),
        Fact(_t("portal_history_paid", language), format_money(advice.paid, locale=locale)),
    ]
    if advice.best is not None:
        arithmetic.append(
            Fact(
                _t("portal_history_cheapest", language, option=option_name(advice.best, names)),
                _t(
                    "portal_history_option_cost",
                    language,
                    cost=format_money(advice.best.monthly, locale=locale),
                    allowances=_use(advice.best.allowances, language, locale),
                ),
            )
        )
    if advice.verdict is Verdict.SWITCH and advice.saving is not None:
        arithmetic.append(
            Fact(_t("portal_history_saving", language), format_money(advice.saving, locale=locale))
        )
    return PlanPage(
        heading=heading(view.msisdn, shown, page="plan", language=language),
        plan=tuple(plan),
        verdict=_verdict(view, language=language, locale=locale),
        summary=advice_text(worded, language=language),
        arithmetic=tuple(arithmetic),
    )


def _verdict(view: PlanAdviceView, *, language: str, locale: str) -> str:
    advice = view.advice
    if advice.verdict is Verdict.SWITCH and advice.saving is not None:
        return _t("portal_history_verdict_switch", language,
                  saving=format_money(advice.saving, locale=locale))  # fmt: skip
    if advice.verdict is Verdict.NONE_COVERS:
        return _t("portal_history_verdict_none", language)
    if view.current is not None and advice.best is advice.current:
        return _t("portal_history_verdict_fits", language)
    return _t("portal_history_verdict_keep", language)


def _names(option: Option | None, language: str) -> dict[str, str]:
    """The names of an option's plan and add-on in the page's language."""
    if option is None:
        return {}
    names = {option.plan.code: option.plan.name_in(language)}
    if option.addon is not None:
        names[option.addon.code] = option.addon.name_in(language)
    return names


def _use(use: MonthlyUse | Allowances, language: str, locale: str) -> str:
    written = quantities(
        locale=locale, voice_seconds=use.voice_seconds, sms=use.sms, data_bytes=use.data_bytes
    )
    return written or _t("portal_history_nothing", language)


# -- words ------------------------------------------------------------------------------------


def _locale(shown: Presentation, language: str) -> str:
    """The locale of ``language`` in the line's country (the country of its own locale)."""
    country = shown.locale.partition("_")[2] or None
    return locale_for(language, country=country)


def _t(key: str, language: str, **values: str) -> str:
    return _translate(key, language=language, **values)


def statement_href(msisdn: str, month: str, extension: str) -> str:
    return f"{line_href(msisdn)}/statements/{quote(month, safe='')}.{extension}"
