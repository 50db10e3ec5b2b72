"""The app API over HTTP, on SQLite and PostgreSQL: a subscriber asks for a code (202), reads
it from the SMS the outbox sent, gets a token (201), sees and adds lines, signs out (204);
refusals keep the error shape: 400 for a refused code, 401 without a valid token, 404 for a
number that is not the account's, 429 with Retry-After past the limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from saldo.adapters.clock import FixedClock
from saldo.adapters.sms.fake import FakeSmsSender
from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up
from tests.access import sent_code
from tests.conftest import NOW

MOVISTAR = "+5491123456789"
PROXIMUS = "+32470123456"
STRANGER = "+5491155554444"


@pytest.fixture
def app(saldo: Saldo) -> TestClient:
    for msisdn, operator in (
        (MOVISTAR, "movistar-ar"),
        (PROXIMUS, "proximus-be"),
        (STRANGER, "movistar-ar"),
    ):
        add_line(saldo.uow(), new_line=NewLine(msisdn=msisdn, operator=operator), now=NOW)
    top_up(
        saldo.uow(),
        msisdn=MOVISTAR,
        amount=Money.of("1500", "ARS"),
        channel=Channel.STORE,
        idempotency_key="seed",
        now=NOW,
    )
    return TestClient(create_app(saldo))


def sign_in(app: TestClient, saldo: Saldo, msisdn: str) -> dict[str, str]:
    """The Authorization header of a token for the account holding ``msisdn``."""
    asked = app.post("/api/v1/auth/codes", json={"msisdn": msisdn})
    assert asked.status_code == 202, asked.text
    code = sent_code(saldo, FakeSmsSender(), to=msisdn, at=saldo.clock.now())
    signed = app.post("/api/v1/auth/tokens", json={"msisdn": msisdn, "code": code})
    assert signed.status_code == 201, signed.text
    return {"Authorization": f"Bearer {signed.json()['access_token']}"}


def test_a_code_then_a_token_then_the_account_s_lines(app: TestClient, saldo: Saldo) -> None:
    asked = app.post("/api/v1/auth/codes", json={"msisdn": MOVISTAR})
    code = sent_code(saldo, FakeSmsSender(), to=MOVISTAR, at=NOW)
    signed = app.post("/api/v1/auth/tokens", json={"msisdn": MOVISTAR, "code": code})
    token = signed.json()["access_token"]
    listed = app.get("/api/v1/lines", headers={"Authorization": f"Bearer {token}"})

    assert asked.status_code == 202
    assert asked.json() == {"expires_in": 600}
    assert signed.status_code == 201
    assert signed.json() == {"access_token": token, "token_type": "bearer", "expires_in": 2592000}
    assert len(token) == 43
    assert listed.status_code == 200
    assert listed.json() == {
        "lines": [
            {
                "msisdn": MOVISTAR,
                "operator": "movistar-ar",
                "operator_name": "Movistar",
                "country": "AR",
                "locale": "es_AR",
                "timezone": "America/Argentina/Buenos_Aires",
                "state": "active",
                "main": {"amount": "1500.00", "currency": "ARS", "minor": 150000},
                "valid_until": "2026-12-23T03:00:00+00:00",
                "recycles_at": "2027-03-23T03:00:00+00:00",
                "days_until_recycling": 121,
                "renew_soon": False,
            }
        ]
    }


def test_an_unknown_number_gets_the_same_202(app: TestClient) -> None:
    known = app.post("/api/v1/auth/codes", json={"msisdn": MOVISTAR})
    unknown = app.post("/api/v1/auth/codes", json={"msisdn": "+5491199998888"})

    assert (unknown.status_code, unknown.json()) == (known.status_code, known.json())


def test_a_fourth_code_within_fifteen_minutes_is_a_429_with_retry_after(
    app: TestClient, clock: FixedClock
) -> None:
    for minute in range(3):
        clock.set(NOW + timedelta(minutes=minute))
        app.post("/api/v1/auth/codes", json={"msisdn": MOVISTAR})

    clock.set(NOW + timedelta(minutes=5))
    refused = app.post("/api/v1/auth/codes", json={"msisdn": MOVISTAR})

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "600"
    assert refused.json()["error"]["code"] == "too_many_codes"


def test_a_wrong_code_is_a_400_and_the_fifth_ends_the_attempt(
    app: TestClient, saldo: Saldo
) -> None:
    app.post("/api/v1/auth/codes", json={"msisdn": MOVISTAR})
    code = sent_code(saldo, FakeSmsSender(), to=MOVISTAR, at=NOW)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    answers = [
        app.post("/api/v1/auth/tokens", json={"msisdn": MOVISTAR, "code": wrong}) for _ in range(5)
    ]
    right = app.post("/api/v1/auth/tokens", json={"msisdn": MOVISTAR, "code": code})

    assert [answer.status_code for answer in answers] == [400] * 5
    assert [answer.json()["error"]["code"] for answer in answers] == ["wrong_code"] * 4 + [
        "too_many_tries"
    ]
    assert "3 more tries" in answers[1].json()["error"]["message"]
    assert right.status_code == 400
    assert right.json()["error"]["code"] == "too_many_tries"


def test_a_code_that_is_not_six_digits_is_a_422(app: TestClient) -> None:
    answer = app.post("/api/v1/auth/tokens", json={"msisdn": MOVISTAR, "code": "12345"})

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_request"


def test_a_number_that_is_no_number_is_a_422_invalid_msisdn(app: TestClient) -> None:
    answer = app.post("/api/v1/auth/codes", json={"msisdn": "+12"})

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_msisdn"


def test_the_lines_need_a_token_that_opens_an_account(app: TestClient) -> None:
    missing = app.get("/api/v1/lines")
    unknown = app.get("/api/v1/lines", headers={"Authorization": "Bearer nope"})
    other_scheme = app.delete(f"/api/v1/lines/{MOVISTAR}", headers={"Authorization": "Basic x"})
    # Without a token, nothing else about the request is read.
    malformed = app.post("/api/v1/lines", content=b"{not json")

    for answer in (missing, unknown, other_scheme, malformed):
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert missing.json()["error"]["code"] == "unauthorized"
    assert unknown.json()["error"]["code"] == "invalid_token"


def test_signing_out_revokes_the_token(app: TestClient, saldo: Saldo) -> None:
    headers = sign_in(app, saldo, MOVISTAR)

    out = app.delete("/api/v1/auth/tokens/current", headers=headers)
    after = app.get("/api/v1/lines", headers=headers)
    again = app.delete("/api/v1/auth/tokens/current", headers=headers)

    assert (out.status_code, out.content) == (204, b"")
    assert after.status_code == 401
    assert again.status_code == 401


def test_a_line_s_balance_and_another_account_s_line(app: TestClient, saldo: Saldo) -> None:
    headers = sign_in(app, saldo, MOVISTAR)

    mine = app.get(f"/api/v1/lines/{MOVISTAR}", headers=headers)
    plain = app.get("/api/v1/lines/5491123456789", headers=headers)
    theirs = app.get(f"/api/v1/lines/{STRANGER}", headers=headers)
    nobody = app.get("/api/v1/lines/+5491100000000", headers=headers)
    no_number = app.get("/api/v1/lines/abc", headers=headers)
    removed = app.delete(f"/api/v1/lines/{STRANGER}", headers=headers)

    assert mine.status_code == 200
    body = mine.json()
    assert body["msisdn"] == MOVISTAR
    assert body["main"] == {"amount": "1500.00", "currency": "ARS", "minor": 150000}
    assert body["bonus"]["minor"] == 0
    assert (body["voice_seconds"], body["sms"], body["data_bytes"]) == (0, 0, 0)
    assert body["buckets"] == [
        {"kind": "main", "unit": "ARS", "amount": 150000, "expires_at": None}
    ]
    assert plain.json() == body
    for answer in (theirs, nobody, no_number, removed):
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "line_not_found"


def test_adding_a_line_takes_a_code_sent_to_it_and_removing_it_keeps_it(
    app: TestClient, saldo: Saldo
) -> None:
    headers = sign_in(app, saldo, MOVISTAR)

    step_1 = app.post("/api/v1/lines", json={"msisdn": PROXIMUS}, headers=headers)
    code = sent_code(saldo, FakeSmsSender(), to=PROXIMUS, at=NOW)
    step_2 = app.post("/api/v1/lines", json={"msisdn": PROXIMUS, "code": code}, headers=headers)
    both = app.get("/api/v1/lines", headers=headers).json()["lines"]
    removed = app.delete(f"/api/v1/lines/{PROXIMUS}", headers=headers)
    left = app.get("/api/v1/lines", headers=headers).json()["lines"]

    assert step_1.status_code == 202
    assert step_1.json() == {"expires_in": 600}
    assert step_2.status_code == 201
    assert step_2.json()["msisdn"] == PROXIMUS
    assert step_2.json()["country"] == "BE"
    assert [line["msisdn"] for line in both] == [MOVISTAR, PROXIMUS]
    assert removed.status_code == 204
    assert [line["msisdn"] for line in left] == [MOVISTAR]
    with saldo.engine.connect() as connection:
        still = connection.execute(
            text("SELECT state FROM lines WHERE msisdn = :n"), {"n": PROXIMUS}
        ).scalar_one()
    assert still == "active"


def test_a_refused_line_code_is_a_400(app: TestClient, saldo: Saldo) -> None:
    headers = sign_in(app, saldo, MOVISTAR)

    answer = app.post("/api/v1/lines", json={"msisdn": PROXIMUS, "code": "123456"}, headers=headers)

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "no_code_asked"


def test_the_client_address_is_counted_per_address(
    app: TestClient, saldo: Saldo, clock: FixedClock
) -> None:
    numbers = [f"+54911555500{n:02d}" for n in range(10)]
    for number in numbers:
        assert app.post("/api/v1/auth/codes", json={"msisdn": number}).status_code == 202

    refused = app.post("/api/v1/auth/codes", json={"msisdn": MOVISTAR})
    elsewhere = TestClient(create_app(saldo), client=("198.51.100.4", 50000))
    accepted = elsewhere.post("/api/v1/auth/codes", json={"msisdn": MOVISTAR})

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) == 900
    assert accepted.status_code == 202


def test_a_body_that_is_not_utf8_is_a_422(app: TestClient) -> None:
    answer = app.post(
        "/api/v1/auth/codes",
        content=b'{"msisdn": "\xff"}',
        headers={"Content-Type": "application/json"},
    )

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_request"


def test_every_app_route_is_described_with_its_errors(app: TestClient) -> None:
    spec = app.get("/openapi.json").json()

    paths = spec["paths"]
    codes = paths["/api/v1/auth/codes"]["post"]["responses"]
    tokens = paths["/api/v1/auth/tokens"]["post"]["responses"]
    lines = paths["/api/v1/lines"]
    line = paths["/api/v1/lines/{msisdn}"]
    assert set(codes) == {"202", "422", "429"}
    assert codes["429"]["headers"]["Retry-After"]["required"] is True
    assert codes["429"]["x-error-codes"] == ["too_many_codes"]
    assert tokens["400"]["x-error-codes"] == [
        "wrong_code",
        "too_many_tries",
        "code_expired",
        "code_used",
        "no_code_asked",
    ]
    assert set(lines["post"]["responses"]) >= {"201", "202", "400", "401", "422", "429"}
    assert set(line["get"]["responses"]) >= {"200", "401", "404"}
    assert set(line["delete"]["responses"]) >= {"204", "401", "404"}
    assert paths["/api/v1/auth/tokens/current"]["delete"]["security"] == [{"appToken": []}]
    assert lines["get"]["security"] == [{"appToken": []}]
    assert "security" not in paths["/api/v1/auth/codes"]["post"]


def test_another_method_is_a_405_that_names_every_method_of_the_path(app: TestClient) -> None:
    lines = app.put("/api/v1/lines", headers={"Authorization": "Bearer x"})
    line = app.patch(f"/api/v1/lines/{MOVISTAR}", headers={"Authorization": "Bearer x"})

    assert (lines.status_code, lines.headers["Allow"]) == (405, "GET, POST")
    assert (line.status_code, line.headers["Allow"]) == (405, "DELETE, GET")
    assert line.json()["error"]["code"] == "method_not_allowed"
