"""A month's movements made into what the portal's movements page prints: each with its
date, what it was, its signed amount, the balance after it and its receipt, in the page's
language; the months before and after it, and the months a statement can be asked for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from babel.dates import format_skeleton

from saldo.channels.statements.view import description
from saldo.channels.web.views import line_href
from saldo.channels.web.views_history import Fact, Heading, Link, heading, page_locale, say
from saldo.domain.money import Money, format_money
from saldo.domain.operator import Allowances, Presentation
from saldo.domain.periods import add_months, local_date
from saldo.domain.statement import FIRST_YEAR
from saldo.i18n import local_moment, quantities
from saldo.services.history import Movement, MovementsView, usage_by_day

# The months a statement can be chosen from, this one included.
STATEMENT_MONTHS: Final = 24


@dataclass(frozen=True, slots=True)
class MovementItem:
    when: str
    what: str
    amount: str  # signed: "+$10.000,00", "-$9.000,00"
    credit: bool
    balance_after: str | None  # "balance after: $1.000,00"
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
    locale = page_locale(shown, language)
    first_day = date.fromisoformat(view.month + "-01")
    this_month = local_date(now, timezone=shown.timezone).replace(day=1)
    base = line_href(view.msisdn) + "/movements?month="

    def month_link(day: date, key: str) -> Link:
        return Link(base + f"{day:%Y-%m}", say(key, language, month=_month_name(day, locale)))

    before, after = add_months(first_day, -1), add_months(first_day, 1)
    movements = usage_by_day(view.movements, timezone=shown.timezone)
    month_name = _month_name(first_day, locale)
    chosen = [add_months(this_month, -n) for n in range(STATEMENT_MONTHS)]
    if first_day not in chosen:
        chosen.append(first_day)
    return MovementsPage(
        heading=heading(view.msisdn, shown, page="movements", language=language),
        title=say("portal_history_movements_title", language, month=month_name),
        previous=(
            month_link(before, "portal_history_previous") if before.year >= FIRST_YEAR else None
        ),
        next=month_link(after, "portal_history_next") if after <= this_month else None,
        items=tuple(
            _movement(m, shown=shown, language=language, locale=locale) for m in reversed(movements)
        ),
        empty=(
            None if movements else say("portal_history_no_movements", language, month=month_name)
        ),
        totals=(
            Fact(
                say("statement_credits", language), format_money(view.totals.credits, locale=locale)
            ),
            Fact(
                say("statement_debits", language), format_money(view.totals.debits, locale=locale)
            ),
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
        else say(
            "portal_history_balance_after",
            language,
            amount=format_money(movement.balance_after, locale=locale),
        )
    )
    receipt = (
        [Fact(say("portal_history_receipt_number", language), movement.receipt)]
        if movement.receipt
        else []
    )
    receipt.append(Fact(say("portal_history_when", language), when))
    if movement.channel:
        receipt.append(
            Fact(say("portal_history_channel", language), _channel(movement.channel, language))
        )
    receipt.append(Fact(say("statement_amount", language), amount))
    if movement.balance_change != movement.amount:
        receipt.append(
            Fact(
                say("portal_history_balance_change", language),
                _signed(movement.balance_change, locale=locale),
            )
        )
    if movement.bonus.minor:
        receipt.append(
            Fact(say("portal_bucket_bonus", language), _signed(movement.bonus, locale=locale))
        )
    receipt += _allowances(movement.allowances, language=language, locale=locale)
    if movement.balance_after is not None:
        receipt.append(
            Fact(
                say("portal_history_balance", language),
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
            say("portal_history_receipt", language, number=movement.receipt)
            if movement.receipt
            else say("portal_history_details", language)
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
        facts.append(Fact(say("portal_history_granted", language), granted))
    if used:
        facts.append(Fact(say("portal_history_used", language), used))
    return facts


def _named(voice_seconds: int, sms: int, data_bytes: int) -> dict[str, int]:
    return {"voice_seconds": voice_seconds, "sms": sms, "data_bytes": data_bytes}


_CHANNELS: Final = frozenset(
    {"cli", "sms", "ussd", "web", "app", "store", "reseller", "voucher", "auto", "staff", "network"}
)


def _channel(channel: str, language: str) -> str:
    """How a movement reached Saldo, in words; a payment processor's name as it is."""
    return say(f"portal_history_channel_{channel}", language) if channel in _CHANNELS else channel


def _signed(money: Money, *, locale: str) -> str:
    written = format_money(money, locale=locale)
    return "+" + written if money.minor > 0 else written


def _month_name(first_day: date, locale: str) -> str:
    """A month as people of ``locale`` name it: "noviembre de 2026", "November 2026",
    "2026年11月"."""
    return str(format_skeleton("yMMMM", first_day, locale=locale))


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
