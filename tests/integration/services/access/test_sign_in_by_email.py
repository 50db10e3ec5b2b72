"""Signing in with a code by email, on SQLite and PostgreSQL: the code goes to the line's
proven email (in the line's language) when the subscriber asks for it there, and by SMS when
the line has no proven email; the answer is the same whichever, and for an unknown number;
the code follows the SMS code's rules (one attempt, limits, five wrong tries) and is not
readable in the outbox, nor in the logs, once sent."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import text

from saldo.adapters.email.fake import FakeMailer
from saldo.adapters.sms.fake import FakeSmsSender
from saldo.bootstrap import Saldo
from saldo.channels.notifications import notification_renderer
from saldo.domain.access import CodeExpired, TokenKind, TooManyCodes, TooManyTries, WrongCode
from saldo.services.access.codes import CodeRequested
from saldo.services.access.line_email import confirm_email, request_email_code
from saldo.services.access.sign_in import request_sign_in_code, sign_in
from saldo.services.lines import NewLine, add_line, line_record, set_line_email
from saldo.services.outbox import Senders, deliver_outbox
from tests.access import ADDRESS, policy_of, signed_in_token
from tests.conftest import NOW

PROXIMUS = "+32470123456"
MOVISTAR = "+5491123456789"
UNKNOWN = "+5491199998888"
EMAIL = "an.peeters@example.be"


@pytest.fixture
def lines(saldo: Saldo) -> Saldo:
    """A Dutch-speaking Proximus line whose email was proven by a code, and a Movistar line
    whose email was set by the CLI (not proven)."""
    add_line(
        saldo.uow(),
        new_line=NewLine(msisdn=PROXIMUS, operator="proximus-be", language="nl"),
        now=NOW,
    )
    add_line(saldo.uow(), new_line=NewLine(msisdn=MOVISTAR, operator="movistar-ar"), now=NOW)
    token = signed_in_token(saldo, PROXIMUS, at=NOW)
    policy = policy_of(saldo)
    request_email_code(
        saldo.uow(), policy=policy, token=token, kind=TokenKind.APP, msisdn=PROXIMUS,
        email=EMAIL, address=ADDRESS, now=NOW, draw=lambda: "135790",
    )  # fmt: skip
    confirm_email(
        saldo.uow(), policy=policy, token=token, kind=TokenKind.APP, msisdn=PROXIMUS,
        code="135790", now=NOW,
    )  # fmt: skip
    set_line_email(saldo.uow(), msisdn=MOVISTAR, email="ana@example.org")
    deliver(saldo)  # the codes above, out of the way
    return saldo


def ask(
    saldo: Saldo, msisdn: str, *, code: str = "246810", by_email: bool = True, minutes: int = 1
) -> CodeRequested:
    return request_sign_in_code(
        saldo.uow(), policy=policy_of(saldo), msisdn=msisdn, address=ADDRESS,
        now=NOW + timedelta(minutes=minutes), by_email=by_email, draw=lambda: code,
    )  # fmt: skip


def deliver(saldo: Saldo) -> tuple[FakeMailer, FakeSmsSender]:
    mailer, sms = FakeMailer(), FakeSmsSender()
    render = notification_renderer(webhook_secret=saldo.webhook_secret)
    deliver_outbox(
        saldo.uow(),
        senders=Senders(email=mailer, sms=sms),
        render=render,
        now=NOW + timedelta(minutes=1),
    )
    return mailer, sms


def enter(saldo: Saldo, msisdn: str, code: str, *, minutes: int = 2) -> str:
    return sign_in(
        saldo.uow(), policy=policy_of(saldo), msisdn=msisdn, code=code, kind=TokenKind.WEB,
        now=NOW + timedelta(minutes=minutes),
    ).token  # fmt: skip


def secrets_kept(saldo: Saldo) -> list[object]:
    with saldo.engine.connect() as connection:
        rows = connection.execute(text("SELECT secret FROM outbox WHERE secret IS NOT NULL"))
        return [row.secret for row in rows]


def test_a_proven_email_gets_the_sign_in_code_in_the_line_s_language(
    lines: Saldo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ask(lines, PROXIMUS)
    mailer, sms = deliver(lines)

    token = enter(lines, PROXIMUS, "246810")

    [sent] = mailer.sent
    assert (sent.to, sent.language) == (EMAIL, "nl-BE")
    assert "Je code om aan te melden met +32470123456 is 246810" in sent.text
    assert "246810" not in sent.subject and "246810" in sent.html
    assert sms.sent == []
    assert token
    assert secrets_kept(lines) == []
    assert "246810" not in caplog.text


def test_an_email_the_cli_set_is_not_proven_and_the_code_goes_by_sms(lines: Saldo) -> None:
    uow = lines.uow()
    with uow.reading():
        movistar = line_record(uow, number=MOVISTAR).line
        proximus = line_record(uow, number=PROXIMUS).line

    ask(lines, MOVISTAR)
    mailer, sms = deliver(lines)

    assert (movistar.email, movistar.email_verified_at) == ("ana@example.org", None)
    assert (proximus.email, proximus.email_verified_at) == (EMAIL, NOW)
    assert mailer.sent == []
    [text_message] = sms.sent
    assert text_message.to == MOVISTAR and "246810" in text_message.text
    assert enter(lines, MOVISTAR, "246810")


def test_the_answer_is_the_same_with_or_without_a_line_or_an_email(lines: Saldo) -> None:
    before = queued(lines)
    answers = [
        ask(lines, msisdn, by_email=by_email)
        for msisdn in (PROXIMUS, MOVISTAR, UNKNOWN)
        for by_email in (True, False)
    ]

    shown = {(found.expires_at, found.expires_in) for found in answers}
    assert shown == {(NOW + timedelta(minutes=11), 600)}
    assert queued(lines)[len(before) :] == [
        ("email", EMAIL),
        ("sms", PROXIMUS),
        ("sms", MOVISTAR),
        ("sms", MOVISTAR),
    ]


def queued(saldo: Saldo) -> list[tuple[str, str]]:
    with saldo.engine.connect() as connection:
        rows = connection.execute(text("SELECT channel, recipient FROM outbox ORDER BY id"))
        return [(row.channel, row.recipient) for row in rows]


def test_codes_by_email_and_by_sms_count_against_the_same_limits(lines: Saldo) -> None:
    # A quarter of an hour after the fixture's sign-in code.
    ask(lines, PROXIMUS, by_email=True, minutes=16)
    ask(lines, PROXIMUS, by_email=False, minutes=16)
    ask(lines, PROXIMUS, by_email=True, minutes=16)

    with pytest.raises(TooManyCodes):
        ask(lines, PROXIMUS, by_email=True, minutes=16)


def test_a_new_code_by_email_ends_the_one_by_sms_and_five_wrong_codes_end_it(
    lines: Saldo,
) -> None:
    ask(lines, PROXIMUS, code="111111", by_email=False)
    ask(lines, PROXIMUS, code="222222", by_email=True)
    deliver(lines)

    with pytest.raises(WrongCode):
        enter(lines, PROXIMUS, "111111")
    for _ in range(3):
        with pytest.raises(WrongCode):
            enter(lines, PROXIMUS, "333333")
    with pytest.raises(TooManyTries):
        enter(lines, PROXIMUS, "444444")
    with pytest.raises(TooManyTries):
        enter(lines, PROXIMUS, "222222")


def test_a_code_by_email_expires_after_ten_minutes(lines: Saldo) -> None:
    ask(lines, PROXIMUS)
    deliver(lines)

    with pytest.raises(CodeExpired):
        enter(lines, PROXIMUS, "246810", minutes=12)
