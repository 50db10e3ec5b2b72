"""Prepared statements for the hot paths (top-up, balance inquiry).

A SQLAlchemy Core statement is compiled once per dialect and then run straight on the DBAPI
cursor of the unit of work's connection: no per-call compilation, execution events or result
wrapping. What SQLAlchemy's column types would do is done here, for the two types the hot
paths bind and read: aware datetimes (stored as UTC; on SQLite as naive
``YYYY-MM-DD HH:MM:SS.ffffff`` text, exactly as SQLAlchemy's own DateTime type writes it) and enums.
PostgreSQL (psycopg 3) also prepares these statements on the server after a few runs.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import literal_column
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement, visitors
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter

from saldo.domain.periods import require_aware


def to_utc(value: Any) -> datetime | None:
    """A datetime column value as an aware UTC datetime, from either database."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite: naive UTC text (one parse is cheaper than a replace)
        return datetime.fromisoformat(value + "+00:00")
    moment: datetime = value
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class IntegrityViolation(Exception):
    """The database refused a row: a unique, foreign key, not-null or check constraint."""

    def refuses(self, table: str, *columns: str) -> bool:
        """True when it is the unique constraint on these columns of ``table`` that refused
        (named by the naming convention on PostgreSQL, listed in the message on SQLite)."""
        cause = self.__cause__
        diag = getattr(cause, "diag", None)
        if diag is not None:
            return bool(diag.constraint_name == f"uq_{table}_{'_'.join(columns)}")
        listed = ", ".join(f"{table}.{column}" for column in columns)
        return str(cause) == f"UNIQUE constraint failed: {listed}"


class Prepared:
    """One statement, compiled lazily for each dialect it meets."""

    def __init__(self, statement: ClauseElement) -> None:
        self._statement = _inline_constants(statement)
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}

    def _for(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self._statement.compile(dialect=dialect)
            assert isinstance(compiled, SQLCompiler)
            positions = compiled.positiontup if compiled.positional else None
            order = tuple(positions) if positions is not None else None
            # Values written into the statement itself (kind = 'main') travel as parameters.
            fixed = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}
            found = (compiled.string, order, fixed)
            self._compiled[dialect.name] = found
        return found

    def _cursor(self, connection: Connection, params: dict[str, Any]) -> Any:
        dialect = connection.dialect
        sql, order, fixed = self._for(dialect)
        sqlite = dialect.name == "sqlite"
        arguments: tuple[Any, ...] | dict[str, Any]
        if order is not None:  # positional (SQLite): straight into the tuple, in order
            arguments = tuple(
                [_bind(params[name], sqlite) if name in params else fixed[name] for name in order]
            )
        else:
            arguments = {**fixed, **{name: _bind(value, sqlite) for name, value in params.items()}}
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, arguments)
        except dialect.loaded_dbapi.IntegrityError as error:
            cursor.close()
            raise IntegrityViolation(str(error)) from error
        return cursor

    def rows(self, connection: Connection, **params: Any) -> Sequence[tuple[Any, ...]]:
        cursor = self._cursor(connection, params)
        try:
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows
        finally:
            cursor.close()

    def first(self, connection: Connection, **params: Any) -> tuple[Any, ...] | None:
        cursor = self._cursor(connection, params)
        try:
            row = cursor.fetchone()
            return None if row is None else tuple(row)
        finally:
            cursor.close()

    def execute_many(self, connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Run a statement once per parameter set, in one call to the driver."""
        dialect = connection.dialect
        sql, order, fixed = self._for(dialect)
        sqlite = dialect.name == "sqlite"
        batches = [
            {**fixed, **{name: _bind(value, sqlite) for name, value in row.items()}} for row in rows
        ]
        cursor = connection.connection.cursor()
        try:
            if order is not None:
                cursor.executemany(sql, [tuple(b[name] for name in order) for b in batches])
            else:
                cursor.executemany(sql, batches)
        except dialect.loaded_dbapi.IntegrityError as error:
            raise IntegrityViolation(str(error)) from error
        finally:
            cursor.close()

    def execute(self, connection: Connection, **params: Any) -> int:
        """Run a statement without result rows; return the number of rows it changed."""
        cursor = self._cursor(connection, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()


_PLAIN = frozenset({str, int})


def _inline_constants(statement: ClauseElement) -> ClauseElement:
    """The statement with its constant strings and integers (``kind = 'main'``) written into
    the SQL instead of bound. SQLite must re-prepare a statement on every run when a bound
    value decides whether a partial index applies (``WHERE kind = 'main'``); a constant in
    the text lets it prepare once."""

    def inline(element: Any, **_: Any) -> Any:
        if not isinstance(element, BindParameter) or element.required:
            return None
        value = element.value
        if isinstance(value, str):
            return literal_column("'" + value.replace("'", "''") + "'", element.type)
        if isinstance(value, int) and not isinstance(value, bool):
            return literal_column(str(value), element.type)
        return None

    traversible = cast(visitors.ExternallyTraversible, statement)
    return cast(ClauseElement, visitors.replacement_traverse(traversible, {}, inline))


def _bind(value: Any, sqlite: bool) -> Any:
    if value is None or type(value) in _PLAIN:
        return value
    if isinstance(value, datetime):
        moment = require_aware(value)
        return moment.replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else moment
    if isinstance(value, enum.Enum):
        return value.value
    return value


def to_utc_required(value: Any) -> datetime:
    """``to_utc`` of a column that is never NULL."""
    moment = to_utc(value)
    assert moment is not None
    return moment
