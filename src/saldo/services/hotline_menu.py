"""The hotline's menu actions that are the hotline's own (issue 15): the balance as the
operator's catalog says its hotline announces it, the plans a line can renew from its
balance, the line's language. Top-ups by voucher PIN and plan purchases are the use cases
every channel shares (``redeem_voucher``, ``buy_plan``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from saldo.domain.lifecycle import LineState
from saldo.domain.lines import check_language
from saldo.domain.money import Money
from saldo.domain.numbering import lookup_msisdn
from saldo.domain.periods import require_aware
from saldo.services.buy_plan import PlanQuote, price_plan
from saldo.services.inquire_balance import balance_view
from saldo.services.lines import line_record, live_line_with_buckets
from saldo.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Announced:
    """One thing the hotline says about a balance: ``what`` (money, bonus, minutes, data,
    sms, validity, recycling) and its value (``money``; ``count`` of seconds, bytes, SMS or
    days; ``day``, the last valid day in the operator's zone)."""

    what: str
    money: Money | None = None
    count: int = 0
    day: date | None = None


@dataclass(frozen=True, slots=True)
class HotlineBalance:
    """What the hotline announces, in the catalog's order. Money is always said; bonus,
    minutes, data and SMS only when the line has some; the days before the number is
    recycled whenever the line is in grace or suspended, whatever the catalog lists."""

    state: LineState
    announced: tuple[Announced, ...]


def hotline_balance(uow: UnitOfWork, *, msisdn: str, now: datetime) -> HotlineBalance:
    """The balance of the line as its operator's hotline announces it. Raises LineNotFound,
    LineRecycled."""
    now = require_aware(now)
    with uow.reading():
        found = live_line_with_buckets(uow, number=lookup_msisdn(msisdn), now=now)
    view = balance_view(found, now=now)
    counts = {
        "minutes": view.voice_seconds,
        "data": view.data_bytes,
        "sms": view.sms,
    }
    said: list[Announced] = []
    for what in found.operator.hotline.announces or ("money",):
        if what == "money":
            said.append(Announced("money", money=view.main))
        elif what == "bonus" and not view.bonus.is_zero():
            said.append(Announced("bonus", money=view.bonus))
        elif counts.get(what):
            said.append(Announced(what, count=counts[what]))
        elif what == "validity":
            last = view.valid_until - timedelta(microseconds=1)
            said.append(Announced("validity", day=last.astimezone(ZoneInfo(view.timezone)).date()))
    if view.state in (LineState.GRACE, LineState.SUSPENDED):
        said.append(Announced("recycling", count=view.days_until_recycling))
    return HotlineBalance(state=view.state, announced=tuple(said))


def hotline_plans(uow: UnitOfWork, *, msisdn: str, now: datetime) -> tuple[PlanQuote, ...]:
    """What each of the operator's plans would cost the line now from its balance, in the
    catalog's order (a menu digit each, from 1). Raises LineNotFound, LineRecycled."""
    now = require_aware(now)
    with uow.reading():
        found = live_line_with_buckets(uow, number=lookup_msisdn(msisdn), now=now)
        return tuple(
            price_plan(uow, found=found, plan=plan, now=now) for plan in found.operator.plans
        )


def set_line_language(uow: UnitOfWork, *, msisdn: str, language: str) -> str:
    """Speak ``language`` to the line from now on, on every channel; return it. Raises
    LineNotFound, UnsupportedLanguage (a language its operator does not offer)."""
    with uow:
        record = line_record(uow, number=lookup_msisdn(msisdn), for_update=True)
        chosen = check_language(language, offered=record.operator.languages)
        uow.lines.set_language(record.line.id, language=chosen)
        uow.commit()
    return chosen
