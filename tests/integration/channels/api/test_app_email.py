"""A line's email through the app API, on SQLite and PostgreSQL: a code emailed to the
address asked for, confirmed to make it the line's; a refused code and an address that is not
one change nothing; another account's line is a 404. A proven email then gets sign-in codes
asked for by email; asking so is answered alike whatever the number has."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from saldo.adapters.clock import FixedClock
from saldo.adapters.email.fake import FakeMailer
from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.channels.notifications import notification_renderer
from saldo.services.lines import NewLine, add_line, line_record
from saldo.services.outbox import Senders, deliver_outbox
from tests.integration.channels.api.test_app_api import sign_in

PROXIMUS = "+32470123456"
STRANGER = "+5491155554444"
EMAIL = f"/api/v1/lines/{PROXIMUS}/email"
ADDRESS = "an.peeters@example.be"
_CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")


@pytest.fixture
def app(saldo: Saldo) -> TestClient:
    now = saldo.clock.now()
    for msisdn, operator in ((PROXIMUS, "proximus-be"), (STRANGER, "movistar-ar")):
        add_line(saldo.uow(), new_line=NewLine(msisdn=msisdn, operator=operator), now=now)
    return TestClient(create_app(saldo))


def emailed_code(saldo: Saldo, *, latest: bool = False) -> str:
    """The code of the email the outbox sends to ADDRESS (the only one, or the ``latest``)."""
    mailer = FakeMailer()
    render = notification_renderer(webhook_secret=saldo.webhook_secret)
    deliver_outbox(saldo.uow(), senders=Senders(email=mailer), render=render, now=saldo.clock.now())
    sent = [email for email in mailer.sent if email.to == ADDRESS]
    assert len(sent) == 1 or (latest and sent), sent
    return str(_CODE.findall(sent[-1].text)[0])


def email_of(saldo: Saldo, msisdn: str) -> str | None:
    uow = saldo.uow()
    with uow.reading():
        return line_record(uow, number=msisdn).line.email


def test_an_email_is_the_line_s_once_the_code_emailed_to_it_is_confirmed(
    app: TestClient, saldo: Saldo
) -> None:
    headers = sign_in(app, saldo, PROXIMUS)

    asked = app.post(EMAIL, json={"email": ADDRESS}, headers=headers)
    code = emailed_code(saldo)
    before = email_of(saldo, PROXIMUS)
    wrong = app.post(
        EMAIL + "/confirmation",
        json={"code": f"{(int(code) + 1) % 1_000_000:06d}"},
        headers=headers,
    )
    confirmed = app.post(EMAIL + "/confirmation", json={"code": code}, headers=headers)

    assert (asked.status_code, asked.json()) == (202, {"expires_in": 600})
    assert before is None
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, "wrong_code")
    assert (confirmed.status_code, confirmed.json()) == (200, {"email": ADDRESS})
    assert email_of(saldo, PROXIMUS) == ADDRESS


def test_an_address_that_is_not_one_is_a_422(app: TestClient, saldo: Saldo) -> None:
    headers = sign_in(app, saldo, PROXIMUS)

    refused = app.post(EMAIL, json={"email": "not an address"}, headers=headers)

    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid_email")


def test_another_account_s_line_is_a_404(app: TestClient, saldo: Saldo) -> None:
    headers = sign_in(app, saldo, PROXIMUS)
    theirs = f"/api/v1/lines/{STRANGER}/email"

    asked = app.post(theirs, json={"email": ADDRESS}, headers=headers)
    confirmed = app.post(theirs + "/confirmation", json={"code": "123456"}, headers=headers)

    assert (asked.status_code, confirmed.status_code) == (404, 404)
    assert email_of(saldo, STRANGER) is None


def test_a_proven_email_signs_in_with_a_code_asked_for_by_email(
    app: TestClient, saldo: Saldo, clock: FixedClock
) -> None:
    headers = sign_in(app, saldo, PROXIMUS)
    app.post(EMAIL, json={"email": ADDRESS}, headers=headers)
    app.post(EMAIL + "/confirmation", json={"code": emailed_code(saldo)}, headers=headers)
    clock.advance(timedelta(minutes=1))

    asked = app.post("/api/v1/auth/codes", json={"msisdn": PROXIMUS, "by": "email"})
    code = emailed_code(saldo, latest=True)
    signed = app.post("/api/v1/auth/tokens", json={"msisdn": PROXIMUS, "code": code})

    assert (asked.status_code, asked.json()) == (202, {"expires_in": 600})
    assert signed.status_code == 201, signed.text
    assert signed.json()["token_type"] == "bearer"


def test_asking_by_email_is_answered_alike_whatever_the_number_has(
    app: TestClient, saldo: Saldo
) -> None:
    answers = [
        app.post("/api/v1/auth/codes", json={"msisdn": msisdn, "by": "email"})
        for msisdn in (PROXIMUS, STRANGER, "+5491199998888")
    ]
    unknown_way = app.post("/api/v1/auth/codes", json={"msisdn": PROXIMUS, "by": "fax"})

    assert {(answer.status_code, answer.text) for answer in answers} == {
        (202, '{"expires_in":600}')
    }
    assert (unknown_way.status_code, unknown_way.json()["error"]["code"]) == (
        422,
        "invalid_request",
    )
