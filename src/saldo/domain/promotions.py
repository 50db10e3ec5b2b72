"""Promotions an operator's catalog offers where Saldo already sells: a bonus on top-ups, free
months on long plans, a discount on a line's first plan.

Rules (docs/operators.md, "Promotions"):

- a promotion applies only inside its window ``[starts_at, ends_at)``, when it has one;
- a top-up earns at most one bonus: the largest among the bonuses whose minimum it reaches;
- a plan purchase gets the promotion worth most to the subscriber, or every applicable one
  when the operator marks promotions as stackable. A discount is worth the money it takes
  off; free months are worth the plan's monthly price times the free months;
- every amount is rounded DOWN to minor units: a promotion never gives away more than its
  percent says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Final

from saldo.domain.money import Money

if TYPE_CHECKING:
    # operator.py holds an operator's promotions; plans are only named here.
    from saldo.domain.operator import Plan

# Bonuses, discounts and the value of free months never round up in the subscriber's favour.
PROMOTION_ROUNDING: Final = ROUND_DOWN

_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Promotion:
    code: str
    name: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def is_on_at(self, now: datetime) -> bool:
        """Whether ``now`` falls inside the window ``[starts_at, ends_at)``."""
        if self.starts_at is not None and now < self.starts_at:
            return False
        return self.ends_at is None or now < self.ends_at


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtraValidity(_Promotion):
    """ "Buy 6 months, get 1 free": a plan of ``min_months`` or more adds ``free_months``."""

    min_months: int
    free_months: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TopUpBonus(_Promotion):
    """ "Top up at least X, get Y % as bonus credit", the bonus expiring on its own date."""

    min_amount: Money
    percent: Decimal
    bonus_validity_days: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FirstOrderDiscount(_Promotion):
    """A line's first plan purchase costs ``percent`` less."""

    percent: Decimal


Promotion = ExtraValidity | TopUpBonus | FirstOrderDiscount


@dataclass(frozen=True, slots=True)
class AppliedPromotion:
    """The promotions applied to one plan purchase and what they give."""

    promotions: tuple[ExtraValidity | FirstOrderDiscount, ...]
    discount: Money
    free_months: int
    value: Money

    @property
    def code(self) -> str:
        return "+".join(promotion.code for promotion in self.promotions)

    @property
    def name(self) -> str:
        return _NAMES_JOINED.join(promotion.name for promotion in self.promotions)


_NAMES_JOINED = " + "


def applied_names(name: str | None) -> set[str]:
    """The names of the promotions in an ``AppliedPromotion.name`` (as orders store it)."""
    return set(name.split(_NAMES_JOINED)) if name else set()


def percent_of(amount: Money, percent: Decimal) -> Money:
    """``percent`` % of ``amount``, rounded down to minor units."""
    return amount.multiply(percent / _HUNDRED, rounding=PROMOTION_ROUNDING)


def topup_bonus_for(
    amount: Money, promotions: tuple[Promotion, ...], now: datetime
) -> tuple[TopUpBonus, Money] | None:
    """The bonus a top-up of ``amount`` earns at ``now``: the largest of the top-up bonuses
    in their window whose minimum it reaches (the first listed on a tie), or None when none
    applies or the bonus rounds down to nothing."""
    best: tuple[TopUpBonus, Money] | None = None
    for promotion in promotions:
        if not isinstance(promotion, TopUpBonus) or not promotion.is_on_at(now):
            continue
        if promotion.min_amount.currency != amount.currency or amount < promotion.min_amount:
            continue
        bonus = percent_of(amount, promotion.percent)
        if bonus.minor > 0 and (best is None or bonus > best[1]):
            best = (promotion, bonus)
    return best


def best_plan_promotion(
    plan: Plan,
    promotions: tuple[Promotion, ...],
    *,
    first_order: bool,
    now: datetime,
    stackable: bool = False,
) -> AppliedPromotion | None:
    """The promotion applied to buying ``plan`` at ``now``: the applicable one worth most to
    the subscriber (the first listed on a tie), or all applicable ones when ``stackable``
    (discounts added up, never above the price; free months added up). None when nothing
    applies."""
    applicable = [
        _applied(promotion, plan)
        for promotion in promotions
        if isinstance(promotion, ExtraValidity | FirstOrderDiscount)
        and promotion.is_on_at(now)
        and _applies_to(promotion, plan, first_order=first_order)
    ]
    if not applicable:
        return None
    if not stackable:
        best = applicable[0]
        for candidate in applicable[1:]:
            if candidate.value > best.value:
                best = candidate
        return best
    discount = min(
        sum((a.discount for a in applicable), Money.zero(plan.price.currency)), plan.price
    )
    free_months = sum(a.free_months for a in applicable)
    return AppliedPromotion(
        promotions=tuple(p for a in applicable for p in a.promotions),
        discount=discount,
        free_months=free_months,
        value=discount + _months_value(plan, free_months),
    )


def _applies_to(
    promotion: ExtraValidity | FirstOrderDiscount, plan: Plan, *, first_order: bool
) -> bool:
    if isinstance(promotion, ExtraValidity):
        return plan.months >= promotion.min_months
    return first_order


def _applied(promotion: ExtraValidity | FirstOrderDiscount, plan: Plan) -> AppliedPromotion:
    zero = Money.zero(plan.price.currency)
    if isinstance(promotion, ExtraValidity):
        value = _months_value(plan, promotion.free_months)
        return AppliedPromotion(
            promotions=(promotion,), discount=zero, free_months=promotion.free_months, value=value
        )
    discount = percent_of(plan.price, promotion.percent)
    return AppliedPromotion(
        promotions=(promotion,), discount=discount, free_months=0, value=discount
    )


def _months_value(plan: Plan, months: int) -> Money:
    """What ``months`` of ``plan`` are worth: its price / its months × ``months``."""
    return plan.price.multiply(Decimal(months) / Decimal(plan.months), rounding=PROMOTION_ROUNDING)
