"""Signing in to the portal with a code by email, over HTTP, on SQLite and PostgreSQL: the
sign-in form always offers it; a number whose line has a proven email gets the code there, one
whose email the CLI set (not proven) gets it by SMS, an unknown one gets nothing, and all three
the same redirect and the same page; the emailed code opens a session; the settings page says
whether the email was proven."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from saldo.adapters.email.fake import FakeMailer
from saldo.adapters.sms.fake import FakeSmsSender
from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.channels.notifications import notification_renderer
from saldo.domain.access import TokenKind
from saldo.services.access.line_email import confirm_email, request_email_code
from saldo.services.lines import NewLine, add_line, set_line_email
from saldo.services.outbox import Senders, deliver_outbox
from tests.access import ADDRESS, policy_of, signed_in_token
from tests.conftest import NOW
from tests.portal import post_form, sign_in

PROXIMUS = "+32470123456"  # French-speaking, its email proven by a code
MOVISTAR = "+5491123456789"  # its email set by the CLI
UNKNOWN = "+5491199998888"
PROVEN = "an.peeters@example.be"
_CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")


@pytest.fixture
def portal(saldo: Saldo) -> TestClient:
    for msisdn, operator, language in (
        (PROXIMUS, "proximus-be", "fr"),
        (MOVISTAR, "movistar-ar", "es"),
    ):
        add_line(
            saldo.uow(),
            new_line=NewLine(msisdn=msisdn, operator=operator, language=language),
            now=NOW,
        )
    token, policy = signed_in_token(saldo, PROXIMUS, at=NOW), policy_of(saldo)
    request_email_code(
        saldo.uow(), policy=policy, token=token, kind=TokenKind.APP, msisdn=PROXIMUS,
        email=PROVEN, address=ADDRESS, now=NOW, draw=lambda: "135790",
    )  # fmt: skip
    confirm_email(
        saldo.uow(), policy=policy, token=token, kind=TokenKind.APP, msisdn=PROXIMUS,
        code="135790", now=NOW,
    )  # fmt: skip
    set_line_email(saldo.uow(), msisdn=MOVISTAR, email="ana@example.org")
    deliver(saldo)  # the codes above, out of the way
    return TestClient(create_app(saldo), base_url="https://testserver")


def deliver(saldo: Saldo) -> tuple[FakeMailer, FakeSmsSender]:
    mailer, sms = FakeMailer(), FakeSmsSender()
    render = notification_renderer(webhook_secret=saldo.webhook_secret)
    deliver_outbox(
        saldo.uow(), senders=Senders(email=mailer, sms=sms), render=render, now=saldo.clock.now()
    )
    return mailer, sms


def test_the_sign_in_form_offers_the_email_always(portal: TestClient) -> None:
    page = portal.get("/sign-in")

    assert page.status_code == 200
    assert 'name="by" value="sms" checked' in page.text
    assert 'name="by" value="email"' in page.text
    assert "Where should the code go?" in page.text


def test_by_email_every_number_gets_the_same_answer_and_its_code_its_own_way(
    portal: TestClient, saldo: Saldo
) -> None:
    asked = {
        msisdn: post_form(portal, "/sign-in", page="/sign-in", msisdn=msisdn, by="email")
        for msisdn in (PROXIMUS, MOVISTAR, UNKNOWN)
    }
    mailer, sms = deliver(saldo)

    assert {answer.status_code for answer in asked.values()} == {303}
    pages = {
        msisdn: portal.get(answer.headers["location"]).text.replace(msisdn[1:], "N")
        for msisdn, answer in asked.items()
    }
    assert len(set(pages.values())) == 1
    assert "confirmed email, or by SMS if it has none" in pages[PROXIMUS]
    assert [email.to for email in mailer.sent] == [PROVEN]
    assert "Votre code pour vous connecter avec +32470123456" in mailer.sent[0].text
    assert [message.to for message in sms.sent] == [MOVISTAR]


def test_the_code_from_the_email_opens_a_session(portal: TestClient, saldo: Saldo) -> None:
    asked = post_form(portal, "/sign-in", page="/sign-in", msisdn=PROXIMUS, by="email")
    mailer, _ = deliver(saldo)
    [code] = _CODE.findall(mailer.sent[0].text)

    signed = post_form(
        portal, "/sign-in/code", page=asked.headers["location"], msisdn=PROXIMUS, code=code
    )

    assert signed.status_code == 303, signed.text
    assert signed.headers["location"] == "/"
    assert "saldo_session" in portal.cookies


def test_the_settings_page_says_whether_the_email_was_proven(
    portal: TestClient, saldo: Saldo
) -> None:
    sign_in(portal, saldo, PROXIMUS)
    proven = portal.get(f"/lines/{PROXIMUS}/settings")
    sign_in(portal, saldo, MOVISTAR)
    set_by_cli = portal.get(f"/lines/{MOVISTAR}/settings")

    assert proven.status_code == 200
    assert "Confirmée par un code" in proven.text
    assert set_by_cli.status_code == 200
    assert "Todavía sin confirmar" in set_by_cli.text


def test_a_wrong_emailed_code_says_where_the_code_went_again(
    portal: TestClient, saldo: Saldo
) -> None:
    asked = post_form(portal, "/sign-in", page="/sign-in", msisdn=PROXIMUS, by="email")
    mailer, _ = deliver(saldo)
    [code] = _CODE.findall(mailer.sent[0].text)

    refused = post_form(
        portal, "/sign-in/code", page=asked.headers["location"], msisdn=PROXIMUS,
        code=f"{(int(code) + 1) % 1_000_000:06d}", by="email",
    )  # fmt: skip

    assert refused.status_code == 400
    assert "wrong_code" in refused.text
    assert "confirmed email, or by SMS if it has none" in refused.text
    assert 'name="by" value="email"' in refused.text
