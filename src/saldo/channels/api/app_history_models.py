"""The JSON shapes of a line's history in the app API (``app_history.py``): daily use, the
movements of a month, the plan and its advice. Money as everywhere in the API (``{"amount",
"currency", "minor"}``), instants in ISO 8601 UTC, days as the operator's local dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from saldo.channels.api.app_models import MoneyOut, money
from saldo.channels.statements import movement_record
from saldo.channels.statements.advice import advice_text, option_name
from saldo.domain.operator import Allowances
from saldo.domain.recommendation import MonthlyUse, Option
from saldo.services.daily_use import DailyUseView, DayUse
from saldo.services.history import MovementsView
from saldo.services.plan_advice import PlanAdviceView

Kind = Literal["topup", "voucher", "plan", "usage", "adjustment", "refund", "forfeit", "other"]


class QuantitiesOut(BaseModel):
    voice_seconds: int
    sms: int
    data_bytes: int


class DayOut(BaseModel):
    day: date = Field(description="The operator's local date")
    voice_seconds: int
    sms: int
    data_bytes: int
    money: MoneyOut = Field(description="Charged to the line's money that day")


class UsageOut(BaseModel):
    msisdn: str
    timezone: str
    locale: str
    days: list[DayOut] = Field(description="Every day, oldest first, today last")
    total: DayOut = Field(description="The sums (``day`` is today)")
    peak: DayOut = Field(description="Each series' largest day, a chart's scale")


class MovementOut(BaseModel):
    at: datetime
    local_time: str = Field(description="The moment in the operator's zone, with its offset")
    kind: Kind
    item: str | None = Field(
        description="The plan and add-ons, the voucher serial, voice/sms/data, a reason"
    )
    channel: str | None
    amount: MoneyOut = Field(description="What it was worth to the line, signed")
    balance_change: MoneyOut = Field(description="What it did to the main balance")
    balance_after: MoneyOut | None
    bonus_change: MoneyOut
    allowances: QuantitiesOut = Field(description="Granted (positive) or used (negative)")
    receipt: str | None


class TotalsOut(BaseModel):
    credits: MoneyOut
    debits: MoneyOut
    net: MoneyOut


class MovementsOut(BaseModel):
    msisdn: str
    month: str = Field(description="YYYY-MM, the operator's local month")
    starts_at: datetime
    ends_at: datetime = Field(description="Exclusive")
    timezone: str
    movements: list[MovementOut] = Field(description="Oldest first")
    totals: TotalsOut


class PlanOut(BaseModel):
    code: str
    name: str
    months: int
    price: MoneyOut
    allowances: QuantitiesOut = Field(description="For the plan's whole period")
    addons: list[str]
    bought_at: datetime | None


class OptionOut(BaseModel):
    code: str
    name: str
    plan: str
    addon: str | None
    addon_times: int = Field(description="How many times a month the add-on is bought")
    monthly: MoneyOut = Field(description="What it costs a month")
    allowances: QuantitiesOut = Field(description="What it gives a month")


class AdviceOut(BaseModel):
    verdict: Literal["switch", "fits", "none_covers"]
    summary: str = Field(description="The advice and its arithmetic in the line's language")
    use: QuantitiesOut = Field(description="The use a month it covers")
    used_30: QuantitiesOut = Field(description="Used in the last 30 days")
    used_90: QuantitiesOut = Field(description="Used in the last 90 days")
    paid: MoneyOut = Field(description="What the line paid a month")
    best: OptionOut | None
    saving: MoneyOut | None = Field(description="A month, with verdict switch")


class PlanAdviceOut(BaseModel):
    msisdn: str
    current: PlanOut | None = Field(description="The last plan the line bought")
    advice: AdviceOut


def usage(view: DailyUseView) -> dict[str, Any]:
    return {
        "msisdn": view.msisdn,
        "timezone": view.shown.timezone,
        "locale": view.shown.locale,
        "days": [_day(day) for day in view.days],
        "total": _day(view.total),
        "peak": _day(view.peak),
    }


def movements(view: MovementsView) -> dict[str, Any]:
    timezone = view.shown.timezone
    listed = []
    for movement in view.movements:
        record = movement_record(movement, timezone=timezone)
        listed.append(
            {
                "at": movement.at.isoformat(),
                "local_time": record["date"],
                "kind": movement.kind.value,
                "item": movement.item,
                "channel": movement.channel,
                "amount": money(movement.amount),
                "balance_change": money(movement.balance_change),
                "balance_after": None
                if movement.balance_after is None
                else money(movement.balance_after),
                "bonus_change": money(movement.bonus),
                "allowances": _quantities(movement.allowances),
                "receipt": movement.receipt,
            }
        )
    totals = view.totals
    return {
        "msisdn": view.msisdn,
        "month": view.month,
        "starts_at": view.starts_at.isoformat(),
        "ends_at": view.ends_at.isoformat(),
        "timezone": timezone,
        "movements": listed,
        "totals": {
            "credits": money(totals.credits),
            "debits": money(totals.debits),
            "net": money(totals.net),
        },
    }


def plan_advice(view: PlanAdviceView) -> dict[str, Any]:
    advice, current = view.advice, view.current
    language = view.shown.locale.split("_")[0]
    return {
        "msisdn": view.msisdn,
        "current": None
        if current is None
        else {
            "code": current.code,
            "name": current.name,
            "months": current.months,
            "price": money(current.price),
            "allowances": _quantities(current.allowances),
            "addons": list(current.addons),
            "bought_at": None if current.bought_at is None else current.bought_at.isoformat(),
        },
        "advice": {
            "verdict": advice.verdict.value,
            "summary": advice_text(view, language=language),
            "use": _quantities(advice.use),
            "used_30": _quantities(advice.use_30),
            "used_90": _quantities(advice.use_90),
            "paid": money(advice.paid),
            "best": None if advice.best is None else _option(advice.best, view.names),
            "saving": None if advice.saving is None else money(advice.saving),
        },
    }


def _option(option: Option, names: dict[str, str]) -> dict[str, Any]:
    return {
        "code": option.code,
        "name": option_name(option, names),
        "plan": option.plan.code,
        "addon": None if option.addon is None else option.addon.code,
        "addon_times": option.addon_times,
        "monthly": money(option.monthly),
        "allowances": _quantities(option.allowances),
    }


def _day(day: DayUse) -> dict[str, Any]:
    return {
        "day": day.day.isoformat(),
        "voice_seconds": day.voice_seconds,
        "sms": day.sms,
        "data_bytes": day.data_bytes,
        "money": money(day.money),
    }


def _quantities(value: Allowances | MonthlyUse) -> dict[str, int]:
    return {
        "voice_seconds": value.voice_seconds,
        "sms": value.sms,
        "data_bytes": value.data_bytes,
    }
