"""A line's plan and the advice on it, render-ready: what the current plan includes and
costs, and from the line's own last 30 and 90 days of use the plan or add-on that would have
cost least (``saldo.domain.recommendation``), for the operator's staff by number and, in
``saldo.services.access.line_history``, for a subscriber's token."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from saldo.domain.money import Money
from saldo.domain.numbering import lookup_msisdn
from saldo.domain.operator import Allowances, Operator, Presentation
from saldo.domain.periods import local_date, require_aware, start_of_local_day
from saldo.domain.recommendation import Advice, MonthlyUse, recommend
from saldo.services.lines import line_record
from saldo.services.ports import UnitOfWork
from saldo.services.ports.usage import DailyUsage


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


def plan_advice(uow: UnitOfWork, *, msisdn: str, now: datetime) -> PlanAdviceView:
    """The line's current plan and the advice from its last 30 and 90 days. Raises
    InvalidMsisdn, LineNotFound."""
    now = require_aware(now)
    with uow.reading():
        record = line_record(uow, number=lookup_msisdn(msisdn))
        return advice_of(uow, line_id=record.line.id, operator=record.operator,
                         msisdn=record.line.msisdn, language=record.line.language,
                         now=now)  # fmt: skip


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


def _use(rows: Iterable[DailyUsage]) -> MonthlyUse:
    totals = {"voice": 0, "sms": 0, "data": 0}
    for row in rows:
        totals[row.service] = totals.get(row.service, 0) + row.used
    return MonthlyUse(voice_seconds=totals["voice"], sms=totals["sms"], data_bytes=totals["data"])
