"""Rated usage records and daily use per line, and a CDR import's batches: the lines of a
batch locked and read at once, and its records, ledger transactions, balances and daily use
written with one statement per table (``executemany``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from saldo.adapters.db import tables as t
from saldo.adapters.db.prepared import IntegrityViolation
from saldo.adapters.db.repositories.lines import WITH_BUCKETS_COLUMNS, lines_with_buckets
from saldo.domain.periods import require_aware
from saldo.services.ports.ledger import DuplicateIdempotencyKey
from saldo.services.ports.lines import LineWithBuckets
from saldo.services.ports.usage import (
    BucketChange,
    BucketChanged,
    ChargedRecord,
    DailyUsage,
    LineDay,
    UsageRecord,
)

# A batch's statements, run with ``executemany`` straight on the driver's cursor, each row a
# tuple made once (a dictionary per row cost more than the database's own work). Rows carry
# their ids, taken beforehand (``_new_ids``), so that each ledger transaction names its record
# and each entry its transaction without reading anything back.
_INSERT_RECORDS = (
    "INSERT INTO usage_records (id, operator_id, line_id, record_id, service, started_at, used, "
    "billable, zone, destination, allowance_used, money, shortfall, currency, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_TRANSACTIONS = (
    "INSERT INTO ledger_transactions (id, operator_id, line_id, event_type, event_id, memo, "
    "created_at) VALUES (?, ?, ?, 'usage', ?, ?, ?)"
)
_INSERT_ENTRIES = (
    "INSERT INTO ledger_entries (transaction_id, account_id, amount, balance_after) "
    "VALUES (?, ?, ?, ?)"
)
# Compare and set: the line is locked, so the bucket holds what the batch read.
_SET_BALANCES = "UPDATE accounts SET balance = ? WHERE id = ? AND balance = ?"
_ADD_DAYS = (
    "INSERT INTO usage_daily (line_id, day, service, operator_id, events, used, billable, "
    "allowance_used, money, currency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (line_id, day, service) DO UPDATE SET "
    "events = usage_daily.events + excluded.events, "
    "used = usage_daily.used + excluded.used, "
    "billable = usage_daily.billable + excluded.billable, "
    "allowance_used = usage_daily.allowance_used + excluded.allowance_used, "
    "money = usage_daily.money + excluded.money"
)


def _many(connection: Connection, statement: str, rows: Sequence[tuple[Any, ...]]) -> int:
    """Run ``statement`` once per row in one call to the driver; return the rows changed."""
    if not rows:
        return 0
    dialect = connection.dialect
    if dialect.name == "postgresql":
        statement = statement.replace("?", "%s")
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(statement, rows)
        return int(cursor.rowcount)
    except dialect.loaded_dbapi.IntegrityError as error:
        raise IntegrityViolation(str(error)) from error
    finally:
        cursor.close()


def _moment(value: datetime, *, sqlite: bool) -> Any:
    """An aware datetime as ``TZDateTime`` stores it (naive UTC text on SQLite)."""
    moment = require_aware(value)
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else moment


# A batch's reads, built once: the lists of numbers and ids travel as expanding parameters.
_LATEST_LINES = (
    select(func.max(t.lines.c.id))
    .where(t.lines.c.msisdn.in_(bindparam("numbers", expanding=True)))
    .group_by(t.lines.c.msisdn)
)  # the newest line with each number: the live one, else the latest recycled one
_LOCK_LINES = (
    select(t.lines.c.id)
    .where(t.lines.c.id.in_(_LATEST_LINES))
    .order_by(t.lines.c.id)
    .with_for_update(of=t.lines)
)
_WITH_BUCKETS = select(*WITH_BUCKETS_COLUMNS).select_from(
    t.lines.join(t.operators, t.operators.c.id == t.lines.c.operator_id).outerjoin(
        t.accounts, t.accounts.c.line_id == t.lines.c.id
    )
)
_LINES_WITH_BUCKETS = _WITH_BUCKETS.where(
    t.lines.c.id.in_(bindparam("ids", expanding=True))
).order_by(t.lines.c.id, t.accounts.c.id)
# On SQLite the transaction's write lock already keeps every other writer out: the lines are
# read at once, without a locking read first.
_LINES_WITH_BUCKETS_BY_NUMBER = _WITH_BUCKETS.where(t.lines.c.id.in_(_LATEST_LINES)).order_by(
    t.lines.c.id, t.accounts.c.id
)
_OPERATORS_OF = select(t.lines.c.msisdn, t.lines.c.operator_id).where(
    t.lines.c.id.in_(_LATEST_LINES)
)
_CHARGED = select(t.usage_records).where(
    t.usage_records.c.operator_id.in_(bindparam("operator_ids", expanding=True)),
    t.usage_records.c.record_id.in_(bindparam("record_ids", expanding=True)),
)


class SqlUsageRepository:
    def __init__(self, connection: Connection, *, operator_id: int | None) -> None:
        self._connection = connection
        self._scope = operator_id

    def add(self, record: UsageRecord, *, now: datetime) -> int:
        if self._scope is not None and record.operator_id != self._scope:
            raise PermissionError("this unit of work is scoped to another operator")
        values = {
            "operator_id": record.operator_id,
            "line_id": record.line_id,
            "record_id": record.record_id,
            "service": record.service,
            "started_at": record.started_at,
            "used": record.used,
            "billable": record.billable,
            "zone": record.zone,
            "destination": record.destination,
            "allowance_used": record.allowance_used,
            "money": record.money,
            "shortfall": record.shortfall,
            "currency": record.currency,
            "created_at": now,
        }
        try:
            with self._connection.begin_nested():
                return int(
                    self._connection.execute(
                        insert(t.usage_records).values(**values).returning(t.usage_records.c.id)
                    ).scalar_one()
                )
        except IntegrityError as error:
            raise DuplicateIdempotencyKey(record.record_id) from error

    def get(self, *, operator_id: int, record_id: str) -> UsageRecord | None:
        r = t.usage_records
        row = self._connection.execute(
            select(r).where(r.c.operator_id == operator_id, r.c.record_id == record_id)
        ).first()
        return None if row is None else _record(row)

    def lines_for_charging(self, numbers: Collection[str]) -> dict[str, LineWithBuckets]:
        if not numbers:
            return {}
        if self._connection.dialect.name == "sqlite":
            read = _LINES_WITH_BUCKETS_BY_NUMBER
            if self._scope is not None:
                read = read.where(t.lines.c.operator_id == self._scope)
            rows = self._connection.execute(read, {"numbers": list(numbers)}).all()
            return {line.line.msisdn: line for line in lines_with_buckets(self._connection, rows)}
        locked = _LOCK_LINES
        if self._scope is not None:
            locked = locked.where(t.lines.c.operator_id == self._scope)
        found = self._connection.execute(locked, {"numbers": list(numbers)})
        ids = list(found.scalars())
        if not ids:
            return {}
        # Read after the locks are held: on PostgreSQL a row locked after a wait is read
        # again, but the rows joined to it in the same statement are not.
        rows = self._connection.execute(_LINES_WITH_BUCKETS, {"ids": ids}).all()
        return {line.line.msisdn: line for line in lines_with_buckets(self._connection, rows)}

    def operators_of(self, numbers: Collection[str]) -> dict[str, int]:
        if not numbers:
            return {}
        rows = self._connection.execute(_OPERATORS_OF, {"numbers": list(numbers)})
        return {str(msisdn): int(operator_id) for msisdn, operator_id in rows}

    def charged(
        self, *, operator_ids: Collection[int], record_ids: Collection[str]
    ) -> dict[tuple[int, str], UsageRecord]:
        if not operator_ids or not record_ids:
            return {}
        query = _CHARGED
        if self._scope is not None:
            query = query.where(t.usage_records.c.operator_id == self._scope)
        params = {"operator_ids": list(operator_ids), "record_ids": list(record_ids)}
        found = (_record(row) for row in self._connection.execute(query, params))
        return {(record.operator_id, record.record_id): record for record in found}

    def add_batch(
        self,
        charged: Sequence[ChargedRecord],
        *,
        buckets: Sequence[BucketChange],
        days: Sequence[LineDay],
        now: datetime,
    ) -> None:
        if self._scope is not None and any(c.record.operator_id != self._scope for c in charged):
            raise PermissionError("this unit of work is scoped to another operator")
        connection = self._connection
        sqlite = connection.dialect.name == "sqlite"
        created_at = _moment(now, sqlite=sqlite)
        record_ids = self._new_ids("usage_records", len(charged))
        with_ledger = [
            (c, record_id) for c, record_id in zip(charged, record_ids, strict=True) if c.postings
        ]
        transaction_ids = self._new_ids("ledger_transactions", len(with_ledger))
        records = [
            (record_id, r.operator_id, r.line_id, r.record_id, r.service,
             _moment(r.started_at, sqlite=sqlite), r.used, r.billable, r.zone, r.destination,
             r.allowance_used, r.money, r.shortfall, r.currency, created_at)
            for record_id, r in zip(record_ids, (c.record for c in charged), strict=True)
        ]  # fmt: skip
        try:
            _many(connection, _INSERT_RECORDS, records)
        except IntegrityViolation as error:
            if error.refuses("usage_records", "operator_id", "record_id"):
                raise DuplicateIdempotencyKey("a record id of the batch") from error
            raise
        del records  # each table's rows freed before the next's are made: memory stays flat
        transactions = [
            (transaction_id, c.record.operator_id, c.record.line_id, record_id, c.memo,
             created_at)
            for (c, record_id), transaction_id in zip(with_ledger, transaction_ids, strict=True)
        ]  # fmt: skip
        _many(connection, _INSERT_TRANSACTIONS, transactions)
        del transactions
        entries = [
            (transaction_id, p.account_id, p.amount, c.balances_after.get(p.account_id))
            for (c, _), transaction_id in zip(with_ledger, transaction_ids, strict=True)
            for p in c.postings
        ]
        _many(connection, _INSERT_ENTRIES, entries)
        del entries
        changes = [(b.after, b.bucket_id, b.before) for b in buckets]
        if _many(connection, _SET_BALANCES, changes) != len(changes):
            raise BucketChanged("a bucket of a locked line changed during the batch")
        totals = [
            (d.line_id, d.day.isoformat() if sqlite else d.day, d.service, d.operator_id,
             d.events, d.used, d.billable, d.allowance_used, d.money, d.currency)
            for d in days
        ]  # fmt: skip
        _many(connection, _ADD_DAYS, totals)

    def _new_ids(self, table: str, count: int) -> list[int]:
        """``count`` ids for new rows of ``table``: from its sequence on PostgreSQL; on
        SQLite, after the largest (the write lock is held, so nobody else takes them)."""
        if not count:
            return []
        if self._connection.dialect.name == "postgresql":
            taken = self._connection.exec_driver_sql(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                "FROM generate_series(1, %(count)s)",
                {"count": count},
            )
            return sorted(int(value) for (value,) in taken)
        last = self._connection.exec_driver_sql(f"SELECT max(id) FROM {table}").scalar()
        start = int(last or 0) + 1
        return list(range(start, start + count))

    def add_to_day(self, record: UsageRecord, *, day: date) -> None:
        daily = t.usage_daily
        key = (
            (daily.c.line_id == record.line_id)
            & (daily.c.day == day)
            & (daily.c.service == record.service)
        )
        changed = self._connection.execute(
            update(daily)
            .where(key)
            .values(
                events=daily.c.events + 1,
                used=daily.c.used + record.used,
                billable=daily.c.billable + record.billable,
                allowance_used=daily.c.allowance_used + record.allowance_used,
                money=daily.c.money + record.money,
            )
        ).rowcount
        if not changed:
            self._connection.execute(
                insert(daily).values(
                    line_id=record.line_id,
                    day=day,
                    service=record.service,
                    operator_id=record.operator_id,
                    events=1,
                    used=record.used,
                    billable=record.billable,
                    allowance_used=record.allowance_used,
                    money=record.money,
                    currency=record.currency,
                )
            )

    def daily(self, *, line_id: int, since: date) -> list[DailyUsage]:
        daily = t.usage_daily
        query = (
            select(daily)
            .where(daily.c.line_id == line_id, daily.c.day >= since)
            .order_by(daily.c.day, daily.c.service)
        )
        if self._scope is not None:
            query = query.where(daily.c.operator_id == self._scope)
        return [
            DailyUsage(
                day=row.day,
                service=row.service,
                events=row.events,
                used=row.used,
                billable=row.billable,
                allowance_used=row.allowance_used,
                money=row.money,
                currency=row.currency,
            )
            for row in self._connection.execute(query)
        ]


def _record(row: Any) -> UsageRecord:
    return UsageRecord(
        operator_id=row.operator_id,
        line_id=row.line_id,
        record_id=row.record_id,
        service=row.service,
        started_at=row.started_at,
        used=row.used,
        billable=row.billable,
        zone=row.zone,
        destination=row.destination,
        allowance_used=row.allowance_used,
        money=row.money,
        shortfall=row.shortfall,
        currency=row.currency,
    )


def _values(record: UsageRecord) -> dict[str, Any]:
    return {
        "operator_id": record.operator_id,
        "line_id": record.line_id,
        "record_id": record.record_id,
        "service": record.service,
        "started_at": record.started_at,
        "used": record.used,
        "billable": record.billable,
        "zone": record.zone,
        "destination": record.destination,
        "allowance_used": record.allowance_used,
        "money": record.money,
        "shortfall": record.shortfall,
        "currency": record.currency,
    }
