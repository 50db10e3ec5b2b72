"""When each of the worker's jobs last ran; auto top-up settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.engine import Connection

from saldo.adapters.db import tables as t
from saldo.adapters.db.prepared import Prepared
from saldo.services.ports.auto_payments import AutoTopUp


class SqlJobRunRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def last_run(self, job: str) -> datetime | None:
        found: datetime | None = self._connection.execute(
            select(t.job_runs.c.last_run_at).where(t.job_runs.c.job == job)
        ).scalar_one_or_none()
        return found

    def record_run(self, job: str, *, at: datetime) -> None:
        changed = self._connection.execute(
            update(t.job_runs).where(t.job_runs.c.job == job).values(last_run_at=at)
        ).rowcount
        if not changed:
            self._connection.execute(insert(t.job_runs).values(job=job, last_run_at=at))


# A line's auto top-up, on every line page: prepared, compiled once.
_auto_topup = select(t.auto_topups).where(t.auto_topups.c.line_id == bindparam("line_id"))
_AUTO_TOPUP = {
    False: Prepared(_auto_topup),
    True: Prepared(_auto_topup.where(t.auto_topups.c.operator_id == bindparam("scope"))),
}


class SqlAutoTopUpRepository:
    def __init__(self, connection: Connection, *, operator_id: int | None) -> None:
        self._connection = connection
        self._scope = operator_id

    def put(self, setting: AutoTopUp, *, now: datetime) -> None:
        if self._scope is not None and setting.operator_id != self._scope:
            raise PermissionError("this unit of work is scoped to another operator")
        values = {
            "operator_id": setting.operator_id,
            "threshold": setting.threshold,
            "amount": setting.amount,
            "currency": setting.currency,
            "provider": setting.provider,
            "token": setting.token,
            "enabled": setting.enabled,
            "failures": setting.failures,
            "next_attempt_at": setting.next_attempt_at,
            "updated_at": now,
        }
        changed = self._connection.execute(
            update(t.auto_topups).where(t.auto_topups.c.line_id == setting.line_id).values(**values)
        ).rowcount
        if not changed:
            self._connection.execute(
                insert(t.auto_topups).values(line_id=setting.line_id, **values)
            )

    def get(self, line_id: int) -> AutoTopUp | None:
        if self._scope is None:
            row = _AUTO_TOPUP[False].first(self._connection, line_id=line_id)
        else:
            row = _AUTO_TOPUP[True].first(self._connection, line_id=line_id, scope=self._scope)
        return None if row is None else _setting(row)

    def due(self, *, now: datetime, limit: int) -> list[tuple[AutoTopUp, str]]:
        main = t.accounts
        query = (
            select(t.auto_topups, t.lines.c.msisdn)
            .join(t.lines, t.lines.c.id == t.auto_topups.c.line_id)
            .join(main, and_(main.c.line_id == t.lines.c.id, main.c.kind == "main"))
            .where(
                t.auto_topups.c.enabled.is_(True),
                t.lines.c.state != "recycled",
                main.c.balance < t.auto_topups.c.threshold,
                or_(
                    t.auto_topups.c.next_attempt_at.is_(None),
                    t.auto_topups.c.next_attempt_at <= now,
                ),
            )
            .order_by(t.auto_topups.c.line_id)
            .limit(limit)
        )
        if self._scope is not None:
            query = query.where(t.auto_topups.c.operator_id == self._scope)
        return [(_setting(row), str(row.msisdn)) for row in self._connection.execute(query)]


def _setting(row: Any) -> AutoTopUp:
    return AutoTopUp(
        line_id=row.line_id,
        operator_id=row.operator_id,
        threshold=row.threshold,
        amount=row.amount,
        currency=row.currency,
        provider=row.provider,
        token=row.token,
        enabled=row.enabled,
        failures=row.failures,
        next_attempt_at=row.next_attempt_at,
    )
