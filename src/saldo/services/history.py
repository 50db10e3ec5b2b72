"""A line's history, render-ready: its movements in a month and its statement for a month
(its daily use is ``saldo.services.daily_use``, the advice on its plan
``saldo.services.plan_advice``). Each use case exists for the operator's staff (by number)
and, in ``saldo.services.access.line_history``, for a subscriber's token.

Times are kept in UTC and carried with the operator's time zone (``shown``); months and days
are the operator's local ones. Money is in minor units of the line's currency.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from saldo.domain.buckets import BucketKind
from saldo.domain.money import Money
from saldo.domain.numbering import lookup_msisdn, mask_msisdn
from saldo.domain.operator import Allowances, Operator, Presentation
from saldo.domain.periods import require_aware
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
