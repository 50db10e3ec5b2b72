"""Migration 0016 (whether a line's email was proven, a refused account request's answer) goes
down to 0015 and up again on SQLite and PostgreSQL, keeping the lines and their emails; going
up, an email a used code attempt went to is marked proven, one the CLI set is not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text

import saldo.adapters.db.migrate as migrate
from saldo.adapters.db.migrate import pending_revisions, upgrade
from saldo.bootstrap import Saldo
from saldo.domain.access import TokenKind
from saldo.services.access.line_email import confirm_email, request_email_code
from saldo.services.lines import NewLine, add_line, set_line_email
from tests.access import ADDRESS, policy_of, signed_in_token
from tests.conftest import NOW

PROXIMUS = "+32470123456"  # its email proven by a code
MOVISTAR = "+5491123456789"  # its email set by the CLI


@pytest.fixture
def migrated(saldo: Saldo) -> Iterator[Saldo]:
    """Saldo with a line whose email a code proved and one whose email the CLI set; left at
    the newest revision whatever the test does."""
    add_line(saldo.uow(), new_line=NewLine(msisdn=PROXIMUS, operator="proximus-be"), now=NOW)
    add_line(saldo.uow(), new_line=NewLine(msisdn=MOVISTAR, operator="movistar-ar"), now=NOW)
    token, policy = signed_in_token(saldo, PROXIMUS, at=NOW), policy_of(saldo)
    request_email_code(
        saldo.uow(), policy=policy, token=token, kind=TokenKind.APP, msisdn=PROXIMUS,
        email="an@example.be", address=ADDRESS, now=NOW, draw=lambda: "135790",
    )  # fmt: skip
    confirm_email(
        saldo.uow(), policy=policy, token=token, kind=TokenKind.APP, msisdn=PROXIMUS,
        code="135790", now=NOW,
    )  # fmt: skip
    set_line_email(saldo.uow(), msisdn=MOVISTAR, email="ana@example.org")
    yield saldo
    upgrade(saldo.engine)


def emails(saldo: Saldo) -> list[tuple[str, str | None, bool]]:
    with saldo.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT msisdn, email, email_verified_at FROM lines ORDER BY msisdn")
        )
        return [(row.msisdn, row.email, row.email_verified_at is not None) for row in rows]


def test_0016_goes_down_and_up_again_and_marks_only_a_proven_email(migrated: Saldo) -> None:
    before = emails(migrated)
    migrate.downgrade(migrated.engine, revision="0015")
    with migrated.engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("lines")}
        requests = {c["name"] for c in inspect(connection).get_columns("account_requests")}
        kept = sorted(
            tuple(row) for row in connection.execute(text("SELECT msisdn, email FROM lines"))
        )
    upgrade(migrated.engine)

    assert before == [(PROXIMUS, "an@example.be", True), (MOVISTAR, "ana@example.org", False)]
    assert "email_verified_at" not in columns and "refusal" not in requests
    assert kept == [(PROXIMUS, "an@example.be"), (MOVISTAR, "ana@example.org")]
    assert emails(migrated) == before
    assert pending_revisions(migrated.engine) == []
