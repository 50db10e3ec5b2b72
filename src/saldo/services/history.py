"""A line's history, render-ready: its movements in a month, its daily use over the last days,
its statement for a month, and the advice on its plan. Each use case exists for the operator's
staff (by number) and, in ``saldo.services.access.line_history``, for a subscriber's token.

Times are kept in UTC and carried with the operator's time zone (``shown``); months and days
are the operator's local ones. Money is in minor units of the line's currency.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from saldo.domain.buckets import BucketKind
from saldo.domain.errors import SaldoError
from saldo.domain.money import Money
from saldo.domain.numbering import lookup_msisdn, mask_msisdn
from saldo.domain.operator import Allowances, Operator, Presentation
from saldo.domain.periods import local_date, require_aware, start_of_local_day
from saldo.domain.recommendation import Advice, MonthlyUse, recommend
from saldo.domain.statement import (
    Month,
    MovementKind,
    current_month,
    movement_kind,
    parse_month,
)
from saldo.domain.topup import receipt_number
from saldo.services.lines import line_record
from saldo.services.ports import UnitOfWork
from saldo.services.ports.history import LedgerMovement
from saldo.services.ports.usage import DailyUsage

# Days of daily use a view may cover.
MAX_DAYS = 366


class InvalidDays(SaldoError, ValueError):
    """Daily use is shown for 1 to MAX_DAYS days."""

    code = "invalid_days"


@dataclass(frozen=True, slots=True)
class Movement:
    """One movement of a line. ``amount`` is what the event was worth to the line, positive
    when money came to it (a top-up, a refund), negative when it went out (a plan, usage
    charged to money, a debit); ``balance_change`` is what it did to the main balance (a plan
    paid by card changes nothing there), ``balance_after`` that balance after it where the
    ledger kept it. ``item`` names what it was: the plan (in the line's language) and its
    add-ons, the voucher's serial, the service used (voice, sms, data), an adjustment's
    reason. ``allowances`` are the minutes, SMS and data it granted (positive) or used
    (negative); ``bonus`` the change of the bonus money. ``receipt``: the top-up's or the
    order's receipt number, where there is one."""

    at: datetime
    kind: MovementKind
    item: str | None
    channel: str | None
    amount: Money
    balance_change: Money
    balance_after: Money | None
    bonus: Money
    allowances: Allowances
    receipt: str | None


@dataclass(frozen=True, slots=True)
class Totals:
    """Money in and out of the main balance over the movements, and the net change."""

    credits: Money
    debits: Money
    net: Money


@dataclass(frozen=True, slots=True)
class MovementsView:
    msisdn: str
    month: str  # YYYY-MM
    starts_at: datetime
    ends_at: datetime  # exclusive
    movements: tuple[Movement, ...]
    totals: Totals
    shown: Presentation


@dataclass(frozen=True, slots=True)
class Statement:
    """A month's statement: the header (operator, the line's number masked, the month, the
    balance at its start and at its end), the movements and their totals, in the line's
    language and locale (``shown``)."""

    operator_name: str
    hotline: str
    msisdn_masked: str
    language: str
    month: str  # YYYY-MM
    first_day: date
    last_day: date
    opening: Money
    closing: Money
    movements: tuple[Movement, ...]
    totals: Totals
    made_at: datetime
    shown: Presentation


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


@dataclass(frozen=True, slots=True)
class PlanDetails:
    code: str
    name: str
    months: int
    price: Money
    allowances: Allowances
    addons: tuple[str, ...]  # names, in the line's language
    bought_at: datetime | None


@dataclass(frozen=True, slots=True)
class PlanAdviceView:
    """The line's current plan (the last one it bought; None without one), what it includes
    and costs, and the advice (``saldo.domain.recommendation``) with the names of the plans
    and add-ons it mentions in the line's language (``names``: code → name)."""

    msisdn: str
    current: PlanDetails | None
    advice: Advice
    names: dict[str, str]
    shown: Presentation


def line_movements(
    uow: UnitOfWork, *, msisdn: str, month: str | None, now: datetime
) -> MovementsView:
    """The line's movements in ``month`` (YYYY-MM, the operator's local month; None: this
    month). Raises InvalidMsisdn, LineNotFound, InvalidMonth."""
    now = require_aware(now)
    with uow.reading():
        record = line_record(uow, number=lookup_msisdn(msisdn))
        return movements_of(uow, line_id=record.line.id, operator=record.operator,
                            msisdn=record.line.msisdn, language=record.line.language,
                            month=month, now=now)  # fmt: skip


def line_statement(uow: UnitOfWork, *, msisdn: str, month: str | None, now: datetime) -> Statement:
    """The line's statement for ``month`` (None: this month). Raises InvalidMsisdn,
    LineNotFound, InvalidMonth."""
    now = require_aware(now)
    with uow.reading():
        record = line_record(uow, number=lookup_msisdn(msisdn))
        return statement_of(uow, line_id=record.line.id, operator=record.operator,
                            msisdn=record.line.msisdn, language=record.line.language,
                            month=month, now=now)  # fmt: skip


def line_daily_use(uow: UnitOfWork, *, msisdn: str, days: int, now: datetime) -> DailyUseView:
    """The line's use per day over the last ``days`` days (1 to 366, today included). Raises
    InvalidMsisdn, LineNotFound, InvalidDays."""
    now = require_aware(now)
    with uow.reading():
        record = line_record(uow, number=lookup_msisdn(msisdn))
        return daily_use_of(uow, line_id=record.line.id, operator=record.operator,
                            msisdn=record.line.msisdn, language=record.line.language,
                            days=days, now=now)  # fmt: skip


def plan_advice(uow: UnitOfWork, *, msisdn: str, now: datetime) -> PlanAdviceView:
    """The line's current plan and the advice from its last 30 and 90 days. Raises
    InvalidMsisdn, LineNotFound."""
    now = require_aware(now)
    with uow.reading():
        record = line_record(uow, number=lookup_msisdn(msisdn))
        return advice_of(uow, line_id=record.line.id, operator=record.operator,
                         msisdn=record.line.msisdn, language=record.line.language,
                         now=now)  # fmt: skip


# -- inside an open unit of work, for a line already found ----------------------------------


def movements_of(
    uow: UnitOfWork,
    *,
    line_id: int,
    operator: Operator,
    msisdn: str,
    language: str,
    month: str | None,
    now: datetime,
) -> MovementsView:
    asked = _month(month, operator=operator, now=now)
    period = asked.period(timezone=operator.timezone)
    found = uow.history.movements(line_id=line_id, since=period.starts_at, until=period.ends_at)
    movements = tuple(_movements(found, operator=operator, language=language))
    return MovementsView(
        msisdn=msisdn,
        month=asked.label,
        starts_at=period.starts_at,
        ends_at=period.ends_at,
        movements=movements,
        totals=_totals(movements, currency=operator.currency),
        shown=operator.presentation_for(language),
    )


def statement_of(
    uow: UnitOfWork,
    *,
    line_id: int,
    operator: Operator,
    msisdn: str,
    language: str,
    month: str | None,
    now: datetime,
) -> Statement:
    view = movements_of(uow, line_id=line_id, operator=operator, msisdn=msisdn,
                        language=language, month=month, now=now)  # fmt: skip
    history, currency = uow.history, operator.currency
    opening = history.main_balance_at(line_id=line_id, at=view.starts_at)
    closing = history.main_balance_at(line_id=line_id, at=view.ends_at)
    asked = Month(date.fromisoformat(view.month + "-01"))
    return Statement(
        operator_name=operator.name,
        hotline=operator.hotline.number,
        msisdn_masked=mask_msisdn(msisdn),
        language=language,
        month=view.month,
        first_day=asked.first_day,
        last_day=asked.last_day,
        opening=Money(opening, currency),
        closing=Money(closing, currency),
        movements=usage_by_day(view.movements, timezone=operator.timezone),
        totals=view.totals,
        made_at=now,
        shown=view.shown,
    )


def usage_by_day(movements: Sequence[Movement], *, timezone: str) -> tuple[Movement, ...]:
    """The movements with each local day's usage of one service summed into one (a busy
    line charges hundreds of records a month: a statement lists a line a day for each). The
    sum stands at the day's last use of that service, with the balance after it."""
    zone = ZoneInfo(timezone)
    grouped: dict[tuple[date, str | None], Movement] = {}
    for movement in movements:
        if movement.kind is not MovementKind.USAGE:
            continue
        key = (movement.at.astimezone(zone).date(), movement.item)
        earlier = grouped.get(key)
        grouped[key] = movement if earlier is None else _summed(earlier, movement)
    kept = [m for m in movements if m.kind is not MovementKind.USAGE]
    return tuple(sorted(kept + list(grouped.values()), key=lambda m: m.at))


def _summed(earlier: Movement, later: Movement) -> Movement:
    return replace(
        later,
        amount=earlier.amount + later.amount,
        balance_change=earlier.balance_change + later.balance_change,
        balance_after=later.balance_after or earlier.balance_after,
        bonus=earlier.bonus + later.bonus,
        allowances=Allowances(
            voice_seconds=earlier.allowances.voice_seconds + later.allowances.voice_seconds,
            sms=earlier.allowances.sms + later.allowances.sms,
            data_bytes=earlier.allowances.data_bytes + later.allowances.data_bytes,
        ),
    )


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


def advice_of(
    uow: UnitOfWork,
    *,
    line_id: int,
    operator: Operator,
    msisdn: str,
    language: str,
    now: datetime,
) -> PlanAdviceView:
    currency = operator.currency
    today = local_date(now, timezone=operator.timezone)
    since_30 = today - timedelta(days=29)
    since_90 = today - timedelta(days=89)
    daily = uow.usage.daily(line_id=line_id, since=since_90)
    recent = [row for row in daily if row.day >= since_30]
    tomorrow = start_of_local_day(today + timedelta(days=1), timezone=operator.timezone)
    spent_30, spent_90 = (
        uow.history.spent_on_plans(
            line_id=line_id,
            since=start_of_local_day(since, timezone=operator.timezone),
            until=tomorrow,
        )
        for since in (since_30, since_90)
    )
    last = uow.history.last_plan(line_id=line_id, at=now)
    advice = recommend(
        used_30=_use(recent),
        used_90=_use(daily),
        paid_30=Money(spent_30 + sum(row.money for row in recent), currency),
        paid_90=Money(spent_90 + sum(row.money for row in daily), currency),
        plans=operator.plans,
        addons=operator.addons,
        current_plan=None if last is None else last.plan_code,
    )
    plans = {plan.code: plan for plan in operator.plans}
    addons = {addon.code: addon for addon in operator.addons}
    names = {code: plan.name_in(language) for code, plan in plans.items()}
    names.update({code: addon.name_in(language) for code, addon in addons.items()})
    current = None
    if last is not None:
        plan = plans.get(last.plan_code)
        current = PlanDetails(
            code=last.plan_code,
            name=names.get(last.plan_code, last.plan_code),
            months=last.months,
            price=Money(last.price, last.currency),
            allowances=plan.allowances if plan is not None else Allowances(),
            addons=tuple(names.get(code, code) for code in last.addon_codes),
            bought_at=last.bought_at,
        )
    return PlanAdviceView(
        msisdn=msisdn,
        current=current,
        advice=advice,
        names=names,
        shown=operator.presentation_for(language),
    )


def month_is_closed(month: str | None, *, operator: Operator, now: datetime) -> bool:
    """True when ``month`` (YYYY-MM; None: this month) ended before ``now`` in the operator's
    time zone: whatever a subscriber does now is written in this month, never in a closed
    one, so a closed month's movements and statement may be read from a replica that lags
    (docs/scaling.md). Raises InvalidMonth, as reading the month would."""
    asked = _month(month, operator=operator, now=now)
    return asked.first_day < current_month(now, timezone=operator.timezone).first_day


def _month(month: str | None, *, operator: Operator, now: datetime) -> Month:
    if month is None:
        return current_month(now, timezone=operator.timezone)
    return parse_month(month, now=now, timezone=operator.timezone)


def _movements(
    found: Iterable[LedgerMovement], *, operator: Operator, language: str
) -> Iterable[Movement]:
    currency = operator.currency
    plans = {plan.code: plan.name_in(language) for plan in operator.plans}
    addons = {addon.code: addon.name_in(language) for addon in operator.addons}
    for movement in found:
        detail = movement.detail
        main = [c for c in movement.changes if c.kind == BucketKind.MAIN]
        change = sum(c.amount for c in main)
        after = next((c.balance_after for c in reversed(main) if c.balance_after is not None), None)
        bonus = sum(c.amount for c in movement.changes if c.kind == BucketKind.BONUS)
        kind = movement_kind(movement.event_type, voucher=detail.code is not None)
        item: str | None = detail.code
        receipt = None
        if kind is MovementKind.PLAN and detail.code is not None:
            names = [plans.get(detail.code, detail.code)]
            names += [addons.get(code, code) for code in (detail.note or "").split(",") if code]
            item = " + ".join(names)
            receipt = detail.receipt_number
        elif kind in (MovementKind.TOPUP, MovementKind.VOUCHER):
            receipt = receipt_number(movement.event_id, operator_slug=operator.slug)
        elif kind is MovementKind.REFUND and detail.code is not None:
            item = plans.get(detail.code, detail.code)
        elif kind is MovementKind.ADJUSTMENT:
            item = detail.note
        amount = _amount(kind, movement, change=change + bonus, currency=currency)
        yield Movement(
            at=movement.created_at,
            kind=kind,
            item=item,
            channel=detail.channel,
            amount=amount,
            balance_change=Money(change, currency),
            balance_after=None if after is None else Money(after, currency),
            bonus=Money(bonus, currency),
            allowances=Allowances(
                voice_seconds=_sum(movement, BucketKind.VOICE),
                sms=_sum(movement, BucketKind.SMS),
                data_bytes=_sum(movement, BucketKind.DATA),
            ),
            receipt=receipt,
        )


def _amount(kind: MovementKind, movement: LedgerMovement, *, change: int, currency: str) -> Money:
    """What the event was worth to the line: a plan its price (paid from the balance or not),
    a refund what was given back (in the currency paid), anything else its money change."""
    detail = movement.detail
    if kind is MovementKind.PLAN and detail.price is not None:
        return Money(-detail.price, detail.currency or currency)
    if kind is MovementKind.REFUND and detail.price is not None:
        return Money(detail.price, detail.currency or currency)
    return Money(change, currency)


def _sum(movement: LedgerMovement, kind: BucketKind) -> int:
    return sum(c.amount for c in movement.changes if c.kind == kind)


def _totals(movements: Sequence[Movement], *, currency: str) -> Totals:
    credits = sum(m.balance_change.minor for m in movements if m.balance_change.minor > 0)
    debits = sum(m.balance_change.minor for m in movements if m.balance_change.minor < 0)
    return Totals(
        credits=Money(credits, currency),
        debits=Money(debits, currency),
        net=Money(credits + debits, currency),
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


def _use(rows: Iterable[DailyUsage]) -> MonthlyUse:
    totals = {"voice": 0, "sms": 0, "data": 0}
    for row in rows:
        totals[row.service] = totals.get(row.service, 0) + row.used
    return MonthlyUse(voice_seconds=totals["voice"], sms=totals["sms"], data_bytes=totals["data"])
