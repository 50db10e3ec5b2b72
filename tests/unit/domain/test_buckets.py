"""The order in which a line's buckets are consumed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from saldo.domain.buckets import Bucket, BucketKind, consumption_order, unit_of

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
SOON = NOW + timedelta(days=3)
LATER = NOW + timedelta(days=30)


def ids(buckets: list[Bucket]) -> list[int]:
    return [bucket.id for bucket in buckets]


def money(
    bucket_id: int, kind: BucketKind, balance: int, expires_at: datetime | None = None
) -> Bucket:
    return Bucket(id=bucket_id, kind=kind, unit="ARS", balance=balance, expires_at=expires_at)


def data(bucket_id: int, balance: int, expires_at: datetime | None = None) -> Bucket:
    return Bucket(
        id=bucket_id, kind=BucketKind.DATA, unit="BYTES", balance=balance, expires_at=expires_at
    )


def test_bonus_money_is_spent_before_main_money_even_when_main_expires_first() -> None:
    main = money(1, BucketKind.MAIN, 50000, expires_at=SOON)
    bonus = money(2, BucketKind.BONUS, 10000, expires_at=LATER)

    order = consumption_order([main, bonus], unit="ARS", now=NOW)

    assert ids(order) == [2, 1]


def test_the_bucket_that_expires_first_is_consumed_first() -> None:
    later = data(1, 1_000_000, expires_at=LATER)
    sooner = data(2, 1_000_000, expires_at=SOON)

    order = consumption_order([later, sooner], unit="BYTES", now=NOW)

    assert ids(order) == [2, 1]


def test_buckets_that_never_expire_are_consumed_last() -> None:
    forever = data(1, 1_000_000)
    later = data(2, 1_000_000, expires_at=LATER)
    sooner = data(3, 1_000_000, expires_at=SOON)

    order = consumption_order([forever, later, sooner], unit="BYTES", now=NOW)

    assert ids(order) == [3, 2, 1]


def test_money_buckets_are_ordered_by_kind_then_expiry() -> None:
    main_forever = money(1, BucketKind.MAIN, 50000)
    main_soon = money(2, BucketKind.MAIN, 50000, expires_at=SOON)
    bonus_forever = money(3, BucketKind.BONUS, 10000)
    bonus_later = money(4, BucketKind.BONUS, 10000, expires_at=LATER)

    order = consumption_order(
        [main_forever, main_soon, bonus_forever, bonus_later], unit="ARS", now=NOW
    )

    assert ids(order) == [4, 3, 2, 1]


def test_expired_and_empty_buckets_are_never_used() -> None:
    expired = data(1, 1_000_000, expires_at=NOW - timedelta(seconds=1))
    expiring_now = data(2, 1_000_000, expires_at=NOW)
    empty = data(3, 0, expires_at=LATER)
    overdrawn = data(4, -5)
    usable = data(5, 1_000_000, expires_at=LATER)

    order = consumption_order(
        [expired, expiring_now, empty, overdrawn, usable], unit="BYTES", now=NOW
    )

    assert ids(order) == [5]


def test_buckets_of_other_units_are_left_out() -> None:
    pesos = money(1, BucketKind.MAIN, 50000)
    megabytes = data(2, 1_000_000)
    minutes = Bucket(id=3, kind=BucketKind.VOICE, unit="SECONDS", balance=600)

    order = consumption_order([pesos, megabytes, minutes], unit="SECONDS", now=NOW)

    assert ids(order) == [3]


def test_ties_are_broken_by_bucket_id() -> None:
    third = data(3, 1_000_000, expires_at=SOON)
    first = data(1, 1_000_000, expires_at=SOON)
    second_forever = data(2, 1_000_000)
    fourth_forever = data(4, 1_000_000)

    order = consumption_order([fourth_forever, third, second_forever, first], unit="BYTES", now=NOW)

    assert ids(order) == [1, 3, 2, 4]


def test_money_buckets_use_the_operator_currency_as_unit() -> None:
    assert unit_of(BucketKind.MAIN, currency="COP") == "COP"
    assert unit_of(BucketKind.BONUS, currency="COP") == "COP"
    assert unit_of(BucketKind.VOICE, currency="COP") == "SECONDS"
    assert unit_of(BucketKind.SMS, currency="COP") == "SMS"
    assert unit_of(BucketKind.DATA, currency="COP") == "BYTES"
