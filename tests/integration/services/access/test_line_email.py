"""A line's email proven by a code, on SQLite and PostgreSQL: the code goes by email to the
address typed, in the line's language, and is not readable in the outbox once sent; the
address is the line's only once the code is typed; the code expires after ten minutes,
dies after five wrong tries and is bound to the line it was asked for."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from saldo.adapters.email.fake import FakeMailer
from saldo.bootstrap import Saldo
from saldo.channels.notifications import notification_renderer
from saldo.domain.access import CodeExpired, NoCodeAsked, TokenKind, TooManyTries, WrongCode
from saldo.services.access.line_email import confirm_email, request_email_code
from saldo.services.access.policy import AccessPolicy
from saldo.services.lines import NewLine, add_line, line_record
from saldo.services.outbox import Senders, deliver_outbox
from tests.access import ADDRESS, policy_of, signed_in_token
from tests.conftest import NOW

PROXIMUS = "+32470123456"
MOVISTAR = "+5491123456789"
EMAIL = "an.peeters@example.be"


@pytest.fixture
def token(saldo: Saldo) -> str:
    """A token for the account holding a Dutch-speaking Proximus line."""
    add_line(
        saldo.uow(),
        new_line=NewLine(msisdn=PROXIMUS, operator="proximus-be", language="nl"),
        now=NOW,
    )
    return signed_in_token(saldo, PROXIMUS, at=NOW)


def ask(saldo: Saldo, token: str, *, code: str = "246810", at: datetime = NOW) -> None:
    request_email_code(
        saldo.uow(), policy=policy(saldo), token=token, kind=TokenKind.APP, msisdn=PROXIMUS,
        email=EMAIL, address=ADDRESS, now=at, draw=lambda: code,
    )  # fmt: skip


def confirm(saldo: Saldo, token: str, code: str, *, at: datetime = NOW) -> str:
    return confirm_email(
        saldo.uow(), policy=policy(saldo), token=token, kind=TokenKind.APP, msisdn=PROXIMUS,
        code=code, now=at,
    )  # fmt: skip


def policy(saldo: Saldo) -> AccessPolicy:
    return policy_of(saldo)


def email_of(saldo: Saldo) -> str | None:
    uow = saldo.uow()
    with uow.reading():
        return line_record(uow, number=PROXIMUS).line.email


def test_the_code_goes_by_email_in_the_line_s_language_and_proves_the_address(
    saldo: Saldo, token: str
) -> None:
    ask(saldo, token)
    mailer = FakeMailer()
    render = notification_renderer(webhook_secret=saldo.webhook_secret)
    deliver_outbox(saldo.uow(), senders=Senders(email=mailer), render=render, now=NOW)
    before = email_of(saldo)

    kept = confirm(saldo, token, "246810")

    [sent] = mailer.sent
    assert (sent.to, sent.language) == (EMAIL, "nl-BE")
    assert "Je code is 246810" in sent.text
    assert "246810" not in sent.subject
    assert before is None
    assert kept == EMAIL == email_of(saldo)
    with saldo.engine.connect() as connection:
        secrets = connection.execute(text("SELECT secret FROM outbox")).scalars().all()
        hashes = connection.execute(text("SELECT code_hash FROM sign_in_attempts")).scalars()
        assert "246810" not in list(hashes)
    assert "246810" not in secrets


def test_five_wrong_codes_end_the_attempt(saldo: Saldo, token: str) -> None:
    ask(saldo, token)
    for _ in range(4):
        with pytest.raises(WrongCode):
            confirm(saldo, token, "000000")
    with pytest.raises(TooManyTries):
        confirm(saldo, token, "000000")
    with pytest.raises(TooManyTries):
        confirm(saldo, token, "246810")

    assert email_of(saldo) is None


def test_the_code_expires_after_ten_minutes(saldo: Saldo, token: str) -> None:
    ask(saldo, token)

    with pytest.raises(CodeExpired):
        confirm(saldo, token, "246810", at=NOW + timedelta(minutes=10))

    assert email_of(saldo) is None


def test_the_code_proves_the_address_for_its_own_line_only(saldo: Saldo, token: str) -> None:
    add_line(saldo.uow(), new_line=NewLine(msisdn=MOVISTAR, operator="movistar-ar"), now=NOW)
    other = signed_in_token(saldo, MOVISTAR, at=NOW)
    ask(saldo, token)

    with pytest.raises(NoCodeAsked):
        confirm_email(
            saldo.uow(), policy=policy(saldo), token=other, kind=TokenKind.APP,
            msisdn=MOVISTAR, code="246810", now=NOW,
        )  # fmt: skip
