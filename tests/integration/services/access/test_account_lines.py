"""The lines of a subscriber's account, on SQLite and PostgreSQL: a line is added by the code
sent to it, listed with its operator, country, state, balance and days before recycling
(closest to loss first, with the "renew a week before" warning), taken off without being
touched; an account never reaches another account's lines."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from saldo.adapters.sms.fake import FakeSmsSender
from saldo.bootstrap import Saldo
from saldo.domain.access import NoCodeAsked, TokenKind, TooManyCodes, WrongCode
from saldo.domain.lifecycle import LineState
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.access.account_lines import (
    AccountLine,
    account_line,
    account_lines,
    add_account_line,
    remove_account_line,
    request_line_code,
)
from saldo.services.access.sign_in import NotSignedIn, request_sign_in_code, sign_in
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import LineNotFound, NewLine, add_line
from saldo.services.top_up import top_up
from tests.access import ADDRESS, policy_of, sent_code, signed_in_token
from tests.conftest import NOW

MOVISTAR = "+5491123456789"  # valid 30 days more, recycled 90 days after that
CLARO_CO = "+573001234567"  # valid 5 days more, recycled 90 days after that
PROXIMUS = "+32470123456"  # valid 20 days more, recycled 210 days after that
STRANGER = "+5491155554444"  # another subscriber's line


@pytest.fixture
def lines(saldo: Saldo) -> Saldo:
    for msisdn, operator, at in (
        (MOVISTAR, "movistar-ar", NOW),
        (CLARO_CO, "claro-co", NOW - timedelta(days=25)),
        (PROXIMUS, "proximus-be", NOW - timedelta(days=10)),
        (STRANGER, "movistar-ar", NOW),
    ):
        add_line(saldo.uow(), new_line=NewLine(msisdn=msisdn, operator=operator), now=at)
    top_up(
        saldo.uow(),
        msisdn=CLARO_CO,
        amount=Money.of("1000", "COP"),  # 7 days of validity: it keeps its 30
        channel=Channel.STORE,
        idempotency_key="seed",
        now=NOW - timedelta(days=25),
    )
    return saldo


def add(saldo: Saldo, token: str, msisdn: str, *, at: datetime = NOW) -> AccountLine:
    """Ask for the code to add ``msisdn``, read it from its SMS and confirm it."""
    policy = policy_of(saldo)
    request_line_code(
        saldo.uow(),
        policy=policy,
        token=token,
        kind=TokenKind.APP,
        msisdn=msisdn,
        address=ADDRESS,
        now=at,
    )
    code = sent_code(saldo, FakeSmsSender(), to=msisdn, at=at)
    return add_account_line(
        saldo.uow(),
        policy=policy,
        token=token,
        kind=TokenKind.APP,
        msisdn=msisdn,
        code=code,
        now=at,
    )


def listed(saldo: Saldo, token: str, *, at: datetime = NOW) -> list[AccountLine]:
    return account_lines(
        saldo.uow(), policy=policy_of(saldo), token=token, kind=TokenKind.APP, now=at
    )


def test_an_added_line_is_listed_with_the_first_closest_to_loss_first(lines: Saldo) -> None:
    token = signed_in_token(lines, MOVISTAR, at=NOW)

    added = add(lines, token, CLARO_CO)
    add(lines, token, PROXIMUS)
    shown = listed(lines, token)

    assert [line.msisdn for line in shown] == [CLARO_CO, MOVISTAR, PROXIMUS]
    assert added == shown[0]
    claro = shown[0]
    assert claro.shown.operator_name == "Claro"
    assert claro.shown.locale == "es_CO"
    assert claro.country == "CO"
    assert claro.state is LineState.ACTIVE
    assert claro.main == Money.of("1000", "COP")
    assert claro.renew_soon is True  # valid 5 more days: renew at least a week before
    assert claro.days_until_recycling == 96
    assert [line.renew_soon for line in shown[1:]] == [False, False]
    assert shown[1].country == "AR" and shown[1].main == Money.of("0", "ARS")
    assert shown[2].shown.locale == "fr_BE" and shown[2].days_until_recycling == 231


def test_the_add_line_code_says_it_adds_the_number_to_an_account(lines: Saldo) -> None:
    token = signed_in_token(lines, MOVISTAR, at=NOW)
    sms = FakeSmsSender()

    request_line_code(
        lines.uow(),
        policy=policy_of(lines),
        token=token,
        kind=TokenKind.APP,
        msisdn=PROXIMUS,
        address=ADDRESS,
        now=NOW,
    )
    sent_code(lines, sms, to=PROXIMUS, at=NOW)

    assert "ajouter ce numéro à un compte" in sms.sent[0].text


def test_a_line_s_balance_is_shown_only_on_its_own_account(lines: Saldo) -> None:
    token = signed_in_token(lines, MOVISTAR, at=NOW)
    add(lines, token, CLARO_CO)
    policy = policy_of(lines)

    shown = account_line(
        lines.uow(), policy=policy, token=token, kind=TokenKind.APP, msisdn=CLARO_CO, now=NOW
    )

    assert shown.balance == inquire_balance(lines.uow(), msisdn=CLARO_CO, now=NOW)
    assert shown.line.msisdn == CLARO_CO
    for other in (STRANGER, "+5491100000000"):
        with pytest.raises(LineNotFound):
            account_line(
                lines.uow(), policy=policy, token=token, kind=TokenKind.APP, msisdn=other, now=NOW
            )
        with pytest.raises(LineNotFound):
            remove_account_line(
                lines.uow(), policy=policy, token=token, kind=TokenKind.APP, msisdn=other, now=NOW
            )


def test_two_accounts_see_only_their_own_lines(lines: Saldo) -> None:
    mine = signed_in_token(lines, MOVISTAR, at=NOW)
    theirs = signed_in_token(lines, STRANGER, at=NOW)

    assert [line.msisdn for line in listed(lines, mine)] == [MOVISTAR]
    assert [line.msisdn for line in listed(lines, theirs)] == [STRANGER]


def test_a_line_code_works_only_for_the_account_that_asked_for_it(lines: Saldo) -> None:
    mine = signed_in_token(lines, MOVISTAR, at=NOW)
    theirs = signed_in_token(lines, STRANGER, at=NOW)
    policy = policy_of(lines)
    request_line_code(
        lines.uow(),
        policy=policy,
        token=mine,
        kind=TokenKind.APP,
        msisdn=PROXIMUS,
        address=ADDRESS,
        now=NOW,
    )
    code = sent_code(lines, FakeSmsSender(), to=PROXIMUS, at=NOW)

    with pytest.raises(NoCodeAsked):
        add_account_line(
            lines.uow(),
            policy=policy,
            token=theirs,
            kind=TokenKind.APP,
            msisdn=PROXIMUS,
            code=code,
            now=NOW,
        )
    # Nor does a sign-in take it: the code was sent to add the line, not to sign in.
    with pytest.raises(NoCodeAsked):
        sign_in(
            lines.uow(),
            policy=policy,
            msisdn=PROXIMUS,
            code=code,
            kind=TokenKind.APP,
            now=NOW,
        )


def test_a_wrong_line_code_adds_nothing(lines: Saldo) -> None:
    token = signed_in_token(lines, MOVISTAR, at=NOW)
    policy = policy_of(lines)
    request_line_code(
        lines.uow(),
        policy=policy,
        token=token,
        kind=TokenKind.APP,
        msisdn=PROXIMUS,
        address=ADDRESS,
        now=NOW,
        draw=lambda: "482913",
    )

    with pytest.raises(WrongCode):
        add_account_line(
            lines.uow(),
            policy=policy,
            token=token,
            kind=TokenKind.APP,
            msisdn=PROXIMUS,
            code="482914",
            now=NOW,
        )

    assert [line.msisdn for line in listed(lines, token)] == [MOVISTAR]


def test_adding_and_signing_in_share_a_number_s_code_limit(lines: Saldo) -> None:
    token = signed_in_token(lines, MOVISTAR, at=NOW)
    policy = policy_of(lines)
    for _ in range(2):
        request_sign_in_code(lines.uow(), policy=policy, msisdn=PROXIMUS, address=ADDRESS, now=NOW)
    request_line_code(
        lines.uow(),
        policy=policy,
        token=token,
        kind=TokenKind.APP,
        msisdn=PROXIMUS,
        address=ADDRESS,
        now=NOW,
    )

    with pytest.raises(TooManyCodes):
        request_line_code(
            lines.uow(),
            policy=policy,
            token=token,
            kind=TokenKind.APP,
            msisdn=PROXIMUS,
            address=ADDRESS,
            now=NOW,
        )


def test_taking_a_line_off_leaves_the_line_as_it_was(lines: Saldo) -> None:
    token = signed_in_token(lines, MOVISTAR, at=NOW)
    add(lines, token, CLARO_CO)
    before = inquire_balance(lines.uow(), msisdn=CLARO_CO, now=NOW)

    remove_account_line(
        lines.uow(),
        policy=policy_of(lines),
        token=token,
        kind=TokenKind.APP,
        msisdn=CLARO_CO,
        now=NOW,
    )

    assert [line.msisdn for line in listed(lines, token)] == [MOVISTAR]
    assert inquire_balance(lines.uow(), msisdn=CLARO_CO, now=NOW) == before
    # Signing in with it now opens an account of its own.
    own = signed_in_token(lines, CLARO_CO, at=NOW + timedelta(minutes=1))
    assert [line.msisdn for line in listed(lines, own)] == [CLARO_CO]


def test_a_line_added_to_another_account_moves_there(lines: Saldo) -> None:
    mine = signed_in_token(lines, MOVISTAR, at=NOW)
    theirs = signed_in_token(lines, STRANGER, at=NOW)
    add(lines, mine, PROXIMUS)

    add(lines, theirs, PROXIMUS, at=NOW + timedelta(minutes=1))

    assert [line.msisdn for line in listed(lines, mine)] == [MOVISTAR]
    assert [line.msisdn for line in listed(lines, theirs)] == [STRANGER, PROXIMUS]


def test_signing_in_with_an_added_line_opens_the_account_that_holds_it(lines: Saldo) -> None:
    token = signed_in_token(lines, MOVISTAR, at=NOW)
    add(lines, token, PROXIMUS)

    with_proximus = signed_in_token(lines, PROXIMUS, at=NOW + timedelta(minutes=1))

    assert [line.msisdn for line in listed(lines, with_proximus)] == [MOVISTAR, PROXIMUS]


def test_a_recycled_line_stays_listed_last(lines: Saldo) -> None:
    token = signed_in_token(lines, MOVISTAR, at=NOW)
    add(lines, token, CLARO_CO)
    # Claro Colombia's line: valid 5 more days, then 30 days of grace and 60 suspended.
    later = NOW + timedelta(days=100)
    # A suspended line still signs in (to renew it), to the same account.
    again = signed_in_token(lines, MOVISTAR, at=later)

    shown = listed(lines, again, at=later)

    assert [(line.msisdn, line.state) for line in shown] == [
        (MOVISTAR, LineState.SUSPENDED),
        (CLARO_CO, LineState.RECYCLED),
    ]
    assert [line.renew_soon for line in shown] == [True, False]
    assert shown[1].days_until_recycling == 0


def test_the_account_s_calls_need_a_valid_token(lines: Saldo) -> None:
    policy = policy_of(lines)

    with pytest.raises(NotSignedIn):
        request_line_code(
            lines.uow(),
            policy=policy,
            token="not-a-token",
            kind=TokenKind.APP,
            msisdn=PROXIMUS,
            address=ADDRESS,
            now=NOW,
        )
    with pytest.raises(NotSignedIn):
        remove_account_line(
            lines.uow(), policy=policy, token="", kind=TokenKind.APP, msisdn=MOVISTAR, now=NOW
        )
