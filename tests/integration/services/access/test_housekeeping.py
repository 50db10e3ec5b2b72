"""Attempts and tokens are forgotten 30 days after they ended, on SQLite and PostgreSQL, and
not a day earlier: a token still valid, or one that expired last week, stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from saldo.bootstrap import Saldo
from saldo.domain.access import CODE_VALID_FOR, TokenKind
from saldo.services.access.account_lines import account_lines
from saldo.services.access.housekeeping import KEPT_AFTER_END, forget_old_access
from saldo.services.access.sign_in import NotSignedIn
from saldo.services.lines import NewLine, add_line
from tests.access import policy_of, signed_in_token
from tests.conftest import NOW

MOVISTAR = "+5491123456789"
PROXIMUS = "+32470123456"  # a line sold months later


def _count(saldo: Saldo, table: str) -> int:
    with saldo.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def test_what_ended_30_days_ago_is_forgotten_and_nothing_younger(saldo: Saldo) -> None:
    add_line(saldo.uow(), new_line=NewLine(msisdn=MOVISTAR, operator="movistar-ar"), now=NOW)
    old = signed_in_token(saldo, MOVISTAR, at=NOW)
    later = NOW + timedelta(days=200)
    add_line(saldo.uow(), new_line=NewLine(msisdn=PROXIMUS, operator="proximus-be"), now=later)
    young = signed_in_token(saldo, PROXIMUS, at=later)
    token_life = timedelta(days=saldo.settings.app_token_days)
    old_ended = NOW + token_life

    kept = saldo.run(forget_old_access, now=old_ended + KEPT_AFTER_END - timedelta(seconds=1))
    gone = saldo.run(
        forget_old_access, now=later + CODE_VALID_FOR + KEPT_AFTER_END + timedelta(seconds=1)
    )

    assert (kept.attempts, kept.tokens) == (1, 0)  # the first attempt, long over
    assert (gone.attempts, gone.tokens) == (1, 1)
    assert (_count(saldo, "sign_in_attempts"), _count(saldo, "access_tokens")) == (0, 1)
    policy = policy_of(saldo)
    assert account_lines(saldo.uow(), policy=policy, token=young, kind=TokenKind.APP, now=later)
    with pytest.raises(NotSignedIn):
        account_lines(saldo.uow(), policy=policy, token=old, kind=TokenKind.APP, now=later)
