"""Balance buckets of a line and the order in which they are consumed.

A line holds main money, bonus money, voice seconds, SMS and data bytes. A bucket may expire
on its own date. Consumption order (documented in docs/operators.md):

1. expired and empty buckets are never used;
2. for money, bonus money before main money;
3. within the same kind, the bucket that expires first goes first; buckets that never
   expire go last; ties by creation order (bucket id).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


class BucketKind(enum.StrEnum):
    MAIN = "main"
    BONUS = "bonus"
    VOICE = "voice"
    SMS = "sms"
    DATA = "data"

    @property
    def is_money(self) -> bool:
        return self in (BucketKind.MAIN, BucketKind.BONUS)


class Unit(enum.StrEnum):
    """Non-money units; money buckets use their ISO 4217 currency code as unit."""

    SECONDS = "SECONDS"
    SMS = "SMS"
    BYTES = "BYTES"


def unit_of(kind: BucketKind, *, currency: str) -> str:
    """The ledger unit of a bucket kind on a line whose operator keeps ``currency``."""
    if kind.is_money:
        return currency
    return {BucketKind.VOICE: Unit.SECONDS, BucketKind.SMS: Unit.SMS, BucketKind.DATA: Unit.BYTES}[
        kind
    ].value


@dataclass(frozen=True, slots=True)
class Bucket:
    id: int
    kind: BucketKind
    unit: str
    balance: int
    expires_at: datetime | None = None

    def is_usable_at(self, now: datetime) -> bool:
        return self.balance > 0 and (self.expires_at is None or now < self.expires_at)


_MONEY_PRIORITY = {BucketKind.BONUS: 0, BucketKind.MAIN: 1}


def consumption_order(buckets: Iterable[Bucket], *, unit: str, now: datetime) -> list[Bucket]:
    """The usable buckets of ``unit`` in the order they are consumed at ``now``."""

    def order(bucket: Bucket) -> tuple[int, bool, datetime, int]:
        never = bucket.expires_at is None
        return (_MONEY_PRIORITY.get(bucket.kind, 0), never, bucket.expires_at or now, bucket.id)

    usable = [b for b in buckets if b.unit == unit and b.is_usable_at(now)]
    return sorted(usable, key=order)
