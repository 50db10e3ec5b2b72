"""Top-up rules: which amounts are accepted and how much validity they grant.

Validity rule (docs/operators.md): a top-up grants the validity days of the largest catalog
denomination that does not exceed the amount; the line is then valid until the later of its
current ``valid_until`` and the end of the local day that many days from now. Validity never
shrinks, and small top-ups do not stack into endless validity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from saldo.domain.errors import SaldoError
from saldo.domain.lifecycle import LineState
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.operator import TopUpRules
from saldo.domain.periods import end_of_local_day_after


class TopUpAmountRefused(SaldoError, ValueError):
    code = "amount_refused"


class AmountBelowMinimum(TopUpAmountRefused):
    code = "amount_below_minimum"


class AmountAboveMaximum(TopUpAmountRefused):
    code = "amount_above_maximum"


class WrongCurrency(TopUpAmountRefused):
    code = "wrong_currency"


def check_topup_currency(amount: Money, *, rules: TopUpRules) -> None:
    """Raise WrongCurrency unless ``amount`` is in the operator's currency."""
    if amount.currency != rules.minimum.currency:
        raise WrongCurrency(f"top-ups here are in {rules.minimum.currency}, not {amount.currency}")


def check_topup_amount(amount: Money, *, rules: TopUpRules, online: bool = False) -> None:
    """Raise WrongCurrency, AmountBelowMinimum or AmountAboveMaximum unless ``amount`` is
    acceptable: positive, in the operator's currency, at least its minimum (and its online
    minimum when it comes through the web or the app), and at most its maximum."""
    check_topup_currency(amount, rules=rules)
    if amount.minor <= 0 or amount < rules.minimum:
        raise AmountBelowMinimum(f"the minimum top-up is {rules.minimum}")
    if online and rules.online_minimum is not None and amount < rules.online_minimum:
        raise AmountBelowMinimum(f"the minimum top-up online is {rules.online_minimum}")
    if rules.maximum is not None and amount > rules.maximum:
        raise AmountAboveMaximum(f"the maximum top-up is {rules.maximum}")


def validity_days_for(amount: Money, *, rules: TopUpRules) -> int:
    """Days of validity that ``amount`` grants: those of the largest denomination not above
    it; an amount above the minimum but below every denomination grants the smallest one's."""
    eligible = [d for d in rules.denominations if d.amount <= amount]
    if eligible:
        return max(eligible, key=lambda d: d.amount.minor).validity_days
    return min(d.validity_days for d in rules.denominations)


def valid_until_after_topup(
    *, valid_until: datetime, validity_days: int, timezone: str, now: datetime
) -> datetime:
    """The new end of validity after a top-up granting ``validity_days`` at ``now``."""
    return max(valid_until, end_of_local_day_after(now, validity_days, timezone=timezone))


@dataclass(frozen=True, slots=True)
class TopUpReceipt:
    """What a subscriber, a store or a reseller keeps as proof of a top-up."""

    topup_id: int
    receipt_number: str
    msisdn: str
    operator: str
    amount: Money
    balance: Money
    valid_until: datetime
    state_before: LineState
    channel: Channel
    created_at: datetime
    replayed: bool = False
    # Bonus credit from a promotion, in its own BONUS bucket (not part of ``balance``).
    bonus: Money | None = None


def receipt_number(topup_id: int, *, operator_slug: str) -> str:
    """A receipt number people can read out on the phone: ``CLARO-CO-T-000001234``."""
    return f"{operator_slug.upper()}-T-{topup_id:09d}"
