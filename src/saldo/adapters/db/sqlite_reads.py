"""A balance read on an SQLite file through the standard library's driver, without SQLAlchemy.

``saldo balance`` is run by scripts, often; importing SQLAlchemy and defining Saldo's tables
cost it more than everything else it does (docs/performance.md, "CLI start"). On an SQLite
file it reads the line with its buckets here instead: the same statement the line repository
prepares (``WITH_BUCKETS_SQL`` is the text SQLAlchemy compiles it to, and a test keeps the
two equal), on a connection set up as the engine sets up its readers (``query_only``, the
same busy timeout, no BEGIN: one statement reads one snapshot), its rows made into lines,
buckets and operators by the same code (``saldo.adapters.db.rows``, ``operator_cache``).

Only what a balance inquiry asks of a unit of work is here (``BalanceReads``): the use cases
that write, and every read on PostgreSQL, go through SQLAlchemy's unit of work.
"""

from __future__ import annotations

import json
import sqlite3
from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from saldo.adapters.db.operator_cache import built_operator, known_operator
from saldo.adapters.db.rows import buckets_of, line_of, stored_utc
from saldo.services.ports import LineWithBuckets

# The line repository's _WITH_BUCKETS (unscoped), as SQLAlchemy compiles it for SQLite, and
# the names of its columns (tests/integration/adapters/db/test_sqlite_reads.py).
WITH_BUCKETS_SQL = (
    "SELECT lines.id, lines.operator_id, lines.msisdn, lines.iccid, lines.sim_kind, "
    "lines.language, lines.state, lines.activated_at, lines.valid_until, lines.email, "
    "lines.email_verified_at, lines.low_balance_threshold, lines.reminder_days, "
    "operators.spec_hash, "
    "accounts.id AS bucket_id, accounts.kind AS bucket_kind, accounts.unit, accounts.balance, "
    "accounts.expires_at \n"
    "FROM lines JOIN operators ON operators.id = lines.operator_id "
    "LEFT OUTER JOIN accounts ON accounts.line_id = lines.id \n"
    "WHERE lines.id = (SELECT max(lines.id) AS max_1 \n"
    "FROM lines \n"
    "WHERE lines.msisdn = ?) ORDER BY accounts.id"
)
WITH_BUCKETS_COLUMNS = (
    *("id", "operator_id", "msisdn", "iccid", "sim_kind", "language", "state"),
    *("activated_at", "valid_until", "email", "email_verified_at"),
    *("low_balance_threshold", "reminder_days"),
    *("spec_hash", "bucket_id", "bucket_kind", "unit", "balance", "expires_at"),
)
_Row = namedtuple("_Row", WITH_BUCKETS_COLUMNS)  # type: ignore[misc]  # names from a tuple
# The TZDateTime columns: stored as naive UTC text, read as aware UTC datetimes.
_MOMENTS = tuple(
    WITH_BUCKETS_COLUMNS.index(name)
    for name in ("activated_at", "valid_until", "email_verified_at", "expires_at")
)
_SPEC_SQL = "SELECT operators.spec \nFROM operators \nWHERE operators.id = ?"
_VERSION_SQL = "SELECT version_num FROM alembic_version"
_VERSION_TABLE_SQL = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"


def sqlite_file(url: str) -> str | None:
    """The file of an ``sqlite:///FILE`` URL written plainly (no query, no escapes), as
    SQLAlchemy reads it; None for any other URL (PostgreSQL, in memory, with options), which
    is then left to SQLAlchemy."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    file = url.removeprefix(prefix)
    if not file or file == ":memory:" or any(mark in file for mark in "?#%"):
        return None
    return file


class SqliteLineReads:
    """The line reads of a balance inquiry, on one open connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def get_with_buckets(self, msisdn: str) -> LineWithBuckets | None:
        found = self._connection.execute(WITH_BUCKETS_SQL, (msisdn,)).fetchall()
        if not found:
            return None
        rows = [_row(values) for values in found]
        line = line_of(rows[0])
        spec_hash = rows[0].spec_hash
        operator = known_operator(line.operator_id, spec_hash)
        if operator is None:
            (stored,) = self._connection.execute(_SPEC_SQL, (line.operator_id,)).fetchone()
            operator = built_operator(line.operator_id, spec_hash, json.loads(stored))
        return LineWithBuckets(line=line, operator=operator, buckets=buckets_of(rows))


class SqliteReader:
    """Reads of one SQLite file (``BalanceReads``): ``with reader.reading():`` opens a
    connection for the block's reads and closes it after."""

    def __init__(self, file: str) -> None:
        self._file = file
        self._lines: SqliteLineReads | None = None

    @property
    def lines(self) -> SqliteLineReads:
        if self._lines is None:
            raise RuntimeError("read inside `with reader.reading():`")
        return self._lines

    @contextmanager
    def reading(self) -> Iterator[SqliteReader]:
        if self._lines is not None:
            raise RuntimeError("this reader is already open")
        connection = connect_reader(self._file)
        try:
            self._lines = SqliteLineReads(connection)
            yield self
        finally:
            self._lines = None
            connection.close()

    def is_up_to_date(self, newest_revision: str) -> bool:
        """Whether the database's schema is at ``newest_revision`` (what the engine's
        ``is_up_to_date`` checks, in the same one query)."""
        connection = connect_reader(self._file)
        try:
            if connection.execute(_VERSION_TABLE_SQL).fetchone() is None:
                return False
            versions = connection.execute(_VERSION_SQL).fetchall()
        finally:
            connection.close()
        return [version for (version,) in versions] == [newest_revision]


def connect_reader(file: str) -> sqlite3.Connection:
    """A connection to ``file`` set up as the engine's kept readers are: in autocommit (each
    statement reads the latest committed snapshot), waiting up to 30 s for a lock, and
    unable to write."""
    connection = sqlite3.connect(Path(file), timeout=30, isolation_level=None)
    connection.execute("PRAGMA busy_timeout=30000")
    connection.execute("PRAGMA query_only=ON")
    return connection


def _row(values: tuple[Any, ...]) -> Any:
    converted = list(values)
    for position in _MOMENTS:
        converted[position] = stored_utc(converted[position])
    return _Row._make(converted)
