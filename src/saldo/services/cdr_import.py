"""Importing call detail records: a stream of rows (a CDR file's), rated and charged as
``charge_usage`` does one record at a time, in batches.

A batch's lines are locked (in id order) and read with their buckets at once, with the
operators of its destinations (on-net) and the records already stored under its ids; its
records are rated in memory in file order with the domain's own functions (a line's records
in the order they come: each one's buckets are those the records before it left); then its
records, ledger transactions, bucket balances and daily use are written with one statement
per table, in one transaction. A bad row is reported with its number and skipped alone; a
record id seen before is a duplicate (or, with other values, refused). Memory stays flat
whatever the file's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import Final

from saldo.domain.buckets import Bucket
from saldo.domain.errors import SaldoError
from saldo.domain.ledger import OperatorAccount, Posting, check_balanced
from saldo.domain.money import Money
from saldo.domain.periods import local_date, require_aware
from saldo.services.charge_usage import (
    ChargedUsage,
    UsageEvent,
    charge_in,
    check_chargeable,
    check_event,
    check_same_record,
    priced,
    usage_memo,
)
from saldo.services.lines import LineNotFound
from saldo.services.ports import (
    BucketChange,
    ChargedRecord,
    DuplicateIdempotencyKey,
    LineDay,
    LineWithBuckets,
    UnitOfWork,
    UsageRecord,
)

MAX_REJECTIONS_KEPT: Final = 100
# Records charged per transaction by an import: fewer durable commits and statements, a
# line's row not held locked for long, and a batch's memory small beside the caches'.
IMPORT_BATCH: Final = 400


@dataclass(slots=True)
class ImportSummary:
    """What an import did; rejected rows are counted, and the first ones kept with why."""

    charged: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[tuple[int, str]] = field(default_factory=list)
    shortfall: dict[str, int] = field(default_factory=dict)
    money: dict[str, int] = field(default_factory=dict)

    def reject(self, row: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_REJECTIONS_KEPT:
            self.rejections.append((row, reason))

    def count(self, charged: ChargedUsage | None) -> None:
        """A record charged, or (None) one charged before."""
        if charged is None:
            self.duplicates += 1
            return
        self.charged += 1
        _add(self.money, charged.charge.money)
        _add(self.shortfall, charged.charge.shortfall)

    def merge(self, later: ImportSummary) -> None:
        """Add what the rows after this summary's did."""
        self.charged += later.charged
        self.duplicates += later.duplicates
        self.rejected += later.rejected
        room = MAX_REJECTIONS_KEPT - len(self.rejections)
        self.rejections += later.rejections[: max(room, 0)]
        for currency, minor in later.money.items():
            self.money[currency] = self.money.get(currency, 0) + minor
        for currency, minor in later.shortfall.items():
            self.shortfall[currency] = self.shortfall.get(currency, 0) + minor


def import_usage(
    uow: UnitOfWork,
    *,
    rows: Iterable[tuple[int, UsageEvent | SaldoError]],
    now: datetime,
    on_row: Callable[[], None] | None = None,
    batch: int = IMPORT_BATCH,
) -> ImportSummary:
    """Charge a stream of records, ``batch`` rows per transaction (memory stays flat
    whatever the file's size): a row charged before is skipped, a bad row reported with its
    number and reason and skipped alone. The balances, ledger, daily use and report are
    those of charging the rows one at a time, in order (``charge_usage``)."""
    now = require_aware(now)
    summary = ImportSummary()
    stream = iter(rows)
    while chunk := list(islice(stream, batch)):
        try:
            with uow:
                part = _charge_batch(uow, chunk=chunk, now=now)
                uow.commit()
        except DuplicateIdempotencyKey:
            # Another import stored one of these record ids since this batch looked: this
            # batch again, one row at a time, each in a savepoint (the rows it took are
            # duplicates, or reused ids, by then).
            part = ImportSummary()
            with uow:
                for number, row in chunk:
                    _import_row(uow, number=number, row=row, now=now, summary=part)
                uow.commit()
        summary.merge(part)
        if on_row is not None:
            for _ in chunk:
                on_row()
        del chunk, part  # before the next batch is read, so that one batch at most is held
    return summary


@dataclass(slots=True)
class _LineBatch:
    """A line of a batch: its buckets as the batch's records so far leave them."""

    found: LineWithBuckets
    buckets: tuple[Bucket, ...]
    read: dict[int, int]  # bucket id → balance when read


@dataclass(slots=True)
class _DayTotals:
    operator_id: int
    currency: str
    events: int = 0
    used: int = 0
    billable: int = 0
    allowance_used: int = 0
    money: int = 0


@dataclass(slots=True)
class _Batch:
    """What a batch's records do, gathered in memory to be written at once."""

    lines: dict[str, _LineBatch]
    callees: dict[str, int]
    known: dict[tuple[int, str], UsageRecord]
    charged: list[ChargedRecord] = field(default_factory=list)
    days: dict[tuple[int, date, str], _DayTotals] = field(default_factory=dict)
    accounts: dict[tuple[int, str], int] = field(default_factory=dict)  # usage, per unit


@dataclass(frozen=True, slots=True)
class _Checked:
    """A row whose values can be charged: its record, number and start."""

    row: int
    event: UsageEvent
    number: str
    started_at: datetime


