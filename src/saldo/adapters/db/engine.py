"""Engines for SQLite (embedded default) and PostgreSQL (production).

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed top-up survives a power cut)
and foreign keys on. pysqlite's own transaction handling is switched off so that a writing
unit of work starts with ``BEGIN IMMEDIATE``: it takes the write lock first and waits for it
(``busy_timeout``), instead of failing later when two writers meet. Readers run each
statement in its own snapshot.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection

WRITE = "saldo_write"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``)."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo=echo)
    # No pre-ping: on loopback it is a whole round trip per checkout, as dear as the query.
    # Connections are recycled instead, and a dropped one is invalidated on its first error.
    return create_engine(url, echo=echo, pool_recycle=1800, pool_size=10, max_overflow=10)


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    # No reset on return: with the driver in autocommit (no implicit BEGIN), a connection
    # comes back from a unit of work with no transaction open (a writer's is committed or
    # rolled back by the unit of work itself), so the pool's extra ROLLBACK would only cost.
    engine = create_engine(url, echo=echo, connect_args={"timeout": 30}, pool_reset_on_return=None)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if ":memory:" not in url and "mode=memory" not in url:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Readers issue no BEGIN: in WAL mode each statement reads one consistent snapshot,
        # and every read on a hot path is a single statement. Writers lock first.
        if connection.get_execution_options().get(WRITE, False):
            cursor = connection.connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            cursor.close()

    return engine
