"""Ports of a line's history: what moved on its buckets and why, read back from the ledger
and the tables of the events that caused each movement (top-ups, vouchers, plan purchases,
orders, adjustments, usage), the refunds of its payments, and the plans it bought."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BucketChange:
    """One entry of a movement on one of the line's buckets: ``kind`` is the bucket's
    (main, bonus, voice, sms, data), ``unit`` its ledger unit, ``amount`` the change (negative
    for a debit), ``balance_after`` the bucket's balance after it, where the ledger kept it."""

    kind: str
    unit: str
    amount: int
    balance_after: int | None


@dataclass(frozen=True, slots=True)
class EventDetail:
    """What the event behind a movement was, as its own table keeps it; every field is None
    where the event has no such fact. ``price``/``currency``: what the event cost or brought
    (a top-up's amount, a plan's or an order's price, a usage record's money, a refund);
    ``channel``: how it reached Saldo; ``code``: the plan bought, the usage's service, or the
    voucher's serial; ``receipt_number``: an order's receipt; ``note``: an adjustment's reason,
    the add-ons of an order, the usage's zone."""

    price: int | None = None
    currency: str | None = None
    channel: str | None = None
    code: str | None = None
    receipt_number: str | None = None
    note: str | None = None
    quantity: int | None = None


@dataclass(frozen=True, slots=True)
class LedgerMovement:
    """One ledger transaction that changed the line's buckets (or a refund of one of its
    payments, which changes none: ``event_type`` "refund", ``changes`` empty)."""

    transaction_id: int
    event_type: str  # topup, plan_purchase, order, adjustment, usage, charging, recycling, refund
    event_id: int
    created_at: datetime
    memo: str | None
    changes: tuple[BucketChange, ...]
    detail: EventDetail


@dataclass(frozen=True, slots=True)
class PlanBought:
    """The last plan a line bought (from its balance or by an order), and when."""

    plan_code: str
    price: int
    currency: str
    months: int
    addon_codes: tuple[str, ...]
    bought_at: datetime


class HistoryRepository(Protocol):
    def movements(self, *, line_id: int, since: datetime, until: datetime) -> list[LedgerMovement]:
        """The line's movements in ``[since, until)``, oldest first (ties by transaction
        id); refunds of its payments among them, at the moment they were refunded."""
        ...

    def main_balance_at(self, *, line_id: int, at: datetime) -> int:
        """The line's main (money) balance just before ``at``: the sum of its main bucket's
        ledger entries before ``at`` (0 when there is none)."""
        ...

    def last_plan(self, *, line_id: int, at: datetime) -> PlanBought | None:
        """The last plan the line bought at or before ``at``: from its balance or by a
        fulfilled order, whichever came last."""
        ...

    def spent_on_plans(self, *, line_id: int, since: datetime, until: datetime) -> int:
        """The prices (minor units, the operator's currency) of the plans and add-ons the line
        bought in ``[since, until)``, from its balance or by fulfilled orders."""
        ...
