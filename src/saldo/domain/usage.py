"""What a rated use of the network takes from a line's buckets.

The billable units go first to the allowance buckets that cover the service in its zone
(minutes, SMS, data of the line's plans), in the consumption order of ``buckets`` (earliest
expiry first); what the allowances do not cover is priced at the tariff (``price_of``) and
taken from money, bonus before main. Money that is not there is a shortfall: a record of use
that already happened (a CDR) is charged as far as the balance goes and the rest is reported,
never taken below zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from saldo.domain.buckets import Bucket, consumption_order, unit_of
from saldo.domain.money import Money
from saldo.domain.rating import Rated, Tariff, price_of


@dataclass(frozen=True, slots=True)
class Debit:
    bucket_id: int
    unit: str
    amount: int  # positive: taken from the bucket


@dataclass(frozen=True, slots=True)
class UsageCharge:
    """The debits for one rated use: ``allowance_used`` units from allowances, ``money`` from
    money buckets, and ``shortfall`` of the price that no money covered."""

    rated: Rated
    debits: tuple[Debit, ...]
    allowance_used: int
    money: Money
    shortfall: Money


def split_charge(
    *, rated: Rated, tariff: Tariff, buckets: Sequence[Bucket], currency: str, now: datetime
) -> UsageCharge:
    """Take ``rated.billable`` units from the covering allowances first, then the price of
    the rest from money, in consumption order at ``now``."""
    debits: list[Debit] = []
    remaining = rated.billable
    used = 0
    if rated.allowance is not None and remaining:
        unit = unit_of(rated.allowance, currency=currency)
        for bucket in consumption_order(buckets, unit=unit, now=now):
            if bucket.kind is not rated.allowance or not remaining:
                continue
            take = min(bucket.balance, remaining)
            debits.append(Debit(bucket_id=bucket.id, unit=unit, amount=take))
            remaining -= take
            used += take
    if remaining == rated.billable:
        price = rated.price if remaining else Money.zero(currency)  # the rated price, as is
    else:
        price = (
            price_of(tariff=tariff, service=rated.service, zone=rated.zone, billable=remaining)
            if remaining
            else Money.zero(currency)
        )
    owed = price.minor
    taken = 0
    for bucket in consumption_order(buckets, unit=currency, now=now):
        if not owed:
            break
        take = min(bucket.balance, owed)
        debits.append(Debit(bucket_id=bucket.id, unit=currency, amount=take))
        owed -= take
        taken += take
    return UsageCharge(
        rated=rated,
        debits=tuple(debits),
        allowance_used=used,
        money=Money(taken, currency),
        shortfall=Money(owed, currency),
    )
