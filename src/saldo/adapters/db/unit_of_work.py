"""The SQL unit of work: one connection, one transaction, the repositories on top."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from saldo.adapters.db.engine import WRITE
from saldo.adapters.db.repositories import (
    SqlAccountRepository,
    SqlAdjustmentRepository,
    SqlLedgerRepository,
    SqlLineRepository,
    SqlOperatorRepository,
    SqlTopUpRepository,
)


class SqlUnitOfWork:
    """``with uow:`` writes (``BEGIN IMMEDIATE`` on SQLite, row locks on PostgreSQL) and rolls
    back unless committed; ``with uow.reading():`` reads. ``operator_id`` scopes every line
    lookup to one operator: staff and resellers get a scoped unit of work, so another
    operator's lines are simply not there for them."""

    operators: SqlOperatorRepository
    lines: SqlLineRepository
    accounts: SqlAccountRepository
    ledger: SqlLedgerRepository
    topups: SqlTopUpRepository
    adjustments: SqlAdjustmentRepository

    def __init__(self, engine: Engine, *, operator_id: int | None = None) -> None:
        self._engine = engine
        self._operator_id = operator_id
        self._connection: Connection | None = None
        self._committed = False

    def _open(self, *, write: bool) -> None:
        if self._connection is not None:
            raise RuntimeError("this unit of work is already open")
        connection = self._engine.connect()
        if write:
            connection = connection.execution_options(**{WRITE: True})
        connection.begin()
        self._connection = connection
        self._committed = False
        scope = self._operator_id
        self.operators = SqlOperatorRepository(connection)
        self.lines = SqlLineRepository(connection, operator_id=scope)
        self.accounts = SqlAccountRepository(connection)
        self.ledger = SqlLedgerRepository(connection, operator_id=scope)
        self.topups = SqlTopUpRepository(connection)
        self.adjustments = SqlAdjustmentRepository(connection)

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if not self._committed and connection.in_transaction():
                connection.rollback()
        finally:
            connection.close()

    def __enter__(self) -> SqlUnitOfWork:
        self._open(write=True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._close()

    @contextmanager
    def reading(self) -> Iterator[SqlUnitOfWork]:
        self._open(write=False)
        try:
            yield self
        finally:
            self._close()

    def commit(self) -> None:
        if self._connection is None:
            raise RuntimeError("commit outside a unit of work")
        self._connection.commit()
        self._committed = True

    def rollback(self) -> None:
        if self._connection is not None and self._connection.in_transaction():
            self._connection.rollback()
