"""Ports of usage: rated records and daily use per line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class UsageRecord:
    operator_id: int
    line_id: int
    record_id: str
    service: str
    started_at: datetime
    used: int
    billable: int
    zone: str
    destination: str | None
    allowance_used: int
    money: int
    shortfall: int
    currency: str


@dataclass(frozen=True, slots=True)
class DailyUsage:
    day: date
    service: str
    events: int
    used: int
    billable: int
    allowance_used: int
    money: int
    currency: str


class UsageRepository(Protocol):
    def add(self, record: UsageRecord, *, now: datetime) -> int:
        """Store a rated record; raise DuplicateIdempotencyKey when the operator has one
        with this record id."""
        ...

    def get(self, *, operator_id: int, record_id: str) -> UsageRecord | None:
        """The operator's record with this id, as it was charged."""
        ...

    def add_to_day(self, record: UsageRecord, *, day: date) -> None:
        """Add the record to its line's use on ``day`` (the operator's local date)."""
        ...

    def daily(self, *, line_id: int, since: date) -> list[DailyUsage]:
        """The line's use per day and service from ``since``, oldest first."""
        ...
