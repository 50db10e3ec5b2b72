"""A line's history in the portal over HTTP, on SQLite and PostgreSQL: its daily use as charts
and a table with every day, a month's movements with their receipts and the months around
it, the statement as the same CSV and PDF files as the app API's, the plan with the advice's
arithmetic; another account's line is the not-found page, a bad month a 400 page, and without
a session every page sends to the sign-in page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.rating import Service
from saldo.services.buy_plan import buy_plan
from saldo.services.cdr_import import import_usage
from saldo.services.charge_usage import UsageEvent
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up
from tests.access import signed_in_token
from tests.conftest import NOW
from tests.portal import sign_in

MOVISTAR = "+5491123456789"  # America/Argentina/Buenos_Aires (UTC-3)
STRANGER = "+5491155554444"
LINE = "/lines/%2B5491123456789"
GB = 1024**3
PAGES = (
    "usage",
    "movements",
    "movements?month=2026-10",
    "statement?month=2026-11&format=pdf",
    "statements/2026-11.csv",
    "statements/2026-11.pdf",
    "plan",
)


def at(month: int, day: int, hour: int = 15) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def portal(saldo: Saldo) -> TestClient:
    """A Movistar line that topped up, bought the monthly pack and used data, calls and SMS
    on three days of November; a line of another account."""
    for msisdn in (MOVISTAR, STRANGER):
        add_line(saldo.uow(), new_line=NewLine(msisdn=msisdn, operator="movistar-ar"),
                 now=at(10, 1))  # fmt: skip
    top_up(saldo.uow(), msisdn=MOVISTAR, amount=Money.of("10000", "ARS"), channel=Channel.STORE,
           idempotency_key="seed", now=at(11, 2))  # fmt: skip
    buy_plan(saldo.uow(), msisdn=MOVISTAR, plan_code="pack-mensual-1m", channel=Channel.WEB,
             idempotency_key="plan", now=at(11, 3))  # fmt: skip
    events = [
        (Service.DATA, "data-1", at(11, 5), 2 * GB, None),
        (Service.VOICE, "call-1", at(11, 5, 16), 185, "+541143210000"),
        (Service.DATA, "data-2", at(11, 20), GB // 2, None),
        (Service.SMS, "sms-1", at(11, 21), 1, "+5491155550000"),
    ]
    rows = [
        (n, UsageEvent(record_id=key, msisdn=MOVISTAR, service=service, started_at=started,
                       quantity=quantity, destination=to))
        for n, (service, key, started, quantity, to) in enumerate(events, start=2)
    ]  # fmt: skip
    import_usage(saldo.uow(), rows=iter(rows), now=at(11, 21, 18))
    return TestClient(create_app(saldo), base_url="https://testserver")


@pytest.fixture
def signed(portal: TestClient, saldo: Saldo) -> TestClient:
    answer = sign_in(portal, saldo, MOVISTAR)
    assert answer.status_code == 303, answer.text
    return portal


def rows_of(page: str) -> list[str]:
    return re.findall(r'<tr><th scope="row">([^<]+)</th>', page)


# -- daily use ------------------------------------------------------------------------------------


def test_the_usage_page_charts_each_service_used_with_every_day_in_its_table(
    signed: TestClient,
) -> None:
    page = signed.get(f"{LINE}/usage")

    assert page.status_code == 200
    text = page.text
    assert "<h1>Consumo de los últimos 30 días</h1>" in text
    assert "del 24 oct 2026 al 22 nov 2026" in text
    # The totals, above the charts.
    assert text.index("2,5 GB") < text.index("<svg viewBox")
    assert "3 min 5 s" in text
    for chart in ("data", "voice", "sms"):
        assert f'<title id="chart-{chart}-title">' in text
        assert f'aria-describedby="chart-{chart}-summary"' in text
    assert "Datos por día" in text
    assert "el máximo, 2 GB, el 5 nov 2026" in text
    assert 'id="chart-money-title"' not in text  # the plan covered every use
    assert text.count('<rect class="bar"') == 4  # data twice, a call, an SMS
    assert text.count('<rect class="zero"') == 3 * 30 - 4
    days = rows_of(text)
    assert len(days) == 31  # every day, newest first, and the total
    assert (days[0], days[-2], days[-1]) == ("22 nov", "24 oct", "Total")
    assert (
        '<caption id="use-caption">Consumo por día, del 24 oct 2026 al 22 nov 2026</caption>'
        in text
    )
    quiet_day = text.split('<th scope="row">6 nov</th>')[1].split("</tr>")[0]
    assert quiet_day == "<td>0 MB</td><td>0 min</td><td>0</td><td>$0,00</td>"


def test_a_line_without_use_says_so_under_each_service(portal: TestClient, saldo: Saldo) -> None:
    sign_in(portal, saldo, STRANGER)

    page = portal.get("/lines/%2B5491155554444/usage")

    assert page.status_code == 200
    assert "<svg" not in page.text.split("<main")[1]
    assert "No usaste datos en estos días." in page.text
    assert "No hubo llamadas en estos días." in page.text
    assert len(rows_of(page.text)) == 31


# -- movements ------------------------------------------------------------------------------------


def test_this_month_s_movements_come_newest_first_with_their_receipts(
    signed: TestClient,
) -> None:
    page = signed.get(f"{LINE}/movements")

    assert page.status_code == 200
    text = page.text
    assert "<h1>Movimientos de noviembre de 2026</h1>" in text
    assert text.index("Consumo: SMS") < text.index("Plan: Pack Mensual 30 días")
    assert text.index("Plan: Pack Mensual 30 días") < text.index("Recarga")
    assert "+$10.000,00" in text
    assert "-$9.000,00" in text
    assert "saldo después: $1.000,00" in text
    assert "Comprobante MOVISTAR-AR-T-000000001" in text
    assert "<dt>Por</dt><dd>comercio</dd>" in text
    assert "<dt>Sumado</dt><dd>1.000 min, 500 SMS, 10 GB</dd>" in text
    # A month before, none after this one; the statement form's month is this one.
    assert f'href="{LINE}/movements?month=2026-10"' in text
    assert 'rel="next"' not in text
    assert '<option value="2026-11" selected>Noviembre de 2026</option>' in text
    assert f'action="{LINE}/statement"' in text


def test_an_earlier_month_links_both_ways_and_an_empty_one_says_so(signed: TestClient) -> None:
    october = signed.get(f"{LINE}/movements?month=2026-10")

    assert october.status_code == 200
    assert "No hubo movimientos en esta línea en octubre de 2026." in october.text
    assert f'rel="prev" href="{LINE}/movements?month=2026-09"' in october.text
    assert f'rel="next" href="{LINE}/movements?month=2026-11"' in october.text
    assert '<option value="2026-10" selected>' in october.text


@pytest.mark.parametrize(
    "path",
    [
        "movements?month=2026-13",
        "movements?month=2026-12",
        "movements?month=nov",
        "statements/2026-00.csv",
        "statements/2030-01.pdf",
        "statement?month=noviembre&format=pdf",
        "statement?month=2026-11&format=doc",
    ],
)
def test_a_month_badly_written_or_to_come_is_a_400_page(signed: TestClient, path: str) -> None:
    refused = signed.get(f"{LINE}/{path}", follow_redirects=False)

    assert refused.status_code == 400
    assert "invalid_month" in refused.text
    assert "That month cannot be shown" in refused.text  # no line: the browser's language


# -- statements -----------------------------------------------------------------------------------


def test_the_statement_form_sends_to_the_month_s_file(signed: TestClient) -> None:
    chosen = signed.get(f"{LINE}/statement?month=2026-10&format=csv", follow_redirects=False)

    assert chosen.status_code == 303
    assert chosen.headers["location"] == f"{LINE}/statements/2026-10.csv"


def test_the_statement_downloads_are_the_app_api_s_files(signed: TestClient, saldo: Saldo) -> None:
    as_csv = signed.get(f"{LINE}/statements/2026-11.csv")
    as_pdf = signed.get(f"{LINE}/statements/2026-11.pdf")
    token = signed_in_token(saldo, MOVISTAR, at=NOW)
    app_csv = TestClient(create_app(saldo)).get(
        f"/api/v1/lines/{MOVISTAR}/statements/2026-11.csv",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["content-disposition"] == 'attachment; filename="statement-2026-11.csv"'
    assert as_csv.content == app_csv.content
    assert as_csv.text.startswith("date,kind,item,channel,amount,")
    assert as_csv.headers["cache-control"] == "no-store"
    assert as_pdf.status_code == 200
    assert as_pdf.headers["content-type"] == "application/pdf"
    assert as_pdf.headers["content-disposition"] == 'attachment; filename="statement-2026-11.pdf"'
    assert as_pdf.content.startswith(b"%PDF-")


# -- the plan and the advice ----------------------------------------------------------------------


def test_the_plan_page_shows_the_plan_and_the_advice_with_its_arithmetic(
    signed: TestClient,
) -> None:
    page = signed.get(f"{LINE}/plan")

    assert page.status_code == 200
    text = page.text
    assert "<dt>Plan</dt><dd>Pack Mensual 30 días</dd>" in text
    assert "<dt>Precio</dt><dd>$9.000,00 por 1 mes</dd>" in text
    assert "<dt>Incluye</dt><dd>1.000 min, 500 SMS, 10 GB</dd>" in text
    assert "<dt>Comprado el</dt><dd>3 nov 2026</dd>" in text
    # 2,5 GB and 4 minutes a month: the yearly pack covers it for less a month.
    assert "Podrías pagar $1.083,33 menos por mes" in text
    assert (
        "Pack Anual 12 meses lo cubre por $7.916,67 al mes, "
        "$1.083,33 menos que los $9.000,00 que pagaste."
    ) in text
    assert "<dt>Pagaste por mes</dt><dd>$9.000,00</dd>" in text
    assert "<dt>Ahorrarías por mes</dt><dd>$1.083,33</dd>" in text


def test_the_pages_speak_the_language_chosen_in_the_line_s_country(signed: TestClient) -> None:
    signed.cookies.set("saldo_language", "zh")

    plan = signed.get(f"{LINE}/plan")
    movements = signed.get(f"{LINE}/movements")

    assert '<html lang="zh-Hans">' in plan.text
    assert "年度套餐12个月 每月 ARS" in plan.text
    assert "2026年11月收支明细" in movements.text


# -- who sees what --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_another_account_s_line_is_the_not_found_page(signed: TestClient, path: str) -> None:
    theirs = signed.get(f"/lines/%2B5491155554444/{path}")

    assert theirs.status_code == 404
    assert "line_not_found" in theirs.text
    assert "Movistar" not in theirs.text


@pytest.mark.parametrize("path", PAGES)
def test_without_a_session_each_page_sends_to_sign_in(portal: TestClient, path: str) -> None:
    answer = portal.get(f"{LINE}/{path}", follow_redirects=False)

    assert (answer.status_code, answer.headers["location"]) == (303, "/sign-in")
