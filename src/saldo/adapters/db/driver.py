"""Bulk statements handed straight to the database driver: plain SQL written once, each row a
plain tuple, in the transaction SQLAlchemy holds open. For writes of thousands of rows (a
line import), where SQLAlchemy's per-row parameter processing costs more than the
database's own work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from saldo.adapters.db.prepared import IntegrityViolation
from saldo.domain.periods import require_aware


def driver_sql(connection: Connection, statement: str) -> str:
    """``statement``, written with ``?`` placeholders, in the driver's own style."""
    return statement.replace("?", "%s") if connection.dialect.name == "postgresql" else statement


def stored_moment(connection: Connection, moment: datetime) -> Any:
    """An aware datetime as ``TZDateTime`` hands it to the driver: naive UTC text in
    SQLAlchemy's SQLite format on SQLite, the aware UTC datetime on PostgreSQL."""
    moment = require_aware(moment)
    if connection.dialect.name == "sqlite":
        return moment.replace(tzinfo=None).isoformat(" ", "microseconds")
    return moment


def execute_many(connection: Connection, statement: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Run ``statement`` (``?`` placeholders) once per row in one call to the driver. Raises
    IntegrityViolation when a row breaks a constraint (rows before it stay written: run it
    in a savepoint to undo them)."""
    if not rows:
        return
    dialect = connection.dialect
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(driver_sql(connection, statement), rows)
    except dialect.loaded_dbapi.IntegrityError as error:
        raise IntegrityViolation(str(error)) from error
    finally:
        cursor.close()


def fetch_all(
    connection: Connection, statement: str, parameters: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """Every row of ``statement`` (``?`` placeholders), as the driver's tuples."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(driver_sql(connection, statement), tuple(parameters))
        return list(cursor.fetchall())
    finally:
        cursor.close()
