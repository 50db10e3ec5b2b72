"""A line's use per day, render-ready: the daily use over the last days (a chart's data and
its table), for the operator's staff by number and, in ``saldo.services.access.line_history``,
for a subscriber's token. Days are the operator's local ones; money in minor units of the
line's currency."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from saldo.domain.errors import SaldoError
from saldo.domain.money import Money
from saldo.domain.numbering import lookup_msisdn
from saldo.domain.operator import Operator, Presentation
from saldo.domain.periods import local_date, require_aware
from saldo.services.lines import line_record
from saldo.services.ports import UnitOfWork
from saldo.services.ports.usage import DailyUsage

# Days of daily use a view may cover.
MAX_DAYS = 366


class InvalidDays(SaldoError, ValueError):
    """Daily use is shown for 1 to MAX_DAYS days."""

    code = "invalid_days"


@dataclass(frozen=True, slots=True)
class DayUse:
    day: date
    voice_seconds: int
    sms: int
    data_bytes: int
    money: Money


@dataclass(frozen=True, slots=True)
class DailyUseView:
    """Use per local day over ``days`` days ending today, oldest first, every day present
    (zero when nothing was used); ``total`` sums them, ``peak`` is each series' largest day
    (a chart's scale)."""

    msisdn: str
    days: tuple[DayUse, ...]
    total: DayUse
    peak: DayUse
    shown: Presentation


def line_daily_use(uow: UnitOfWork, *, msisdn: str, days: int, now: datetime) -> DailyUseView:
    """The line's use per day over the last ``days`` days (1 to 366, today included). Raises
    InvalidMsisdn, LineNotFound, InvalidDays."""
    now = require_aware(now)
    with uow.reading():
        record = line_record(uow, number=lookup_msisdn(msisdn))
        return daily_use_of(uow, line_id=record.line.id, operator=record.operator,
                            msisdn=record.line.msisdn, language=record.line.language,
                            days=days, now=now)  # fmt: skip


def daily_use_of(
    uow: UnitOfWork,
    *,
    line_id: int,
    operator: Operator,
    msisdn: str,
    language: str,
    days: int,
    now: datetime,
) -> DailyUseView:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidDays(f"days is 1 to {MAX_DAYS}")
    today = local_date(now, timezone=operator.timezone)
    first = today - timedelta(days=days - 1)
    by_day = _by_day(uow.usage.daily(line_id=line_id, since=first), currency=operator.currency)
    currency = operator.currency
    series = tuple(
        by_day.get(first + timedelta(days=n), _no_use(first + timedelta(days=n), currency))
        for n in range(days)
    )
    return DailyUseView(
        msisdn=msisdn,
        days=series,
        total=DayUse(
            day=today,
            voice_seconds=sum(d.voice_seconds for d in series),
            sms=sum(d.sms for d in series),
            data_bytes=sum(d.data_bytes for d in series),
            money=Money(sum(d.money.minor for d in series), currency),
        ),
        peak=DayUse(
            day=today,
            voice_seconds=max(d.voice_seconds for d in series),
            sms=max(d.sms for d in series),
            data_bytes=max(d.data_bytes for d in series),
            money=Money(max(d.money.minor for d in series), currency),
        ),
        shown=operator.presentation_for(language),
    )


def _by_day(rows: Iterable[DailyUsage], *, currency: str) -> dict[date, DayUse]:
    days: dict[date, DayUse] = {}
    for row in rows:
        day = days.get(row.day, _no_use(row.day, currency))
        days[row.day] = DayUse(
            day=row.day,
            voice_seconds=day.voice_seconds + (row.used if row.service == "voice" else 0),
            sms=day.sms + (row.used if row.service == "sms" else 0),
            data_bytes=day.data_bytes + (row.used if row.service == "data" else 0),
            money=Money(day.money.minor + row.money, currency),
        )
    return days


def _no_use(day: date, currency: str) -> DayUse:
    return DayUse(day=day, voice_seconds=0, sms=0, data_bytes=0, money=Money(0, currency))
