"""Ports of usage: rated records and daily use per line."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from saldo.domain.ledger import Posting
from saldo.services.ports.lines import LineWithBuckets


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


@dataclass(frozen=True, slots=True)
class ChargedRecord:
    """A rated record and what it took: the postings of its ledger transaction (none when it
    took nothing) and the balance of each line bucket after them."""

    record: UsageRecord
    postings: tuple[Posting, ...]
    balances_after: Mapping[int, int]
    memo: str


@dataclass(frozen=True, slots=True)
class BucketChange:
    """A line bucket's balance before and after a batch of records."""

    bucket_id: int
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class LineDay:
    """What a batch of records adds to a line's use of one service on one local day."""

    line_id: int
    operator_id: int
    day: date
    service: str
    events: int
    used: int
    billable: int
    allowance_used: int
    money: int
    currency: str


class BucketChanged(Exception):
    """A bucket's balance was not what its locked line's batch read: some writer changed it
    without locking the line first (a fault, never a bad record)."""


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

    def lines_for_charging(self, numbers: Collection[str]) -> dict[str, LineWithBuckets]:
        """The lines with these numbers (the live one, else the latest recycled one), each
        with its operator and buckets, keyed by number; their rows locked in id order until
        the unit of work ends, and the buckets read after the locks are held."""
        ...

    def operators_of(self, numbers: Collection[str]) -> dict[str, int]:
        """The operator of the line with each number that has one (the live line, else the
        latest recycled one), keyed by number."""
        ...

    def charged(
        self, *, operator_ids: Collection[int], record_ids: Collection[str]
    ) -> dict[tuple[int, str], UsageRecord]:
        """The records already stored with these operators and record ids, keyed by
        (operator id, record id)."""
        ...

    def add_batch(
        self,
        charged: Sequence[ChargedRecord],
        *,
        buckets: Sequence[BucketChange],
        days: Sequence[LineDay],
        now: datetime,
    ) -> None:
        """Store the records, in order, each with its ledger transaction (event ``usage``,
        the record's id); set each bucket from ``before`` to ``after``; add ``days`` to the
        lines' daily use. Raise DuplicateIdempotencyKey when an operator already has one of
        the record ids, BucketChanged when a bucket's balance is not ``before``; the unit of
        work must then be rolled back."""
        ...
