"""``saldo balance`` reads an SQLite file on the standard library's driver
(saldo.adapters.db.sqlite_reads, through saldo.bootstrap.Reader): the same statement as the
line repository, and the same answer as a balance inquiry through SQLAlchemy, on SQLite; on
PostgreSQL the reader goes through SQLAlchemy itself."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import make_url

from saldo.adapters.db import operator_cache
from saldo.adapters.db.migrate import newest_revision
from saldo.adapters.db.repositories.lines import _WITH_BUCKETS, WITH_BUCKETS_COLUMNS
from saldo.adapters.db.sqlite_reads import (
    WITH_BUCKETS_COLUMNS as READ_COLUMNS,
)
from saldo.adapters.db.sqlite_reads import (
    WITH_BUCKETS_SQL,
    sqlite_file,
)
from saldo.bootstrap import DatabaseNotReady, Reader, Saldo
from saldo.domain.buckets import BucketKind
from saldo.services.adjust_balance import adjust_as_typed
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import LineNotFound, NewLine, add_line


def _reader(saldo: Saldo) -> Reader:
    return Reader(
        database_url=saldo.settings.database_url,
        clock=saldo.clock,
        settings=lambda: saldo.settings,
    )


def test_the_reader_runs_the_statement_the_line_repository_prepares(saldo_sqlite: Saldo) -> None:
    # given SQLite's dialect, as the engine has it
    dialect = saldo_sqlite.engine.dialect

    # when the line repository's unscoped read of a line with its buckets is compiled for it
    sql, order, fixed = _WITH_BUCKETS[False]._for(dialect)

    # then it is the text the reader runs, with the one parameter, and the same columns
    assert sql == WITH_BUCKETS_SQL
    assert (order, fixed) == (("msisdn",), {})
    assert tuple(str(column.key) for column in WITH_BUCKETS_COLUMNS) == READ_COLUMNS


def test_a_balance_read_by_the_reader_is_the_one_read_through_sqlalchemy(saldo: Saldo) -> None:
    # given a line with its main balance and a bonus bucket that expires
    now = saldo.clock.now()
    add_line(saldo.uow(), new_line=NewLine(msisdn="+573001234567", operator="claro-co"), now=now)
    saldo.run(
        adjust_as_typed,
        msisdn="+573001234567",
        kind=BucketKind.BONUS,
        amount="2.500",
        debit=False,
        reason="goodwill",
        actor="ana",
        idempotency_key="bonus-1",
        now=now,
        expires_on=date(2027, 12, 31),
    )

    # when the reader and the whole Saldo inquire its balance
    read = _reader(saldo).run(inquire_balance, msisdn="+573001234567", now=now)
    through_sqlalchemy = saldo.run(inquire_balance, msisdn="+573001234567", now=now)

    # then they answer alike, expiry and validity included
    assert read == through_sqlalchemy
    assert [bucket.kind for bucket in read.buckets] == [BucketKind.MAIN, BucketKind.BONUS]
    assert read.buckets[1].expires_at is not None
    assert read.buckets[1].expires_at.tzinfo is not None


def test_an_unknown_number_is_not_found_by_the_reader(saldo: Saldo) -> None:
    with pytest.raises(LineNotFound):
        _reader(saldo).run(inquire_balance, msisdn="+573009999999", now=saldo.clock.now())


def test_the_reader_builds_an_operator_that_was_not_kept(
    saldo_sqlite: Saldo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a line, and no operator built in this process or kept on disk
    now = saldo_sqlite.clock.now()
    add_line(
        saldo_sqlite.uow(), new_line=NewLine(msisdn="+573001234567", operator="claro-co"), now=now
    )
    monkeypatch.setattr(operator_cache, "_built", {})
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))

    # when the reader inquires its balance
    view = _reader(saldo_sqlite).run(inquire_balance, msisdn="+573001234567", now=now)

    # then it built the operator from its stored catalog entry, and kept it
    assert (view.operator, view.operator_name, view.locale) == ("claro-co", "Claro", "es_CO")
    assert len(list((tmp_path / "empty-cache" / "saldo" / "operators").iterdir())) == 1


def test_the_reader_finds_an_up_to_date_schema_and_says_what_else_the_database_needs(
    saldo_sqlite: Saldo, tmp_path: Path
) -> None:
    # given the migrated database, a missing one, and a copy of it two migrations behind
    behind = tmp_path / "behind.db"
    source, copy = sqlite3.connect(saldo_sqlite.engine.url.database or ""), sqlite3.connect(behind)
    source.backup(copy)
    newest = int(newest_revision())
    copy.execute("UPDATE alembic_version SET version_num = ?", (f"{newest - 2:04d}",))
    copy.commit()
    source.close()
    copy.close()

    def reader_of(file: Path) -> Reader:
        url = f"sqlite:///{file}"
        settings = saldo_sqlite.settings.model_copy(update={"database_url": url})
        return Reader(database_url=url, clock=saldo_sqlite.clock, settings=lambda: settings)

    # when each is checked, then the migrated one passes, and the others get the whole
    # Saldo's own words
    _reader(saldo_sqlite).check_schema()
    with pytest.raises(DatabaseNotReady, match="no database at"):
        reader_of(tmp_path / "none.db").check_schema()
    late = reader_of(behind)
    try:
        with pytest.raises(DatabaseNotReady, match=r"the database needs 2 migration"):
            late.check_schema()
    finally:
        late.close()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///./saldo.db",
        "sqlite:///saldo.db",
        "sqlite:////var/lib/saldo/saldo.db",
        "sqlite:///relative/dir/x.db",
    ],
)
def test_a_plain_sqlite_url_names_the_file_sqlalchemy_would_open(url: str) -> None:
    assert sqlite_file(url) == make_url(url).database


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file.db?mode=ro",
        "sqlite:///with%20space.db",
        "sqlite+pysqlite:///saldo.db",
        "postgresql+psycopg://saldo@127.0.0.1/saldo",
    ],
)
def test_any_other_url_is_left_to_sqlalchemy(url: str) -> None:
    assert sqlite_file(url) is None
