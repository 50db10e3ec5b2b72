"""Prepared statements for the hot paths (top-up, balance inquiry).

A SQLAlchemy Core statement is compiled once per dialect and then run straight on the DBAPI
cursor of the unit of work's connection: no per-call compilation, execution events or result
wrapping. What SQLAlchemy's column types would do is done here, for the types the hot paths
bind and read: aware datetimes (stored as UTC; on SQLite as naive ``YYYY-MM-DD
HH:MM:SS.ffffff`` text, exactly as SQLAlchemy's own DateTime type writes it, and read back
by ``TZDateTime``'s own conversion), booleans (SQLite's 0 and 1) and enums. A row comes back
as a named tuple of the statement's columns. PostgreSQL (psycopg 3) also prepares these
statements on the server after a few runs.
"""

from __future__ import annotations

import collections
import enum
import functools
import operator
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Boolean, ColumnElement, literal_column
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement, visitors
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import ReturnsRows

from saldo.adapters.db.rows import stored_utc
from saldo.adapters.db.types import TZDateTime
from saldo.domain.periods import require_aware


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
    """One statement, compiled lazily for each dialect it meets. Its rows are named tuples of
    its columns, read by name (``row.valid_until``): a ``TZDateTime`` column reads as an aware
    UTC datetime and a ``Boolean`` one as a bool, as in SQLAlchemy's own rows."""

    def __init__(self, statement: ClauseElement) -> None:
        self._statement = _inline_constants(statement)
        self._columns: Sequence[ColumnElement[Any]] = (
            tuple(statement.exported_columns) if isinstance(statement, ReturnsRows) else ()
        )
        self._row = _row_maker(self._columns) if self._columns else None
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}

    def _for(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        found = self._compiled.get(dialect.name)
        if found is None:
            _refuse_unconverted(self._columns, dialect)
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

    def rows(self, connection: Connection, **params: Any) -> list[Any]:
        """Every row, each a named tuple of the statement's columns."""
        assert self._row is not None, "only a statement that names its columns has rows"
        cursor = self._cursor(connection, params)
        try:
            return list(map(self._row, cursor.fetchall()))
        finally:
            cursor.close()

    def first(self, connection: Connection, **params: Any) -> Any:
        """The first row, a named tuple of the statement's columns; None without rows."""
        assert self._row is not None, "only a statement that names its columns has rows"
        cursor = self._cursor(connection, params)
        try:
            row = cursor.fetchone()
            return None if row is None else self._row(row)
        finally:
            cursor.close()

    def scalar(self, connection: Connection, **params: Any) -> Any:
        """The first row's first (most often only) value; None without rows."""
        cursor = self._cursor(connection, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        if self._row is None:
            return row[0]
        return getattr(self._row(row), str(self._columns[0].key))

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


def _row_maker(columns: Sequence[ColumnElement[Any]]) -> Callable[[Sequence[Any]], Any]:
    """What makes a driver's row into a named tuple of ``columns``. A ``TZDateTime`` column
    reads as an aware UTC datetime (``stored_utc``, the column type's own conversion), a
    ``Boolean`` one as a bool (SQLite stores 0 and 1), when it is read by name; by position
    it is the driver's value."""
    # namedtuple refuses a name given twice: such columns are labelled (``accounts.id``
    # beside ``lines.id`` is ``main_bucket_id``).
    keys = [str(column.key) for column in columns]
    named = cast(Any, collections.namedtuple)("Row", keys)
    moments = {
        keys[n]: _moment(n) if isinstance(column.type, TZDateTime) else _truth(n)
        for n, column in enumerate(columns)
        if isinstance(column.type, TZDateTime | Boolean)
    }
    if moments:
        # Converted when read rather than when the row is made: a line read with its
        # buckets repeats the line's datetimes in every bucket's row, and reads them once.
        named = type("Row", (named,), {"__slots__": (), **moments})
    return functools.partial(tuple.__new__, named)  # the driver's row as it is, unchecked


def _moment(position: int) -> property:
    stored = operator.itemgetter(position)
    return property(lambda row: stored_utc(stored(row)))


def _truth(position: int) -> property:
    stored = operator.itemgetter(position)
    return property(lambda row: None if (value := stored(row)) is None else bool(value))


def _refuse_unconverted(columns: Sequence[ColumnElement[Any]], dialect: Dialect) -> None:
    """Refuses a statement that reads a column SQLAlchemy would convert on this database
    (JSON, a Numeric), other than a ``TZDateTime`` or a ``Boolean``: prepared rows would hold
    the driver's raw value."""
    for column in columns:
        if isinstance(column.type, TZDateTime | Boolean):
            continue
        if column.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
            raise TypeError(f"a prepared statement cannot read {column.key} ({column.type})")


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