def _charge_batch(
    uow: UnitOfWork, *, chunk: list[tuple[int, UsageEvent | SaldoError]], now: datetime
) -> ImportSummary:
    """Rate a batch's rows in order in memory, as ``_charge`` does one at a time, from the
    lines, buckets and records read at once (the lines locked); then write it all."""
    summary = ImportSummary()
    checked: list[_Checked | tuple[int, SaldoError]] = []
    for row, found in chunk:
        try:
            if isinstance(found, SaldoError):
                raise found
            number, started_at = check_event(found, now=now)
        except SaldoError as error:
            checked.append((row, error))
            continue
        checked.append(_Checked(row, found, number, started_at))
    events = [entry for entry in checked if isinstance(entry, _Checked)]
    lines = uow.usage.lines_for_charging({entry.number for entry in events})
    destinations = {e.event.destination for e in events if e.event.destination is not None}
    batch = _Batch(
        lines={
            number: _LineBatch(line, line.buckets, {b.id: b.balance for b in line.buckets})
            for number, line in lines.items()
        },
        callees=uow.usage.operators_of(destinations),
        known=uow.usage.charged(
            operator_ids={line.operator.id for line in lines.values() if line.operator.id},
            record_ids={entry.event.record_id for entry in events},
        ),
    )
    for entry in checked:
        if not isinstance(entry, _Checked):
            summary.reject(entry[0], entry[1].message)
            continue
        try:
            charged = _rate_in_batch(uow, batch=batch, checked=entry, now=now)
        except SaldoError as error:
            summary.reject(entry.row, error.message)
            continue
        summary.count(charged)
    del checked, events  # what rating needed, freed before the writes
    batch.known.clear()
    changes = [
        BucketChange(bucket_id=bucket.id, before=line.read[bucket.id], after=bucket.balance)
        for line in batch.lines.values()
        for bucket in line.buckets
        if bucket.balance != line.read[bucket.id]
    ]
    days = [
        LineDay(line_id=line_id, operator_id=t.operator_id, day=day, service=service,
                events=t.events, used=t.used, billable=t.billable,
                allowance_used=t.allowance_used, money=t.money, currency=t.currency)
        for (line_id, day, service), t in batch.days.items()
    ]  # fmt: skip
    uow.usage.add_batch(batch.charged, buckets=changes, days=days, now=now)
    return summary


def _rate_in_batch(
    uow: UnitOfWork, *, batch: _Batch, checked: _Checked, now: datetime
) -> ChargedUsage | None:
    """``_charge`` for one record of a batch, against the batch's lines and records: the
    same checks in the same order, so that a row is refused for the same reason."""
    event, number, started_at = checked.event, checked.number, checked.started_at
    state = batch.lines.get(number)
    if state is None:
        raise LineNotFound(f"no line with number {number}")
    line, operator = state.found.line, state.found.operator
    assert operator.id is not None
    key = (operator.id, event.record_id)
    charged = batch.known.get(key)
    if charged is not None:
        check_same_record(charged, event=event, line_id=line.id, started_at=started_at)
        return None
    check_chargeable(line, operator, number=number, started_at=started_at)
    on_net = event.destination is not None and batch.callees.get(event.destination) == operator.id
    charge, usage = priced(
        event,
        line=line,
        operator=operator,
        buckets=state.buckets,
        on_net=on_net,
        started_at=started_at,
    )
    batch.known[key] = usage
    postings: list[Posting] = []
    after: dict[int, int] = {}
    taken: dict[int, int] = {}
    for debit in charge.debits:
        if not debit.amount:
            continue
        taken[debit.bucket_id] = debit.amount
        account = batch.accounts.get((operator.id, debit.unit))
        if account is None:
            account = batch.accounts[(operator.id, debit.unit)] = uow.accounts.operator_account(
                operator_id=operator.id, kind=OperatorAccount.USAGE, unit=debit.unit, now=now
            )
        postings += [
            Posting(account_id=debit.bucket_id, unit=debit.unit, amount=-debit.amount),
            Posting(account_id=account, unit=debit.unit, amount=debit.amount),
        ]
    if taken:
        buckets = []
        for bucket in state.buckets:
            if bucket.id in taken:
                balance = after[bucket.id] = bucket.balance - taken[bucket.id]
                assert balance >= 0, "split_charge takes no more than a bucket holds"
                bucket = Bucket(bucket.id, bucket.kind, bucket.unit, balance, bucket.expires_at)
            buckets.append(bucket)
        state.buckets = tuple(buckets)
        check_balanced(postings)
    memo = usage_memo(charge)
    batch.charged.append(
        ChargedRecord(record=usage, postings=tuple(postings), balances_after=after, memo=memo)
    )
    day = (line.id, local_date(started_at, timezone=operator.timezone), usage.service)
    totals = batch.days.get(day)
    if totals is None:
        totals = batch.days[day] = _DayTotals(operator.id, operator.currency)
    totals.events += 1
    totals.used += usage.used
    totals.billable += usage.billable
    totals.allowance_used += usage.allowance_used
    totals.money += usage.money
    return ChargedUsage(record_id=event.record_id, charge=charge)


def _import_row(
    uow: UnitOfWork,
    *,
    number: int,
    row: UsageEvent | SaldoError,
    now: datetime,
    summary: ImportSummary,
) -> None:
    if isinstance(row, SaldoError):
        summary.reject(number, row.message)
        return
    try:
        line_number, started_at = check_event(row, now=now)
        with uow.savepoint():
            charged = charge_in(uow, event=row, number=line_number, started_at=started_at, now=now)
    except SaldoError as error:
        summary.reject(number, error.message)
        return
    summary.count(charged)


def _add(totals: dict[str, int], money: Money) -> None:
    if money.minor:
        totals[money.currency] = totals.get(money.currency, 0) + money.minor
