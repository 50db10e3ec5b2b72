"""What a rated use takes from a line's buckets: allowances in their consumption order, then
money, bonus before main; the rest is a shortfall."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from saldo.catalog.schema import bundled_specs
from saldo.domain.buckets import Bucket, BucketKind
from saldo.domain.money import Money
from saldo.domain.rating import Service, Tariff, rate
from saldo.domain.usage import Debit, split_charge

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


def movistar() -> Tariff:
    operator = next(s for s in bundled_specs() if s.slug == "movistar-ar").to_operator()
    assert operator.tariff is not None
    return operator.tariff


def test_the_allowance_that_expires_first_is_used_first_then_money() -> None:
    tariff = movistar()
    rated = rate(
        tariff=tariff,
        service=Service.VOICE,
        destination="+541143210000",
        quantity=150,
        on_net=False,
    )  # fmt: skip  (180 billable seconds)
    buckets = [
        Bucket(1, BucketKind.VOICE, "SECONDS", 60, NOW + timedelta(days=20)),
        Bucket(2, BucketKind.VOICE, "SECONDS", 60, NOW + timedelta(days=5)),
        Bucket(3, BucketKind.MAIN, "ARS", 100000),
        Bucket(4, BucketKind.BONUS, "ARS", 10000, NOW + timedelta(days=3)),
    ]

    charge = split_charge(rated=rated, tariff=tariff, buckets=buckets, currency="ARS", now=NOW)

    assert charge.debits == (
        Debit(2, "SECONDS", 60),
        Debit(1, "SECONDS", 60),
        Debit(4, "ARS", 10000),
        Debit(3, "ARS", 5000),
    )
    assert (charge.allowance_used, charge.money) == (120, Money.of("150", "ARS"))
    assert charge.shortfall == Money.zero("ARS")


def test_expired_allowances_are_not_used_and_missing_money_is_a_shortfall() -> None:
    tariff = movistar()
    rated = rate(tariff=tariff, service=Service.VOICE, destination="+541143210000",
                 quantity=60, on_net=False)  # fmt: skip
    buckets = [
        Bucket(1, BucketKind.VOICE, "SECONDS", 600, NOW - timedelta(seconds=1)),
        Bucket(2, BucketKind.MAIN, "ARS", 4000),
    ]

    charge = split_charge(rated=rated, tariff=tariff, buckets=buckets, currency="ARS", now=NOW)

    assert charge.debits == (Debit(2, "ARS", 4000),)
    assert (charge.money, charge.shortfall) == (Money.of("40", "ARS"), Money.of("110", "ARS"))
