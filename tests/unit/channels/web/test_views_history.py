"""The history pages' views: the chart's bars against the busiest day, every day in the table
(zeros too, newest first), the months around a month's movements, amounts signed and written
in the page's language for the line's country."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from saldo.channels.web.views_history import HEIGHT, TOP, usage_page
from saldo.channels.web.views_history_movements import movements_page
from saldo.domain.money import Money
from saldo.domain.operator import Allowances, Presentation
from saldo.domain.statement import MovementKind
from saldo.services.daily_use import DailyUseView, DayUse
from saldo.services.history import Movement, MovementsView, Totals

SHOWN = Presentation(
    operator="movistar-ar",
    operator_name="Movistar",
    locale="es_AR",
    timezone="America/Argentina/Buenos_Aires",
    currency="ARS",
)
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
MB = 1024 * 1024


def day_use(day: date, *, data_mb: int = 0, money: int = 0) -> DayUse:
    return DayUse(
        day=day, voice_seconds=0, sms=0, data_bytes=data_mb * MB, money=Money(money, "ARS")
    )


def daily(*uses: DayUse) -> DailyUseView:
    return DailyUseView(
        msisdn="+5491123456789",
        days=uses,
        total=DayUse(
            day=uses[-1].day,
            voice_seconds=0,
            sms=0,
            data_bytes=sum(u.data_bytes for u in uses),
            money=Money(sum(u.money.minor for u in uses), "ARS"),
        ),
        peak=DayUse(
            day=uses[-1].day,
            voice_seconds=0,
            sms=0,
            data_bytes=max(u.data_bytes for u in uses),
            money=Money(max(u.money.minor for u in uses), "ARS"),
        ),
        shown=SHOWN,
    )


def test_the_busiest_day_reaches_the_top_and_a_day_without_use_stays_on_the_baseline() -> None:
    first = date(2026, 11, 20)
    view = daily(
        day_use(first, data_mb=100),
        day_use(first + timedelta(days=1)),
        day_use(first + timedelta(days=2), data_mb=400),
    )

    page = usage_page(view, language="es")

    (chart,) = page.charts  # data only: no calls, SMS or money
    busy, quiet, busiest = chart.bars
    assert busiest.y == TOP and busiest.height == HEIGHT - TOP
    assert busy.height == (HEIGHT - TOP) / 4
    assert quiet.zero and quiet.y + quiet.height == HEIGHT
    assert busiest.label == "22 nov 2026: 400 MB"
    assert (
        chart.summary
        == "del 20 nov 2026 al 22 nov 2026: 500 MB en total; el máximo, 400 MB, el 22 nov 2026."
    )
    assert page.unused == (
        "No hubo llamadas en estos días.",
        "No hubo SMS en estos días.",
    )
    assert [row.day for row in page.rows] == ["22 nov", "21 nov", "20 nov"]
    assert page.rows[1].values == ("0 MB", "0 min", "0", "$0,00")


def test_money_is_charted_only_where_use_was_charged_to_it() -> None:
    first = date(2026, 11, 21)
    view = daily(day_use(first, money=38_000), day_use(first + timedelta(days=1), data_mb=2))

    page = usage_page(view, language="en")

    assert [chart.key for chart in page.charts] == ["data", "money"]
    assert page.totals[-1].value == "ARS380.00"  # English, in Argentina's currency


def movements(month: str, *found: Movement) -> MovementsView:
    return MovementsView(
        msisdn="+5491123456789",
        month=month,
        starts_at=NOW,
        ends_at=NOW,
        movements=found,
        totals=Totals(Money(0, "ARS"), Money(0, "ARS"), Money(0, "ARS")),
        shown=SHOWN,
    )


def test_this_month_links_to_the_one_before_and_an_earlier_one_both_ways() -> None:
    this = movements_page(movements("2026-11"), language="es", now=NOW)
    earlier = movements_page(movements("2026-09"), language="fr", now=NOW)

    assert this.previous is not None and this.previous.href.endswith("?month=2026-10")
    assert this.next is None
    assert this.empty == "No hubo movimientos en esta línea en noviembre de 2026."
    assert earlier.next is not None and earlier.next.text == "octobre 2026 →"
    assert [m.value for m in this.months][:2] == ["2026-11", "2026-10"]
    assert [m.value for m in this.months if m.selected] == ["2026-11"]


def test_a_top_up_is_signed_and_carries_its_receipt() -> None:
    top_up = Movement(
        at=datetime(2026, 11, 2, 15, 0, tzinfo=UTC),
        kind=MovementKind.TOPUP,
        item=None,
        channel="store",
        amount=Money(1_000_000, "ARS"),
        balance_change=Money(1_000_000, "ARS"),
        balance_after=Money(1_000_000, "ARS"),
        bonus=Money(0, "ARS"),
        allowances=Allowances(),
        receipt="MOVISTAR-AR-T-000000001",
    )

    (item,) = movements_page(movements("2026-11", top_up), language="es", now=NOW).items

    assert (item.what, item.amount, item.credit) == ("Recarga", "+$10.000,00", True)
    assert item.when == "2 nov 2026 12:00"
    assert item.receipt_title == "Comprobante MOVISTAR-AR-T-000000001"
    assert ("Por", "comercio") in [(fact.label, fact.value) for fact in item.receipt]
