"""Engines for SQLite (embedded default) and PostgreSQL (production).

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed top-up survives a power cut)
and foreign keys on. pysqlite's own transaction handling is switched off so that a writing
unit of work starts with ``BEGIN IMMEDIATE``: it takes the write lock first and waits for it
(``busy_timeout``), instead of failing later when two writers meet. Readers run each
statement in its own snapshot.

Units of work on SQLite run on connections their thread keeps open between them, one for
reads (``query_only``) and one for writes (``ThreadConnections``): taking a connection from
the pool and giving it back costs more than a balance read, and a tenth of a durable
top-up.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

WRITE = "saldo_write"


class KeptConnections:
    """An SQLite engine's connections kept per thread: ``readers`` and ``writers``."""

    def __init__(self, url: str, *, echo: bool) -> None:
        self.readers = ThreadConnections(url, echo=echo, configure=_configure_reader)
        self.writers = ThreadConnections(
            url, echo=echo, configure=_configure_writer, begin=_begin_immediate
        )

    def close(self) -> None:
        self.readers.close()
        self.writers.close()


_kept: weakref.WeakKeyDictionary[Engine, KeptConnections] = weakref.WeakKeyDictionary()


def kept_connections(engine: Engine) -> KeptConnections | None:
    """The connections kept per thread for an engine made by ``make_engine`` (SQLite on a
    file only; None otherwise)."""
    return _kept.get(engine)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``)."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo=echo)
    # No pre-ping: on loopback it is a whole round trip per checkout, as dear as the query.
    # Connections are recycled instead, and a dropped one is invalidated on its first error.
    return create_engine(url, echo=echo, pool_recycle=1800, pool_size=10, max_overflow=10)


def make_replica_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for a PostgreSQL streaming read replica (``SALDO_READ_DATABASE_URL``): its
    sessions are read-only (``default_transaction_read_only``), so a replica URL that names
    a primary by mistake still cannot be written through. Units of work read on it only in
    ``uow.reading(may_lag=True)`` (docs/scaling.md)."""
    return create_engine(
        url,
        echo=echo,
        pool_recycle=1800,
        pool_size=10,
        max_overflow=10,
        connect_args={"options": "-c default_transaction_read_only=on"},
    )


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    # No reset on return: with the driver in autocommit (no implicit BEGIN), a connection
    # comes back from a unit of work with no transaction open (a writer's is committed or
    # rolled back by the unit of work itself, which invalidates the connection when that
    # fails), so the pool's extra ROLLBACK would only cost.
    engine = create_engine(url, echo=echo, connect_args={"timeout": 30}, pool_reset_on_return=None)
    database = make_url(url).database
    in_memory = database in (None, "", ":memory:") or "mode=memory" in url

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        _configure(dbapi_connection, wal=not in_memory)

    if not in_memory:  # an in-memory database lives in one connection: no second one to keep
        kept = KeptConnections(url, echo=echo)
        _kept[engine] = kept
        event.listen(engine, "engine_disposed", lambda _engine: kept.close())

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Readers issue no BEGIN: in WAL mode each statement reads one consistent snapshot,
        # and every read on a hot path is a single statement. Writers lock first.
        if connection.get_execution_options().get(WRITE, False):
            _begin_immediate(connection)

    return engine


class ThreadConnections:
    """SQLite connections, one per thread, kept open between units of work.

    A balance read takes a few microseconds in SQLite; checking a connection out of the pool
    and back in took longer. So each thread keeps a connection of its own for reads, and one
    for writes, made outside the pool (a thread that keeps one cannot starve the others of
    theirs). A reader is ``query_only`` in driver autocommit: with WAL, each statement reads
    the latest committed snapshot, so a kept connection sees every commit. A writer starts
    each transaction with ``BEGIN IMMEDIATE``, as pooled ones do. ``acquire`` returns None
    while the thread's connection is in use (a read inside a read): the caller then takes
    one from the pool.

    Only its own thread ever touches a kept connection, so no lock is needed: ``close``
    (on ``engine.dispose()``) closes the calling thread's one and makes every other stale,
    to be closed by its thread on its next use, or when the thread ends.
    """

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        configure: Callable[[Any, Any], None],
        begin: Callable[[Connection], None] | None = None,
    ) -> None:
        # check_same_thread is off only because a thread's connection may be closed by the
        # garbage collector on another thread once the thread has ended.
        self._engine = create_engine(
            url,
            echo=echo,
            poolclass=NullPool,
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        event.listen(self._engine, "connect", configure)
        if begin is not None:
            event.listen(self._engine, "begin", begin)
        self._local = threading.local()
        self._generation = 0

    def acquire(self) -> Kept | None:
        """The thread's connection, marked in use; None while it is already in use."""
        kept: Kept | None = getattr(self._local, "kept", None)
        if kept is not None:
            if kept.busy:
                return None
            if kept.usable(self._generation):
                kept.busy = True
                return kept
            kept.close()
        kept = self._local.kept = Kept(self._engine.connect(), self._generation)
        kept.busy = True
        return kept

    def release(self, kept: Kept) -> None:
        """Give the connection back to its thread (its unit of work has ended its
        transaction); one made before ``close`` is closed now."""
        kept.busy = False
        if not kept.usable(self._generation):
            kept.close()

    def close(self) -> None:
        """Make every kept connection stale, and close the calling thread's if idle."""
        self._generation += 1
        kept: Kept | None = getattr(self._local, "kept", None)
        if kept is not None and not kept.busy:
            kept.close()


class Kept:
    """One thread's kept connection: ``busy`` while a unit of work holds it."""

    __slots__ = ("busy", "connection", "generation")

    def __init__(self, connection: Connection, generation: int) -> None:
        self.connection = connection
        self.generation = generation
        self.busy = False

    def usable(self, generation: int) -> bool:
        connection = self.connection
        return self.generation == generation and not (connection.invalidated or connection.closed)

    def close(self) -> None:
        self.connection.close()

    def __del__(self) -> None:  # the thread has ended, or its engine was dropped
        self.connection.close()


def _configure(dbapi_connection: Any, *, wal: bool) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    if wal:
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _configure_writer(dbapi_connection: Any, _record: Any) -> None:
    _configure(dbapi_connection, wal=True)


def _configure_reader(dbapi_connection: Any, _record: Any) -> None:
    _configure(dbapi_connection, wal=False)
    dbapi_connection.execute("PRAGMA query_only=ON")


def _begin_immediate(connection: Connection) -> None:
    cursor = connection.connection.cursor()
    cursor.execute("BEGIN IMMEDIATE")
    cursor.close()
