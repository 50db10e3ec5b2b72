"""``saldo db backup``: a consistent copy of an SQLite database, taken while Saldo runs.

Copying ``saldo.db`` with ``cp`` while a server or worker has it open copies only what was
checkpointed: with write-ahead logging the newest transactions (and, for a young database,
the whole schema) are still in ``saldo.db-wal``. SQLite's online backup API reads the
database as one transaction sees it, WAL included, and writes a complete file.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from saldo.domain.errors import SaldoError


class UnableToBackUp(SaldoError):
    """No backup was written: the database is not an SQLite file, there is no database, or
    the copy cannot go where asked."""

    code = "unable_to_back_up"


PG_DUMP_GUIDANCE = (
    "saldo db backup copies SQLite databases; for PostgreSQL use pg_dump, e.g. "
    'pg_dump --format=custom --file saldo.dump "$SALDO_DATABASE_URL" (without +psycopg)'
)


def back_up_sqlite(*, source: Path, target: Path, new_installation: bool = False) -> int:
    """Write a consistent copy of the SQLite database ``source`` to ``target`` (a new file)
    and return its size in bytes. Committed transactions still in the write-ahead log are
    in the copy; a transaction open elsewhere is not. The copy is written beside ``target``
    first and renamed, so a failure leaves nothing behind. With ``new_installation`` the copy
    forgets the installation id (it makes its own the first time it pays), so a staging copy
    never sends a payment processor the keys of the installation it was copied from.

    Raises UnableToBackUp when ``source`` does not exist, ``target`` already exists or its
    folder cannot take it."""
    if not source.is_file():
        raise UnableToBackUp(f"no database at {source}: nothing to back up")
    if target.exists():
        raise UnableToBackUp(f"{target} already exists: choose a new file name")
    if target.resolve() == source.resolve():
        raise UnableToBackUp("the backup cannot be the database itself")
    partial = target.with_name(f".{target.name}.partial")
    try:
        with (
            closing(sqlite3.connect(source)) as reading,
            closing(sqlite3.connect(partial)) as writing,
        ):
            reading.backup(writing)
            if new_installation:
                with writing:
                    writing.execute("DELETE FROM installation")
            # One self-contained file: the copy keeps no write-ahead log of its own.
            writing.execute("PRAGMA journal_mode=DELETE")
        os.replace(partial, target)
    except (sqlite3.Error, OSError) as error:
        partial.unlink(missing_ok=True)
        raise UnableToBackUp(f"cannot write a backup to {target}: {error}") from None
    return target.stat().st_size
