"""The migrations build exactly the schema the code declares, and the ledger refuses to be
rewritten, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.migrate import pending_revisions, upgrade
from saldo.adapters.db.tables import metadata
from saldo.bootstrap import DatabaseNotReady, Saldo
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up


def test_the_migrations_match_the_declared_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert differences == []


def test_upgrading_twice_changes_nothing(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    assert pending_revisions(engine) == []
    engine.dispose()


def test_a_fresh_database_is_reported_as_not_ready(tmp_path: object) -> None:
    from saldo.config import Settings

    url = f"sqlite:///{tmp_path}/empty.db"
    saldo = Saldo(settings=Settings(database_url=url), engine=make_engine(url))
    with pytest.raises(DatabaseNotReady, match="saldo db upgrade"):
        saldo.check_schema()
    saldo.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET amount = amount + 1",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET memo = 'rewritten'",
        "DELETE FROM ledger_transactions",
    ],
)
def test_the_ledger_is_append_only(saldo: Saldo, statement: str) -> None:
    add_line(
        saldo.uow(),
        new_line=NewLine(msisdn="+573001234567", operator="claro-co"),
        now=saldo.clock.now(),
    )
    top_up(
        saldo.uow(),
        msisdn="+573001234567",
        amount=Money.of("5000", "COP"),
        channel=Channel.CLI,
        idempotency_key="k",
        now=saldo.clock.now(),
    )

    with pytest.raises(DBAPIError, match="append-only"), saldo.engine.begin() as connection:
        connection.execute(text(statement))


def test_datetimes_come_back_aware_in_utc(saldo: Saldo) -> None:
    line = add_line(
        saldo.uow(),
        new_line=NewLine(msisdn="+573001234567", operator="claro-co"),
        now=saldo.clock.now(),
    )
    with saldo.uow().reading() as uow:
        stored = uow.lines.get_by_msisdn(line.msisdn)
    assert stored is not None
    assert stored.line.activated_at == saldo.clock.now()
    assert stored.line.activated_at.utcoffset() is not None
    assert stored.line.valid_until == line.valid_until
