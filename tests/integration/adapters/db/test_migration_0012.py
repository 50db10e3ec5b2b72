"""Migration 0012 (subscribers' access) goes down to 0011 and up again on SQLite and
PostgreSQL, keeping the outbox's messages; after it, signing in works as before."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text

import saldo.adapters.db.migrate as migrate
from saldo.adapters.db.migrate import pending_revisions, upgrade
from saldo.bootstrap import Saldo
from saldo.services.lines import NewLine, add_line
from saldo.services.outbox import outbox_messages
from tests.access import signed_in_token
from tests.conftest import NOW
from tests.integration.services.access.test_sign_in import MOVISTAR, ask, lines_seen

ACCESS_TABLES = {
    "subscriber_accounts",
    "account_lines",
    "sign_in_attempts",
    "access_tokens",
    "rate_limits",
}


@pytest.fixture
def migrated(saldo: Saldo) -> Iterator[Saldo]:
    """Saldo with a Movistar line; left at the newest revision whatever the test does."""
    add_line(saldo.uow(), new_line=NewLine(msisdn=MOVISTAR, operator="movistar-ar"), now=NOW)
    yield saldo
    upgrade(saldo.engine)


def downgrade(saldo: Saldo, revision: str) -> None:
    migrate.downgrade(saldo.engine, revision=revision)


def test_0012_goes_down_and_up_again_keeping_the_outbox(migrated: Saldo) -> None:
    ask(migrated, MOVISTAR)

    downgrade(migrated, "0011")
    with migrated.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        columns = {column["name"] for column in inspect(connection).get_columns("outbox")}
        kept = connection.execute(text("SELECT COUNT(*) FROM outbox")).scalar()
    upgrade(migrated.engine)

    assert not tables & ACCESS_TABLES
    assert "secret" not in columns
    assert kept == 1
    assert pending_revisions(migrated.engine) == []
    [message] = outbox_messages(migrated.uow(), state=None, limit=10)
    assert message.secret is None  # the code went down with the column


def test_signing_in_works_after_going_down_and_up_again(migrated: Saldo) -> None:
    downgrade(migrated, "0011")
    upgrade(migrated.engine)

    token = signed_in_token(migrated, MOVISTAR, at=NOW)

    assert lines_seen(migrated, token) == [MOVISTAR]
