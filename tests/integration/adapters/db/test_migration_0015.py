"""Migration 0015 (codes that prove an email, accounts' calendar feeds) goes down to 0014 and
up again on SQLite and PostgreSQL, keeping the lines and the other sign-in attempts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text

import saldo.adapters.db.migrate as migrate
from saldo.adapters.db.migrate import pending_revisions, upgrade
from saldo.bootstrap import Saldo
from saldo.domain.access import TokenKind
from saldo.services.access.calendar import new_calendar_link
from saldo.services.access.line_email import request_email_code
from saldo.services.lines import NewLine, add_line
from tests.access import ADDRESS, policy_of, signed_in_token
from tests.conftest import NOW

PROXIMUS = "+32470123456"


@pytest.fixture
def migrated(saldo: Saldo) -> Iterator[Saldo]:
    """Saldo with a Proximus line signed in, an email code asked for it and a calendar feed;
    left at the newest revision whatever the test does."""
    add_line(saldo.uow(), new_line=NewLine(msisdn=PROXIMUS, operator="proximus-be"), now=NOW)
    token = signed_in_token(saldo, PROXIMUS, at=NOW)
    policy = policy_of(saldo)
    request_email_code(
        saldo.uow(), policy=policy, token=token, kind=TokenKind.APP, msisdn=PROXIMUS,
        email="an@example.be", address=ADDRESS, now=NOW,
    )  # fmt: skip
    new_calendar_link(saldo.uow(), policy=policy, token=token, kind=TokenKind.APP, now=NOW)
    yield saldo
    upgrade(saldo.engine)


def downgrade(saldo: Saldo, revision: str) -> None:
    migrate.downgrade(saldo.engine, revision=revision)


def test_0015_goes_down_and_up_again_keeping_the_lines_and_sign_in_attempts(
    migrated: Saldo,
) -> None:
    downgrade(migrated, "0014")
    with migrated.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        columns = {c["name"] for c in inspect(connection).get_columns("sign_in_attempts")}
        purposes = connection.execute(text("SELECT purpose FROM sign_in_attempts")).scalars()
        kept = sorted(purposes)
        lines = connection.execute(text("SELECT COUNT(*) FROM lines")).scalar()
    upgrade(migrated.engine)

    assert "calendar_feeds" not in tables
    assert "email" not in columns
    assert kept == ["sign_in"]
    assert lines == 1
    assert pending_revisions(migrated.engine) == []
