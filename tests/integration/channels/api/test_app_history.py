"""A line's history in the app API, on SQLite and PostgreSQL: daily use, a month's movements,
the statement as CSV and PDF, the plan and its advice; another account's line is a 404, a
bad month a 422, and no token a 401."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.channels.statements import CSV_COLUMNS
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.buy_plan import buy_plan
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up
from tests.access import signed_in_token
from tests.conftest import NOW

MOVISTAR = "+5491123456789"
STRANGER = "+5491155554444"


@pytest.fixture
def app(saldo: Saldo) -> TestClient:
    for msisdn in (MOVISTAR, STRANGER):
        add_line(saldo.uow(), new_line=NewLine(msisdn=msisdn, operator="movistar-ar"), now=NOW)
    top_up(saldo.uow(), msisdn=MOVISTAR, amount=Money.of("10000", "ARS"), channel=Channel.STORE,
           idempotency_key="seed", now=NOW)  # fmt: skip
    buy_plan(saldo.uow(), msisdn=MOVISTAR, plan_code="pack-mensual-1m", channel=Channel.SMS,
             idempotency_key="plan", now=NOW)  # fmt: skip
    return TestClient(create_app(saldo))


@pytest.fixture
def signed(saldo: Saldo) -> dict[str, str]:
    return {"Authorization": f"Bearer {signed_in_token(saldo, MOVISTAR, at=NOW)}"}


def test_daily_use_has_every_day_asked(app: TestClient, signed: dict[str, str]) -> None:
    answered = app.get(f"/api/v1/lines/{MOVISTAR}/usage?days=7", headers=signed)

    assert answered.status_code == 200
    body = answered.json()
    assert [d["day"] for d in body["days"]][-1] == "2026-11-22"
    assert len(body["days"]) == 7
    assert body["total"]["money"] == {"amount": "0.00", "currency": "ARS", "minor": 0}
    assert body["timezone"] == "America/Argentina/Buenos_Aires"


def test_the_month_s_movements_with_their_receipts(app: TestClient, signed: dict[str, str]) -> None:
    answered = app.get(f"/api/v1/lines/{MOVISTAR}/movements?month=2026-11", headers=signed)

    assert answered.status_code == 200
    body = answered.json()
    assert body["month"] == "2026-11"
    assert [(m["kind"], m["amount"]["minor"], m["receipt"]) for m in body["movements"]] == [
        ("topup", 1_000_000, "MOVISTAR-AR-T-000000001"),
        ("plan", -900_000, None),
    ]
    assert body["movements"][0]["local_time"] == "2026-11-22T12:00:00-03:00"
    assert body["movements"][1]["item"] == "Pack Mensual 30 días"
    assert body["totals"]["net"]["minor"] == 100_000


def test_the_statement_downloads_as_csv_and_pdf(app: TestClient, signed: dict[str, str]) -> None:
    as_csv = app.get(f"/api/v1/lines/{MOVISTAR}/statements/2026-11.csv", headers=signed)
    as_pdf = app.get(f"/api/v1/lines/{MOVISTAR}/statements/2026-11.pdf", headers=signed)

    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["content-disposition"] == 'attachment; filename="statement-2026-11.csv"'
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 2
    assert as_pdf.status_code == 200
    assert as_pdf.headers["content-type"] == "application/pdf"
    assert as_pdf.content.startswith(b"%PDF-")


def test_the_plan_and_its_advice(app: TestClient, signed: dict[str, str]) -> None:
    answered = app.get(f"/api/v1/lines/{MOVISTAR}/plan", headers=signed)

    assert answered.status_code == 200
    body = answered.json()
    assert body["current"]["code"] == "pack-mensual-1m"
    assert body["current"]["price"]["minor"] == 900_000
    # Nothing used yet: the cheapest a month, the yearly pack, would have cost less.
    assert body["advice"]["verdict"] == "switch"
    assert body["advice"]["best"]["code"] == "pack-anual-12m"
    assert body["advice"]["summary"] == (
        "Pack Anual 12 meses lo cubre por $7.916,67 al mes, "
        "$1.083,33 menos que los $9.000,00 que pagaste."
    )


@pytest.mark.parametrize(
    "path",
    ["usage", "movements", "statements/2026-11.csv", "statements/2026-11.pdf", "plan"],
)
def test_another_account_s_line_is_a_404(
    app: TestClient, signed: dict[str, str], path: str
) -> None:
    answered = app.get(f"/api/v1/lines/{STRANGER}/{path}", headers=signed)

    assert answered.status_code == 404
    assert answered.json()["error"]["code"] == "line_not_found"


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("movements?month=2026-13", "invalid_month"),
        ("movements?month=2027-01", "invalid_month"),
        ("movements?month=nov", "invalid_request"),
        ("statements/2026-00.csv", "invalid_month"),
        ("statements/2030-01.pdf", "invalid_month"),
        ("statements/26-1.pdf", "invalid_request"),
        ("usage?days=0", "invalid_request"),
        ("usage?days=367", "invalid_request"),
    ],
)
def test_a_bad_month_or_days_is_a_422(
    app: TestClient, signed: dict[str, str], path: str, code: str
) -> None:
    answered = app.get(f"/api/v1/lines/{MOVISTAR}/{path}", headers=signed)

    assert answered.status_code == 422
    assert answered.json()["error"]["code"] == code


def test_without_a_token_it_is_a_401(app: TestClient) -> None:
    answered = app.get(f"/api/v1/lines/{MOVISTAR}/statements/2026-11.pdf")

    assert answered.status_code == 401
    assert answered.headers["WWW-Authenticate"] == "Bearer"
