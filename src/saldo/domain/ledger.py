"""The double-entry ledger: every change of a balance is a balanced transaction.

A transaction is a set of postings; for each unit (ARS, COP, EUR, SECONDS, SMS, BYTES) its
amounts sum to zero. A line's bucket is an account whose balance the subscriber sees; the
other side is an operator account (top-ups received, adjustments, forfeits, usage). Every
transaction names the business event that caused it (``event_type``, ``event_id``).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from saldo.domain.errors import SaldoError


class UnbalancedTransaction(SaldoError, ValueError):
    """The postings of a transaction do not sum to zero in every unit."""

    code = "unbalanced_transaction"


class OperatorAccount(enum.StrEnum):
    """The operator's side of a movement; one account per operator and unit."""

    TOPUPS = "topups"  # money received through top-up channels
    ADJUSTMENTS = "adjustments"  # manual credits and debits by staff
    PROMOTIONS = "promotions"  # bonus money and allowances given away
    SALES = "sales"  # plans and add-ons sold, whoever paid
    PAYMENTS = "payments"  # money received for orders through payment processors
    ALLOWANCES = "allowances"  # minutes, SMS and data granted with plans
    FORFEITS = "forfeits"  # balances forfeited at expiry or recycling
    USAGE = "usage"  # balances consumed by calls, SMS and data
    RESERVATIONS = "reservations"  # units held for open charging sessions


@dataclass(frozen=True, slots=True)
class Posting:
    account_id: int
    unit: str
    amount: int


def check_balanced(postings: Sequence[Posting]) -> None:
    """Raise UnbalancedTransaction unless ``postings`` has two or more postings and sums to
    zero in each unit."""
    if len(postings) < 2:
        raise UnbalancedTransaction("a transaction needs at least two postings")
    totals: dict[str, int] = defaultdict(int)
    for posting in postings:
        totals[posting.unit] += posting.amount
    unbalanced = {unit: total for unit, total in totals.items() if total != 0}
    if unbalanced:
        raise UnbalancedTransaction(f"postings do not balance: {unbalanced}")


def transfer(*, from_account: int, to_account: int, unit: str, amount: int) -> list[Posting]:
    """The two postings that move ``amount`` of ``unit`` from one account to another."""
    if amount <= 0:
        raise ValueError("a transfer moves a positive amount")
    postings = [
        Posting(account_id=from_account, unit=unit, amount=-amount),
        Posting(account_id=to_account, unit=unit, amount=amount),
    ]
    check_balanced(postings)
    return postings
