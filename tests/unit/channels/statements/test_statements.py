"""A statement rendered: the CSV's stable columns, the strings of the PDF in each language,
and the PDF itself (its fonts embedded, Chinese in Noto Sans CJK SC)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from saldo.channels.statements import CSV_COLUMNS, FontMissing, statement_csv, statement_pdf
from saldo.channels.statements import pdf as pdf_module
from saldo.channels.statements.view import statement_text
from saldo.domain.money import Money
from saldo.domain.operator import Allowances, Presentation
from saldo.domain.statement import MovementKind
from saldo.services.history import Movement, Statement, Totals

GB = 1024**3


def ars(minor: int) -> Money:
    return Money(minor, "ARS")


MOVEMENTS = (
    Movement(
        at=datetime(2026, 11, 2, 12, 0, tzinfo=UTC),
        kind=MovementKind.TOPUP,
        item=None,
        channel="app",
        amount=ars(1_000_000),
        balance_change=ars(1_000_000),
        balance_after=ars(1_700_000),
        bonus=ars(0),
        allowances=Allowances(),
        receipt="MOVISTAR-AR-T-000000003",
    ),
    Movement(
        at=datetime(2026, 11, 3, 12, 0, tzinfo=UTC),
        kind=MovementKind.PLAN,
        item="Pack Mensual 30 días",
        channel="sms",
        amount=ars(-900_000),
        balance_change=ars(-900_000),
        balance_after=ars(800_000),
        bonus=ars(0),
        allowances=Allowances(voice_seconds=60_000, sms=500, data_bytes=10 * GB),
        receipt=None,
    ),
    Movement(
        at=datetime(2026, 11, 6, 12, 0, tzinfo=UTC),
        kind=MovementKind.USAGE,
        item="data",
        channel="network",
        amount=ars(0),
        balance_change=ars(0),
        balance_after=None,
        bonus=ars(0),
        allowances=Allowances(data_bytes=-3 * GB),
        receipt=None,
    ),
    Movement(
        at=datetime(2026, 11, 8, 12, 0, tzinfo=UTC),
        kind=MovementKind.ADJUSTMENT,
        item="=HYPERLINK(1)",
        channel="staff",
        amount=ars(50_000),
        balance_change=ars(50_000),
        balance_after=ars(850_000),
        bonus=ars(0),
        allowances=Allowances(),
        receipt=None,
    ),
)


def statement(language: str = "es", locale: str = "es_AR", movements=MOVEMENTS) -> Statement:  # type: ignore[no-untyped-def]
    return Statement(
        operator_name="Movistar",
        hotline="*611",
        msisdn_masked="+54911*****234",
        language=language,
        month="2026-11",
        first_day=date(2026, 11, 1),
        last_day=date(2026, 11, 30),
        opening=ars(700_000),
        closing=ars(850_000),
        movements=movements,
        totals=Totals(credits=ars(1_050_000), debits=ars(-900_000), net=ars(150_000)),
        made_at=datetime(2026, 11, 22, 15, 0, tzinfo=UTC),
        shown=Presentation(
            operator="movistar-ar",
            operator_name="Movistar",
            locale=locale,
            timezone="America/Argentina/Buenos_Aires",
            currency="ARS",
        ),
    )


def test_the_csv_has_its_stable_columns_and_one_row_a_movement() -> None:
    rows = list(csv.DictReader(io.StringIO(statement_csv(statement()))))

    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0] == {
        "date": "2026-11-02T09:00:00-03:00",
        "kind": "topup",
        "item": "",
        "channel": "app",
        "amount": "10000.00",
        "currency": "ARS",
        "balance_change": "10000.00",
        "balance_after": "17000.00",
        "bonus_change": "0.00",
        "voice_seconds": "0",
        "sms": "0",
        "data_bytes": "0",
        "receipt": "MOVISTAR-AR-T-000000003",
    }
    assert (rows[1]["kind"], rows[1]["amount"], rows[1]["data_bytes"]) == (
        "plan", "-9000.00", str(10 * GB)
    )  # fmt: skip
    assert rows[2]["balance_after"] == ""


def test_a_reason_a_spreadsheet_would_read_as_a_formula_is_kept_as_text() -> None:
    rows = list(csv.DictReader(io.StringIO(statement_csv(statement()))))

    assert rows[3]["item"] == "'=HYPERLINK(1)"


def test_the_statement_s_strings_are_in_the_line_s_language_and_locale() -> None:
    text = statement_text(statement())

    assert text.title == "Resumen 2026-11 — Movistar"
    assert text.header[0] == ("Línea", "+54911*****234")
    assert text.header[1] == ("Período", "del 1 nov 2026 al 30 nov 2026")
    assert text.header[2] == ("Saldo inicial", "$7.000,00")
    assert text.rows[0].moment == "2 nov 2026 09:00"
    assert text.rows[1].description == "Plan: Pack Mensual 30 días"
    assert text.rows[2].description == "Consumo: datos (3 GB)"
    assert text.rows[1].amount == "-$9.000,00"
    assert text.totals[0] == ("Ingresos", "$10.500,00")


@pytest.mark.parametrize(
    ("language", "locale", "title"),
    [
        ("fr", "fr_BE", "Relevé 2026-11 — Movistar"),
        ("nl", "nl_BE", "Overzicht 2026-11 — Movistar"),
        ("en", "en", "Statement 2026-11 — Movistar"),
        ("zh", "zh_CN", "2026-11 对账单 — Movistar"),
    ],
)
def test_every_language_has_the_statement_s_words(language: str, locale: str, title: str) -> None:
    text = statement_text(statement(language, locale))

    assert text.title == title
    assert all(label for label, _ in text.header)


def test_the_pdf_embeds_dejavu_for_spanish_and_noto_cjk_for_chinese() -> None:
    spanish = statement_pdf(statement())
    chinese = statement_pdf(statement("zh", "zh_CN"))
    empty = statement_pdf(statement(movements=()))

    assert spanish.startswith(b"%PDF-") and b"DejaVuSans" in spanish
    assert b"/Lang (es-AR)" in spanish
    assert chinese.startswith(b"%PDF-") and b"NotoSansCJK" in chinese
    assert b"/Lang (zh-CN)" in chinese
    assert empty.startswith(b"%PDF-")


def test_a_missing_font_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    gone = pdf_module.Font("fonts-noto-cjk", Path("/nowhere/a.ttc"), Path("/nowhere/b.ttc"), 2)
    monkeypatch.setattr(pdf_module, "_NOTO_CJK_SC", gone)

    with pytest.raises(FontMissing) as refused:
        statement_pdf(statement("zh", "zh_CN"))

    assert "fonts-noto-cjk" in refused.value.message
