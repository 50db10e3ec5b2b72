"""Subscriber accounts and the lines on them. An account's lines are read with their
operators and buckets in one prepared statement, by the lines' ids: a number recycled and
given to another line is not the account's line."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.engine import Connection

from saldo.adapters.db import tables as t
from saldo.adapters.db.prepared import Prepared
from saldo.adapters.db.repositories.lines import WITH_BUCKETS_COLUMNS, lines_with_buckets
from saldo.services.ports import LineWithBuckets

_L = t.account_lines

_account_lines = (
    select(*WITH_BUCKETS_COLUMNS)
    .select_from(
        _L.join(t.lines, t.lines.c.id == _L.c.line_id)
        .join(t.operators, t.operators.c.id == t.lines.c.operator_id)
        .outerjoin(t.accounts, t.accounts.c.line_id == t.lines.c.id)
    )
    .where(_L.c.account_id == bindparam("account_id"))
    .order_by(_L.c.added_at, _L.c.line_id, t.accounts.c.id)
)
_LINES = Prepared(_account_lines)
_LINES_WITH_NUMBER = Prepared(_account_lines.where(t.lines.c.msisdn == bindparam("msisdn")))


class SqlSubscriberRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def open_account(self, *, now: datetime) -> int:
        return int(
            self._connection.execute(
                insert(t.subscriber_accounts)
                .values(created_at=now)
                .returning(t.subscriber_accounts.c.id)
            ).scalar_one()
        )

    def account_of_line(self, line_id: int) -> int | None:
        found = self._connection.execute(
            select(_L.c.account_id).where(_L.c.line_id == line_id)
        ).scalar_one_or_none()
        return None if found is None else int(found)

    def put_line(self, *, account_id: int, line_id: int, now: datetime) -> None:
        if self.account_of_line(line_id) == account_id:
            return
        self._connection.execute(delete(_L).where(_L.c.line_id == line_id))
        self._connection.execute(
            insert(_L).values(account_id=account_id, line_id=line_id, added_at=now)
        )

    def take_line(self, *, account_id: int, line_id: int) -> bool:
        taken = self._connection.execute(
            delete(_L).where(_L.c.account_id == account_id, _L.c.line_id == line_id)
        ).rowcount
        return bool(taken)

    def lines(self, account_id: int, *, msisdn: str | None = None) -> list[LineWithBuckets]:
        if msisdn is None:
            rows = _LINES.rows(self._connection, account_id=account_id)
        else:
            rows = _LINES_WITH_NUMBER.rows(self._connection, account_id=account_id, msisdn=msisdn)
        return lines_with_buckets(self._connection, rows)
