"""Prepared statements (``adapters/db/prepared.py``) run on the driver's cursor, beside
SQLAlchemy: what they read must read as SQLAlchemy's own rows do, columns by name,
datetimes as aware UTC through the column type's one conversion and booleans as bools, on
both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Boolean, Engine, bindparam, cast, false, insert, null, select, true
from sqlalchemy.engine import Connection

from saldo.adapters.db import tables as t
from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.prepared import Prepared

RAN_AT = datetime(2026, 11, 22, 15, 0, 0, 123456, tzinfo=UTC)
BOGOTA = timezone(timedelta(hours=-5))

_LAST_RUN = Prepared(
    select(t.job_runs.c.job, t.job_runs.c.last_run_at).where(t.job_runs.c.job == bindparam("job"))
)
_RAN_AT = Prepared(select(t.job_runs.c.last_run_at).where(t.job_runs.c.job == bindparam("job")))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # The driver then returns datetimes in Bogotá's offset: they must still read as UTC.
            connection.exec_driver_sql("SET TIME ZONE 'America/Bogota'")
        connection.execute(
            insert(t.job_runs).values(job="sweep", last_run_at=RAN_AT.astimezone(BOGOTA))
        )
        yield connection
        connection.rollback()


def test_a_prepared_row_reads_its_columns_by_name_and_its_datetimes_as_aware_utc(
    connection: Connection,
) -> None:
    row = _LAST_RUN.first(connection, job="sweep")

    assert row.job == "sweep"
    assert row.last_run_at == RAN_AT
    assert row.last_run_at.tzinfo is UTC


def test_a_prepared_read_and_a_sqlalchemy_read_of_a_datetime_are_the_same_value(
    connection: Connection,
) -> None:
    prepared = _RAN_AT.scalar(connection, job="sweep")
    through_sqlalchemy = connection.execute(
        select(t.job_runs.c.last_run_at).where(t.job_runs.c.job == "sweep")
    ).scalar_one()

    assert (prepared, prepared.tzinfo) == (through_sqlalchemy, through_sqlalchemy.tzinfo)
    assert prepared == RAN_AT and prepared.tzinfo is UTC


def test_prepared_rows_are_all_read_by_name_and_none_when_nothing_matches(
    connection: Connection,
) -> None:
    assert [row.job for row in _LAST_RUN.rows(connection, job="sweep")] == ["sweep"]
    assert _LAST_RUN.rows(connection, job="renewals") == []
    assert _LAST_RUN.first(connection, job="renewals") is None
    assert _RAN_AT.scalar(connection, job="renewals") is None


def test_two_columns_of_one_name_must_be_labelled_to_be_prepared() -> None:
    with pytest.raises(ValueError, match="duplicate field name: 'id'"):
        Prepared(select(t.lines.c.id, t.accounts.c.id))


def test_a_prepared_boolean_reads_as_a_bool_as_through_sqlalchemy(connection: Connection) -> None:
    # SQLite keeps booleans as 0 and 1; a prepared row reads them as SQLAlchemy does.
    truths = select(
        true().label("yes"), false().label("no"), cast(null(), Boolean).label("unknown")
    )

    row = Prepared(truths).first(connection)

    assert (row.yes, row.no, row.unknown) == (True, False, None)
    assert type(row.yes) is bool and type(row.no) is bool
    assert (row.yes, row.no, row.unknown) == tuple(connection.execute(truths).one())


def test_a_column_the_driver_returns_unconverted_cannot_be_read_prepared(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    hits = Prepared(select(t.rate_limits.c.hits))  # JSON: SQLite keeps it as text
    try:
        with engine.connect() as connection, pytest.raises(TypeError, match="hits"):
            hits.rows(connection)
    finally:
        engine.dispose()
