"""Rated usage records and daily use per line."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from saldo.adapters.db import tables as t
from saldo.services.ports.ledger import DuplicateIdempotencyKey
from saldo.services.ports.usage import DailyUsage, UsageRecord


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
        if row is None:
            return None
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
