"""A line's history for people: the calendar month a statement covers (in the operator's time
zone) and what kind of movement each ledger event is."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime

from saldo.domain.errors import SaldoError, quoted
from saldo.domain.periods import Period, add_months, local_date, start_of_local_day

_MONTH = re.compile(r"(\d{4})-(\d{2})")
# The first month Saldo can have a statement for, and how far ahead one may be asked.
FIRST_YEAR = 2000


class InvalidMonth(SaldoError, ValueError):
    """A month is written YYYY-MM, from 2000-01 up to the current month."""

    code = "invalid_month"


class MovementKind(enum.StrEnum):
    TOPUP = "topup"  # money put on the line (online, store, reseller, auto top-up)
    VOUCHER = "voucher"  # a voucher PIN redeemed
    PLAN = "plan"  # a plan (and add-ons) bought, from the balance or paid by an order
    USAGE = "usage"  # calls, SMS and data charged to the buckets
    ADJUSTMENT = "adjustment"  # a staff credit or debit
    REFUND = "refund"  # a payment given back to the card or wallet that paid it
    FORFEIT = "forfeit"  # balances lost when the number was recycled
    OTHER = "other"


_KINDS = {
    "topup": MovementKind.TOPUP,
    "plan_purchase": MovementKind.PLAN,
    "order": MovementKind.PLAN,
    "usage": MovementKind.USAGE,
    "charging": MovementKind.USAGE,
    "adjustment": MovementKind.ADJUSTMENT,
    "refund": MovementKind.REFUND,
    "recycling": MovementKind.FORFEIT,
}


def movement_kind(event_type: str, *, voucher: bool = False) -> MovementKind:
    """The kind of movement a ledger event is (a top-up by ``voucher`` is a VOUCHER)."""
    kind = _KINDS.get(event_type, MovementKind.OTHER)
    return MovementKind.VOUCHER if kind is MovementKind.TOPUP and voucher else kind


@dataclass(frozen=True, slots=True)
class Month:
    """A calendar month: ``first_day`` is its 1st."""

    first_day: date

    @property
    def last_day(self) -> date:
        return date.fromordinal(add_months(self.first_day, 1).toordinal() - 1)

    @property
    def label(self) -> str:
        return f"{self.first_day:%Y-%m}"

    def period(self, *, timezone: str) -> Period:
        """The month as ``[its 1st at 00:00, the next 1st at 00:00)`` in ``timezone``."""
        return Period(
            starts_at=start_of_local_day(self.first_day, timezone=timezone),
            ends_at=start_of_local_day(add_months(self.first_day, 1), timezone=timezone),
        )


def current_month(now: datetime, *, timezone: str) -> Month:
    """The month ``now`` falls in, in ``timezone``."""
    return Month(local_date(now, timezone=timezone).replace(day=1))


def parse_month(text: str, *, now: datetime, timezone: str) -> Month:
    """The month written ``YYYY-MM``; raise InvalidMonth for anything else, a month before
    2000 or one after the current month in ``timezone``."""
    found = _MONTH.fullmatch(text.strip())
    if found is None:
        raise InvalidMonth(f"month {quoted(text)} is not written YYYY-MM (2026-11)")
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12:
        raise InvalidMonth(f"month {quoted(text)} has no month {month:02d}")
    asked = Month(date(year, month, 1))
    if year < FIRST_YEAR or asked.first_day > current_month(now, timezone=timezone).first_day:
        raise InvalidMonth(
            f"month {quoted(text)} is out of range: from {FIRST_YEAR}-01 up to this month"
        )
    return asked
