"""Charging recorded use on SQLite and PostgreSQL: rating with increments and prefixes,
allowances before money and bonus before main, on-net, shortfalls, refusal outside active
service, idempotent re-import with bad rows, daily usage; ``saldo audit`` clean after each."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from saldo.adapters.clock import FixedClock
from saldo.adapters.db.repositories.usage import SqlUsageRepository
from saldo.bootstrap import Saldo
from saldo.domain.buckets import BucketKind
from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.rating import Service
from saldo.services.adjust_balance import adjust_balance
from saldo.services.audit import audit_ledger
from saldo.services.cdr_import import import_usage
from saldo.services.charge_usage import (
    LineNotActive,
    RecordIdReused,
    UsageEvent,
    charge_usage,
    line_usage,
)
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up

LINE = "+5491155551234"  # movistar-ar: 60/60; national $150/min, mobile (+549) $165/min
FRIEND = "+5491155550000"  # another Movistar line: on-net, $100/min, SMS $45
LANDLINE = "+541143210000"  # national (+54), not mobile
ABROAD = "+34911234567"  # international: $950/min, not covered by minutes


@pytest.fixture
def line(saldo: Saldo, clock: FixedClock) -> Saldo:
    for number in (LINE, FRIEND):
        add_line(saldo.uow(), new_line=NewLine(msisdn=number, operator="movistar-ar"),
                 now=clock.now())  # fmt: skip
    top_up(
        saldo.uow(), msisdn=LINE, amount=Money.of("5000", "ARS"), channel=Channel.STORE,
        idempotency_key="seed", now=clock.now(),
    )  # fmt: skip
    return saldo


def grant(saldo: Saldo, kind: BucketKind, amount: int, key: str) -> None:
    adjust_balance(
        saldo.uow(), msisdn=LINE, kind=kind, amount=amount, reason="test", actor="qa",
        idempotency_key=key, now=saldo.clock.now(),
        expires_at=saldo.clock.now() + timedelta(days=10),
    )  # fmt: skip


def balances(saldo: Saldo) -> dict[str, int]:
    with saldo.uow().reading() as uow:
        found = uow.lines.get_with_buckets(LINE)
        assert found is not None
        totals: dict[str, int] = {}
        for bucket in found.buckets:
            totals[bucket.kind.value] = totals.get(bucket.kind.value, 0) + bucket.balance
        return totals


def event(record: str, service: Service, quantity: int, destination: str | None,
          at: datetime) -> UsageEvent:  # fmt: skip
    return UsageEvent(record_id=record, msisdn=LINE, service=service, started_at=at,
                      quantity=quantity, destination=destination)  # fmt: skip


def test_minutes_go_first_and_the_rest_is_priced_by_the_minute(
    line: Saldo, clock: FixedClock
) -> None:
    grant(line, BucketKind.VOICE, 60, "g1")

    charged = charge_usage(
        line.uow(), event=event("c1", Service.VOICE, 61, LANDLINE, clock.now()), now=clock.now()
    )

    assert charged is not None
    assert (charged.charge.rated.billable, charged.charge.allowance_used) == (120, 60)
    assert charged.charge.money == Money.of("150", "ARS")  # the second minute, national
    assert balances(line) == {"main": 500000 - 15000, "voice": 0}
    assert audit_ledger(line.uow()).clean


def test_the_longest_prefix_decides_the_zone_and_international_is_not_covered(
    line: Saldo, clock: FixedClock
) -> None:
    grant(line, BucketKind.VOICE, 600, "g1")

    mobile = charge_usage(line.uow(), event=event("c1", Service.VOICE, 30, "+5491166667777",
                                                  clock.now()), now=clock.now())  # fmt: skip
    abroad = charge_usage(line.uow(), event=event("c2", Service.VOICE, 30, ABROAD, clock.now()),
                          now=clock.now())  # fmt: skip

    assert mobile is not None and abroad is not None
    assert (mobile.charge.rated.zone, mobile.charge.allowance_used) == ("mobile", 60)
    assert (abroad.charge.rated.zone, abroad.charge.allowance_used) == ("international", 0)
    assert abroad.charge.money == Money.of("950", "ARS")


def test_an_sms_to_a_line_of_the_same_operator_is_on_net(line: Saldo, clock: FixedClock) -> None:
    charged = charge_usage(line.uow(), event=event("s1", Service.SMS, 1, FRIEND, clock.now()),
                           now=clock.now())  # fmt: skip

    assert charged is not None
    assert (charged.charge.rated.zone, charged.charge.money) == ("on_net", Money.of("45", "ARS"))


def test_bonus_money_is_spent_before_main_money(line: Saldo, clock: FixedClock) -> None:
    grant(line, BucketKind.BONUS, 10000, "b1")  # $100 of bonus

    charge_usage(line.uow(), event=event("c1", Service.VOICE, 60, LANDLINE, clock.now()),
                 now=clock.now())  # fmt: skip

    assert balances(line) == {"main": 500000 - 5000, "bonus": 0}
    assert audit_ledger(line.uow()).clean


def test_use_beyond_the_money_is_a_shortfall_never_an_overdraft(
    line: Saldo, clock: FixedClock
) -> None:
    charged = charge_usage(line.uow(), event=event("c1", Service.VOICE, 600, ABROAD, clock.now()),
                           now=clock.now())  # fmt: skip

    assert charged is not None
    assert (charged.charge.money, charged.charge.shortfall) == (
        Money.of("5000", "ARS"),
        Money.of("4500", "ARS"),
    )
    assert balances(line) == {"main": 0}
    assert audit_ledger(line.uow()).clean


def test_use_while_the_line_was_in_grace_is_refused(line: Saldo, clock: FixedClock) -> None:
    with line.uow().reading() as uow:
        record = uow.lines.get_by_msisdn(LINE)
        assert record is not None
        in_grace = record.line.valid_until + timedelta(days=1)
    clock.set(in_grace + timedelta(hours=1))  # the record comes in after the use

    with pytest.raises(LineNotActive):
        charge_usage(line.uow(), event=event("c1", Service.VOICE, 60, LANDLINE, in_grace),
                     now=clock.now())  # fmt: skip


def test_a_reimport_changes_nothing_and_bad_rows_are_reported(
    line: Saldo, clock: FixedClock
) -> None:
    rows: list[tuple[int, UsageEvent | SaldoError]] = [
        (2, event("c1", Service.VOICE, 60, LANDLINE, clock.now())),
        (3, SaldoError("quantity 'x' is not a whole number")),
        (4, event("d1", Service.DATA, 2 * 1024 * 1024, None, clock.now())),
        (5, UsageEvent(record_id="z", msisdn="+5491100000000", service=Service.SMS,
                       started_at=clock.now(), quantity=1, destination=FRIEND)),
    ]  # fmt: skip

    first = import_usage(line.uow(), rows=rows, now=clock.now())
    after_first = balances(line)
    again = import_usage(line.uow(), rows=rows, now=clock.now())

    assert (first.charged, first.duplicates, first.rejected) == (2, 0, 2)
    assert [row for row, _ in first.rejections] == [3, 5]
    assert (again.charged, again.duplicates, again.rejected) == (0, 2, 2)
    assert balances(line) == after_first
    days = line_usage(line.uow(), msisdn=LINE, days=1, now=clock.now())
    assert [(d.service, d.events, d.billable) for d in days] == [
        ("data", 1, 21 * 102400),  # 2 MiB in 100 KB steps
        ("voice", 1, 60),
    ]
    assert audit_ledger(line.uow()).clean


def test_a_record_id_used_again_for_another_record_is_refused(
    line: Saldo, clock: FixedClock
) -> None:
    charge_usage(line.uow(), event=event("c1", Service.VOICE, 60, LANDLINE, clock.now()),
                 now=clock.now())  # fmt: skip

    with pytest.raises(RecordIdReused):
        charge_usage(line.uow(), event=event("c1", Service.VOICE, 600, LANDLINE, clock.now()),
                     now=clock.now())  # fmt: skip


def test_an_import_s_memory_does_not_grow_with_the_number_of_records(
    saldo_sqlite: Saldo, clock: FixedClock
) -> None:
    add_line(saldo_sqlite.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"),
             now=clock.now())  # fmt: skip
    top_up(saldo_sqlite.uow(), msisdn=LINE, amount=Money.of("5000", "ARS"),
           channel=Channel.STORE, idempotency_key="seed", now=clock.now())  # fmt: skip

    def stream(prefix: str, count: int) -> Iterator[tuple[int, UsageEvent | SaldoError]]:
        for n in range(count):  # made one at a time, as a file is read
            yield n + 2, event(f"{prefix}{n}", Service.DATA, 1, None, clock.now())

    def peak(prefix: str, count: int) -> int:
        tracemalloc.start()
        try:
            summary = import_usage(saldo_sqlite.uow(), rows=stream(prefix, count),
                                   now=clock.now())  # fmt: skip
            assert summary.charged == count
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak("warm-", 300)  # caches filled once
    small, large = peak("a-", 300), peak("b-", 3000)

    assert large < small * 1.5 + 256 * 1024  # ten times the records, not ten times the memory


def test_a_batch_that_meets_a_record_id_stored_meanwhile_is_charged_one_row_at_a_time(
    line: Saldo, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a record charged by another import, which this import's batch does not see yet
    # (as when both read before either wrote)
    charge_usage(line.uow(), event=event("c1", Service.VOICE, 60, LANDLINE, clock.now()),
                 now=clock.now())  # fmt: skip
    after_first = balances(line)
    monkeypatch.setattr(SqlUsageRepository, "charged", lambda self, **_: {})
    rows: list[tuple[int, UsageEvent | SaldoError]] = [
        (2, event("c2", Service.VOICE, 60, LANDLINE, clock.now())),
        (3, event("c1", Service.VOICE, 60, LANDLINE, clock.now())),
        (4, event("c1", Service.VOICE, 120, LANDLINE, clock.now())),
    ]

    # when the file is imported
    summary = import_usage(line.uow(), rows=rows, now=clock.now())

    # then the database's refusal undoes the batch, and row by row the record is a duplicate
    assert (summary.charged, summary.duplicates, summary.rejected) == (1, 1, 1)
    assert summary.rejections == [(4, "record c1 was charged before with other values")]
    assert balances(line) == {"main": after_first["main"] - 15000}
    assert audit_ledger(line.uow()).clean
