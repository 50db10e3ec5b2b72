"""Which plan would have served a line best: from its own use a month (minutes, SMS, data)
over the last 30 and 90 days and the operator's plans and add-ons with their prices, the one
that covers that use for the least money a month.

The rule (docs/portal.md, "Plan advice"):

- the use a month to cover is, for each service, the larger of the last 30 days' use and a
  third of the last 90 days' (rounded up): a quiet quarter does not hide a busy month, nor a
  quiet month a busy quarter;
- what the line paid a month is, likewise, the larger of the last 30 days' spending and a
  third of the last 90 days' (plans, add-ons, usage charged to its money);
- the options are every plan alone and every plan with one add-on. A plan of several months
  costs its price over its months a month and gives its allowances over its months a month
  (rounded down); an add-on lasting fewer days than a month is bought as many times as a
  30-day month needs (its price and allowances that many times);
- an option covers the use when it gives at least the use of each service a month;
- the advice is the cheapest option that covers the use (ties: a plan alone before a plan
  with an add-on, the line's current plan first, then the shorter plan, then by code).
  ``FITS`` when that is the line's current plan or costs no less than what the line paid;
  ``SWITCH`` with what it would have saved otherwise; ``NONE_COVERS`` when no option covers
  the use.

Costs are compared exactly (as fractions of a minor unit); the amounts shown are rounded
half up to the currency's minor unit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from math import ceil

from saldo.domain.money import Money
from saldo.domain.operator import AddOn, Allowances, Plan

# Days in the month an add-on is bought for, and the two windows of use.
MONTH_DAYS = 30
SHORT_WINDOW_DAYS = 30
LONG_WINDOW_DAYS = 90


class Verdict(enum.StrEnum):
    SWITCH = "switch"  # another option covers the use for less
    FITS = "fits"  # the current plan (or what the line pays) is already the cheapest
    NONE_COVERS = "none_covers"  # no plan, with or without an add-on, covers the use


@dataclass(frozen=True, slots=True)
class MonthlyUse:
    """Use (or allowances) a month: seconds of calls, SMS, bytes of data."""

    voice_seconds: int = 0
    sms: int = 0
    data_bytes: int = 0

    def covers(self, use: MonthlyUse) -> bool:
        return (
            self.voice_seconds >= use.voice_seconds
            and self.sms >= use.sms
            and self.data_bytes >= use.data_bytes
        )


@dataclass(frozen=True, slots=True)
class Option:
    """A plan, with an add-on bought ``addon_times`` a month or none, as a month's cost and
    allowances. ``cost`` is exact (minor units); ``monthly`` is it rounded for people."""

    plan: Plan
    addon: AddOn | None
    addon_times: int
    cost: Fraction
    monthly: Money
    allowances: MonthlyUse

    @property
    def code(self) -> str:
        return self.plan.code if self.addon is None else f"{self.plan.code}+{self.addon.code}"


@dataclass(frozen=True, slots=True)
class Advice:
    """The advice with its arithmetic: the use to cover (``use``, from ``use_30`` and
    ``use_90`` a month), what the line paid a month (``paid``), the cheapest option that
    covers the use (``best``, None when none does), the line's current plan as an option
    (``current``, None without one) and, for ``SWITCH``, ``saving`` a month."""

    verdict: Verdict
    use: MonthlyUse
    use_30: MonthlyUse
    use_90: MonthlyUse
    paid: Money
    best: Option | None
    current: Option | None
    saving: Money | None


def monthly_use(*, used_30: MonthlyUse, used_90: MonthlyUse) -> MonthlyUse:
    """The use a month to cover: for each service the larger of the last 30 days' and a third
    of the last 90 days' (rounded up)."""
    months = LONG_WINDOW_DAYS // SHORT_WINDOW_DAYS
    return MonthlyUse(
        voice_seconds=max(used_30.voice_seconds, ceil(used_90.voice_seconds / months)),
        sms=max(used_30.sms, ceil(used_90.sms / months)),
        data_bytes=max(used_30.data_bytes, ceil(used_90.data_bytes / months)),
    )


def options(*, plans: tuple[Plan, ...], addons: tuple[AddOn, ...]) -> list[Option]:
    """Every plan alone and every plan with one add-on, as a month's cost and allowances."""
    found = []
    for plan in plans:
        found.append(_option(plan, None))
        found += [
            _option(plan, addon) for addon in addons if addon.price.currency == plan.price.currency
        ]
    return found


def recommend(
    *,
    used_30: MonthlyUse,
    used_90: MonthlyUse,
    paid_30: Money,
    paid_90: Money,
    plans: tuple[Plan, ...],
    addons: tuple[AddOn, ...],
    current_plan: str | None,
) -> Advice:
    """The advice for a line that used ``used_30`` and ``used_90`` in the last 30 and 90
    days and paid ``paid_30`` and ``paid_90`` in them, under its operator's ``plans`` and
    ``addons``; ``current_plan`` is the code of the last plan it bought (None: none)."""
    use = monthly_use(used_30=used_30, used_90=used_90)
    paid = max(paid_30, _rounded(Fraction(paid_90.minor, 3), paid_90.currency))
    candidates = options(plans=plans, addons=addons)
    current = next(
        (
            option
            for option in candidates
            if option.addon is None and option.plan.code == current_plan
        ),
        None,
    )
    covering = [option for option in candidates if option.allowances.covers(use)]
    if not covering:
        return Advice(Verdict.NONE_COVERS, use, used_30, used_90, paid, None, current, None)
    best = min(covering, key=lambda option: _order(option, current_plan=current_plan))
    if best is current:
        return Advice(Verdict.FITS, use, used_30, used_90, paid, current, current, None)
    if best.cost >= paid.minor:
        return Advice(Verdict.FITS, use, used_30, used_90, paid, best, current, None)
    saving = _rounded(paid.minor - best.cost, paid.currency)
    return Advice(Verdict.SWITCH, use, used_30, used_90, paid, best, current, saving)


def _option(plan: Plan, addon: AddOn | None) -> Option:
    months = max(plan.months, 1)
    times = 0 if addon is None else ceil(MONTH_DAYS / max(addon.validity_days, 1))
    cost = Fraction(plan.price.minor, months)
    extra = Allowances()
    if addon is not None:
        cost += addon.price.minor * times
        extra = addon.allowances
    given = plan.allowances
    allowances = MonthlyUse(
        voice_seconds=given.voice_seconds // months + extra.voice_seconds * times,
        sms=given.sms // months + extra.sms * times,
        data_bytes=given.data_bytes // months + extra.data_bytes * times,
    )
    return Option(
        plan=plan,
        addon=addon,
        addon_times=times,
        cost=cost,
        monthly=_rounded(cost, plan.price.currency),
        allowances=allowances,
    )


def _order(option: Option, *, current_plan: str | None) -> tuple[Fraction, bool, bool, int, str]:
    return (
        option.cost,
        option.addon is not None,
        option.plan.code != current_plan,
        option.plan.months,
        option.code,
    )


def _rounded(minor: Fraction | int, currency: str) -> Money:
    value = Fraction(minor)
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return Money(int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)), currency)
