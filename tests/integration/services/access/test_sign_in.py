"""Signing in with a code sent by SMS, on SQLite and PostgreSQL: the code goes through the
outbox in the line's language and is not readable there once sent; a code is single-use,
expires after ten minutes and dies after five wrong tries; codes are limited per number and
per address, in the database, for every process alike; an unknown number is answered as a
known one; a token opens its account until sign-out or expiry."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from saldo.adapters.db.engine import make_engine
from saldo.adapters.sms.fake import FakeSmsSender
from saldo.bootstrap import Saldo
from saldo.domain.access import (
    CodeExpired,
    CodeUsed,
    NoCodeAsked,
    TokenKind,
    TooManyCodes,
    TooManyTries,
    WrongCode,
)
from saldo.domain.lifecycle import LineState
from saldo.services.access.account_lines import account_lines
from saldo.services.access.codes import CodeRequested
from saldo.services.access.sign_in import NotSignedIn, request_sign_in_code, sign_in, sign_out
from saldo.services.lines import NewLine, add_line, show_line
from saldo.services.outbox import outbox_messages
from tests.access import ADDRESS, code_in, deliver_sms, policy_of, sent_code, signed_in_token
from tests.conftest import NOW

MOVISTAR = "+5491123456789"
PROXIMUS = "+32470123456"
UNKNOWN = "+5491199998888"


@pytest.fixture
def lines(saldo: Saldo) -> Saldo:
    add_line(saldo.uow(), new_line=NewLine(msisdn=MOVISTAR, operator="movistar-ar"), now=NOW)
    add_line(
        saldo.uow(),
        new_line=NewLine(msisdn=PROXIMUS, operator="proximus-be", language="nl"),
        now=NOW,
    )
    return saldo


def ask(
    saldo: Saldo,
    msisdn: str,
    *,
    at: datetime = NOW,
    address: str = ADDRESS,
    code: str | None = None,
) -> CodeRequested:
    """Ask for a code; ``code`` fixes the code drawn (otherwise random, as in service)."""
    drawn = {} if code is None else {"draw": lambda: code}
    return request_sign_in_code(
        saldo.uow(), policy=policy_of(saldo), msisdn=msisdn, address=address, now=at, **drawn
    )


def confirm(saldo: Saldo, msisdn: str, code: str, *, at: datetime = NOW) -> str:
    signed = sign_in(
        saldo.uow(), policy=policy_of(saldo), msisdn=msisdn, code=code, kind=TokenKind.APP, now=at
    )
    return signed.token


def lines_seen(saldo: Saldo, token: str, *, at: datetime = NOW) -> list[str]:
    shown = account_lines(
        saldo.uow(), policy=policy_of(saldo), token=token, kind=TokenKind.APP, now=at
    )
    return [line.msisdn for line in shown]


def outbox_rows(saldo: Saldo) -> list[str]:
    """Every outbox row as the database holds it, all columns as text."""
    with saldo.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM outbox")).all()
    return [" ".join(str(value) for value in row) for row in rows]


def test_a_code_goes_by_sms_in_the_line_s_language_and_signs_in_to_a_new_account(
    lines: Saldo,
) -> None:
    sms = FakeSmsSender()

    requested = ask(lines, PROXIMUS)
    deliver_sms(lines, sms, at=NOW)
    [sent] = sms.sent
    token = confirm(lines, PROXIMUS, code_in(sent))

    assert requested.expires_at == NOW + timedelta(minutes=10)
    assert requested.expires_in == 600
    assert sent.to == PROXIMUS
    assert sent.sender == "6000"
    assert sent.text.startswith("Proximus: ") and "is uw code om aan te melden" in sent.text
    assert "Geldig 10 min" in sent.text
    assert lines_seen(lines, token) == [PROXIMUS]


def test_the_code_is_not_readable_in_the_outbox_once_sent(lines: Saldo) -> None:
    sms = FakeSmsSender()
    ask(lines, MOVISTAR)

    [pending] = outbox_rows(lines)
    deliver_sms(lines, sms, at=NOW)
    code = code_in(sms.sent[0])
    [message] = outbox_messages(lines.uow(), state=None, limit=10)

    assert code in pending  # waiting to be sent, the row carries it
    assert message.state == "sent"
    assert message.secret is None
    assert dict(message.payload) == {"kind": "sign_in_code", "attempt_id": 1}
    assert all(code not in row for row in outbox_rows(lines))
    assert code not in repr(message)


def test_the_code_is_never_logged_nor_queued_for_a_webhook(
    lines: Saldo, caplog: pytest.LogCaptureFixture
) -> None:
    sms = FakeSmsSender()
    caplog.set_level(logging.DEBUG)

    ask(lines, MOVISTAR, code="482913")
    sms.fail_with("gateway down")  # a failed send is logged, with its reason
    deliver_sms(lines, sms, at=NOW)
    sms.stop_failing()
    deliver_sms(lines, sms, at=NOW + timedelta(minutes=2))
    confirm(lines, MOVISTAR, "482913", at=NOW + timedelta(minutes=2))

    assert code_in(sms.sent[0]) == "482913"
    assert caplog.records
    assert all("482913" not in record.getMessage() for record in caplog.records)
    channels = [message.channel for message in outbox_messages(lines.uow(), state=None, limit=9)]
    assert channels == ["sms"]


def test_a_code_that_cannot_be_sent_before_it_expires_is_skipped_and_forgotten(
    lines: Saldo,
) -> None:
    sms = FakeSmsSender()
    ask(lines, MOVISTAR)

    delivery = deliver_sms(lines, sms, at=NOW + timedelta(minutes=10))

    [message] = outbox_messages(lines.uow(), state=None, limit=10)
    assert (delivery.sent, delivery.skipped) == (0, 1)
    assert sms.sent == []
    assert message.state == "skipped"
    assert message.secret is None


def test_a_code_given_up_on_after_failed_sends_is_forgotten(lines: Saldo) -> None:
    sms = FakeSmsSender()
    sms.fail_with("gateway down")
    ask(lines, MOVISTAR)
    with lines.uow() as uow:
        [message] = uow.outbox.list(state=None, limit=1)
        uow.outbox.mark_failed(message.id, error="gateway down", retry_at=None, now=NOW)
        uow.commit()

    [dead] = outbox_messages(lines.uow(), state="dead", limit=10)
    assert dead.secret is None


def test_an_unknown_number_gets_the_same_answer_and_no_message(lines: Saldo) -> None:
    known = ask(lines, MOVISTAR)
    unknown = ask(lines, UNKNOWN)

    [message] = outbox_messages(lines.uow(), state=None, limit=10)
    assert unknown == known
    assert message.recipient == MOVISTAR
    with pytest.raises(WrongCode):
        confirm(lines, UNKNOWN, "123456")


def test_an_unknown_number_counts_against_the_same_limits(lines: Saldo) -> None:
    for minute in range(3):
        ask(lines, UNKNOWN, at=NOW + timedelta(minutes=minute))

    with pytest.raises(TooManyCodes) as refused:
        ask(lines, UNKNOWN, at=NOW + timedelta(minutes=3))

    assert refused.value.retry_after == timedelta(minutes=12)


def test_five_wrong_codes_end_the_attempt_and_then_even_the_right_one_is_refused(
    lines: Saldo,
) -> None:
    ask(lines, MOVISTAR, code="482913")

    tries_left = []
    for wrong in ("000000", "482914", "482193", "999999"):
        with pytest.raises(WrongCode) as refused:
            confirm(lines, MOVISTAR, wrong)
        tries_left.append(refused.value.tries_left)
    with pytest.raises(TooManyTries):
        confirm(lines, MOVISTAR, "123456")
    with pytest.raises(TooManyTries):
        confirm(lines, MOVISTAR, "482913")

    assert tries_left == [4, 3, 2, 1]


def test_a_code_works_once(lines: Saldo) -> None:
    ask(lines, MOVISTAR, code="482913")
    confirm(lines, MOVISTAR, "482913")

    with pytest.raises(CodeUsed):
        confirm(lines, MOVISTAR, "482913")


def test_a_code_expires_after_ten_minutes(lines: Saldo) -> None:
    ask(lines, MOVISTAR, code="482913")

    with pytest.raises(CodeExpired):
        confirm(lines, MOVISTAR, "482913", at=NOW + timedelta(minutes=10))
    assert confirm(lines, MOVISTAR, "482913", at=NOW + timedelta(minutes=9, seconds=59))


def test_a_newer_code_replaces_the_earlier_one(lines: Saldo) -> None:
    sms = FakeSmsSender()
    ask(lines, MOVISTAR, code="111111")
    ask(lines, MOVISTAR, at=NOW + timedelta(minutes=1), code="222222")

    delivery = deliver_sms(lines, sms, at=NOW + timedelta(minutes=1))

    # Both waited for the worker: only the code that works goes out.
    assert (delivery.sent, delivery.skipped) == (1, 1)
    assert code_in(sms.sent[0]) == "222222"
    with pytest.raises(WrongCode):
        confirm(lines, MOVISTAR, "111111", at=NOW + timedelta(minutes=2))
    assert confirm(lines, MOVISTAR, "222222", at=NOW + timedelta(minutes=2))


def test_a_code_never_asked_for_is_refused(lines: Saldo) -> None:
    with pytest.raises(NoCodeAsked):
        confirm(lines, MOVISTAR, "123456")


def test_a_number_gets_three_codes_in_any_fifteen_minutes(lines: Saldo) -> None:
    for minute in (0, 4, 8):
        ask(lines, MOVISTAR, at=NOW + timedelta(minutes=minute))

    with pytest.raises(TooManyCodes) as refused:
        ask(lines, MOVISTAR, at=NOW + timedelta(minutes=14))
    later = ask(lines, MOVISTAR, at=NOW + timedelta(minutes=15))

    assert refused.value.retry_after_seconds == 60
    assert later.expires_at == NOW + timedelta(minutes=25)
    # The refused request sent nothing.
    assert len(outbox_messages(lines.uow(), state=None, limit=10)) == 4


def test_a_number_gets_ten_codes_a_day(lines: Saldo) -> None:
    for hour in range(10):
        ask(lines, MOVISTAR, at=NOW + timedelta(hours=hour))

    with pytest.raises(TooManyCodes) as refused:
        ask(lines, MOVISTAR, at=NOW + timedelta(hours=12))

    assert refused.value.retry_after == timedelta(hours=12)


def test_an_address_gets_as_many_codes_as_configured_whatever_the_numbers(
    lines: Saldo,
) -> None:
    numbers = [f"+54911555500{n:02d}" for n in range(10)]
    for number in numbers:
        ask(lines, number, address="203.0.113.9")

    with pytest.raises(TooManyCodes) as refused:
        ask(lines, MOVISTAR, address="203.0.113.9")
    from_elsewhere = ask(lines, MOVISTAR, address="198.51.100.4")

    assert "this address" in refused.value.message
    assert from_elsewhere.expires_in == 600


def test_two_processes_count_against_the_same_limit(lines: Saldo) -> None:
    # A second Saldo on the same database, with its own engine: another server process.
    other = Saldo(settings=lines.settings, engine=make_engine(lines.settings.database_url))
    try:
        ask(lines, MOVISTAR)
        ask(other, MOVISTAR, at=NOW + timedelta(minutes=1))
        ask(lines, MOVISTAR, at=NOW + timedelta(minutes=2))
        with pytest.raises(TooManyCodes):
            ask(other, MOVISTAR, at=NOW + timedelta(minutes=3))
    finally:
        other.close()


def test_counters_are_forgotten_once_they_stop_counting(lines: Saldo) -> None:
    ask(lines, UNKNOWN, address="203.0.113.9")
    ask(lines, MOVISTAR, at=NOW + timedelta(days=2))

    with lines.engine.connect() as connection:
        kept = connection.execute(text("SELECT COUNT(*) FROM rate_limits")).scalar_one()

    assert kept == 2  # the new request's number and address; the old ones are gone


def test_sign_out_revokes_the_token(lines: Saldo) -> None:
    token = signed_in_token(lines, MOVISTAR, at=NOW)

    sign_out(lines.uow(), policy=policy_of(lines), token=token, kind=TokenKind.APP, now=NOW)

    with pytest.raises(NotSignedIn):
        lines_seen(lines, token)
    with pytest.raises(NotSignedIn):
        sign_out(lines.uow(), policy=policy_of(lines), token=token, kind=TokenKind.APP, now=NOW)


def test_a_token_expires_after_its_lifetime_and_opens_only_its_kind(lines: Saldo) -> None:
    token = signed_in_token(lines, MOVISTAR, at=NOW)
    policy = policy_of(lines)

    assert lines_seen(lines, token, at=NOW + timedelta(days=30) - timedelta(seconds=1))
    with pytest.raises(NotSignedIn):
        lines_seen(lines, token, at=NOW + timedelta(days=30))
    with pytest.raises(NotSignedIn):
        account_lines(lines.uow(), policy=policy, token=token, kind=TokenKind.WEB, now=NOW)
    with pytest.raises(NotSignedIn):
        account_lines(lines.uow(), policy=policy, token=None, kind=TokenKind.APP, now=NOW)


def test_tokens_and_codes_are_kept_only_as_hashes(lines: Saldo) -> None:
    ask(lines, MOVISTAR)
    code = sent_code(lines, FakeSmsSender(), to=MOVISTAR, at=NOW)
    token = confirm(lines, MOVISTAR, code)

    with lines.engine.connect() as connection:
        stored = [
            " ".join(str(value) for value in row)
            for table in ("access_tokens", "sign_in_attempts", "rate_limits")
            for row in connection.execute(text(f"SELECT * FROM {table}"))
        ]
    assert stored and all(token not in row and code not in row for row in stored)
    assert all("127.0.0.1" not in row for row in stored)


def test_signing_in_again_reaches_the_same_account_with_a_new_token(lines: Saldo) -> None:
    first = signed_in_token(lines, MOVISTAR, at=NOW)
    second = signed_in_token(lines, MOVISTAR, at=NOW + timedelta(minutes=20))

    assert first != second
    assert lines_seen(lines, first) == lines_seen(lines, second) == [MOVISTAR]
    with lines.engine.connect() as connection:
        accounts = connection.execute(text("SELECT COUNT(*) FROM subscriber_accounts")).scalar()
    assert accounts == 1


def test_a_recycled_line_gets_no_code(lines: Saldo) -> None:
    recycled_at = NOW + timedelta(days=30 + 30 + 60 + 1)

    requested = ask(lines, MOVISTAR, at=recycled_at)

    assert show_line(lines.uow(), msisdn=MOVISTAR, now=recycled_at).state is LineState.RECYCLED
    assert requested.expires_in == 600
    assert outbox_messages(lines.uow(), state=None, limit=10) == []


def test_a_code_asked_for_at_night_is_sent_at_once(lines: Saldo) -> None:
    night = datetime(2026, 11, 23, 2, 0, tzinfo=NOW.tzinfo)  # 23:00 in Buenos Aires
    sms = FakeSmsSender()

    ask(lines, MOVISTAR, at=night)
    deliver_sms(lines, sms, at=night)

    assert len(sms.sent) == 1
