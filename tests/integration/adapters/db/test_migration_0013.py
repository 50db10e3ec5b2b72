"""Migration 0013 (card top-ups' payments, accounts' request keys, a line's reminder days) goes
down to 0012 and up again on SQLite and PostgreSQL while no top-up payment is kept, and
refuses to go down while one is."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text

import saldo.adapters.db.migrate as migrate
from saldo.adapters.db.migrate import pending_revisions, upgrade
from saldo.bootstrap import Saldo
from saldo.domain.access import TokenKind
from saldo.services.access.line_topups import top_up_by_card
from saldo.services.lines import NewLine, add_line
from tests.access import policy_of, signed_in_token
from tests.conftest import NOW

MOVISTAR = "+5491123456789"


@pytest.fixture
def migrated(saldo: Saldo) -> Iterator[Saldo]:
    """Saldo with a Movistar line; left at the newest revision whatever the test does."""
    add_line(saldo.uow(), new_line=NewLine(msisdn=MOVISTAR, operator="movistar-ar"), now=NOW)
    yield saldo
    upgrade(saldo.engine)


def downgrade(saldo: Saldo, revision: str) -> None:
    migrate.downgrade(saldo.engine, revision=revision)


def test_0013_goes_down_and_up_again_keeping_the_lines(migrated: Saldo) -> None:
    downgrade(migrated, "0012")
    with migrated.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        columns = {column["name"] for column in inspect(connection).get_columns("lines")}
        kept = connection.execute(text("SELECT COUNT(*) FROM lines")).scalar()
    upgrade(migrated.engine)

    assert "account_requests" not in tables
    assert "reminder_days" not in columns
    assert kept == 1
    assert pending_revisions(migrated.engine) == []


def test_0013_does_not_go_down_while_a_top_up_payment_is_kept(migrated: Saldo) -> None:
    token = signed_in_token(migrated, MOVISTAR, at=NOW)
    migrated.run_paying(
        top_up_by_card, policy=policy_of(migrated), token=token, kind=TokenKind.APP,
        msisdn=MOVISTAR, amount="2000", currency=None, provider=None, card_token="tok_approve",
        idempotency_key="t-1", now=NOW,
    )  # fmt: skip

    with pytest.raises(RuntimeError, match="top-up payments"):
        downgrade(migrated, "0012")
    assert pending_revisions(migrated.engine) == []
