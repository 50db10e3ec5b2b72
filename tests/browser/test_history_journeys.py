"""A subscriber reads a line's history in a real browser (tests/browser/conftest.py): the
daily use as charts and then as a table, the month's movements with a receipt opened, the
statement downloaded as PDF and as CSV, the plan and its advice; in Spanish with JavaScript
on (htmx), then in Chinese with JavaScript off."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.rating import Service
from saldo.services.buy_plan import buy_plan
from saldo.services.cdr_import import import_usage
from saldo.services.charge_usage import UsageEvent
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up
from tests.browser.conftest import PHONE, Portal
from tests.browser.test_journeys import sign_in
from tests.conftest import NOW

MOVISTAR = "+5491123456789"
MB = 1024 * 1024


def given_a_line_with_usage(portal: Portal) -> None:
    """A Movistar Argentina line that topped up and bought the monthly pack three weeks ago,
    then used data most days, called now and then (once abroad, charged to its money) and
    sent a few SMS."""
    uow = portal.saldo.uow
    start = NOW - timedelta(days=21)
    add_line(uow(), new_line=NewLine(msisdn=MOVISTAR, operator="movistar-ar"),
             now=NOW - timedelta(days=40))  # fmt: skip
    top_up(uow(), msisdn=MOVISTAR, amount=Money.of("15000", "ARS"), channel=Channel.STORE,
           idempotency_key="seed", now=start)  # fmt: skip
    buy_plan(uow(), msisdn=MOVISTAR, plan_code="pack-mensual-1m", channel=Channel.WEB,
             idempotency_key="plan", now=start + timedelta(hours=1))  # fmt: skip
    events: list[tuple[Service, datetime, int, str | None]] = []
    for day in range(20):
        moment = start + timedelta(days=day + 1)
        if day % 4 != 3:
            events.append((Service.DATA, moment, (90 + 37 * (day % 7)) * MB, None))
        if day % 3 == 0:
            events.append(
                (Service.VOICE, moment + timedelta(hours=2), 60 * (2 + day % 5), "+541143210000")
            )
        if day % 5 == 1:
            events.append((Service.SMS, moment + timedelta(hours=3), 1, "+5491155550000"))
    events.append((Service.VOICE, NOW - timedelta(days=6), 4 * 60, "+33142000000"))
    # The records of each day come in a batch of their own, an hour after its last one, as
    # a network's daily files would.
    for day in sorted({started.date() for _, started, _, _ in events}):
        batch = [event for event in events if event[1].date() == day]
        rows = [
            (n, UsageEvent(record_id=f"cdr-{started:%m%d%H}-{service.value}", msisdn=MOVISTAR,
                           service=service, started_at=started, quantity=quantity,
                           destination=to))
            for n, (service, started, quantity, to) in enumerate(batch, start=2)
        ]  # fmt: skip
        import_usage(
            uow(), rows=iter(rows), now=max(event[1] for event in batch) + timedelta(hours=1)
        )


def overflow_on_a_small_phone(page: Any) -> int:
    """How many pixels the page is wider than a 360-pixel phone (0: nothing to scroll
    sideways; the day-by-day table scrolls inside its own box)."""
    page.set_viewport_size({"width": 360, "height": 740})
    width = int(page.evaluate("document.documentElement.scrollWidth"))
    page.set_viewport_size(PHONE)
    return width - 360


def downloaded(page: Any, button: str) -> tuple[str, bytes]:
    """Press the statement form's ``button``: the file's name and its first bytes."""
    with page.expect_download() as started:
        page.get_by_role("button", name=button).click()
    download = started.value
    return download.suggested_filename, Path(download.path()).read_bytes()[:16]


def test_a_subscriber_reads_a_line_s_history_and_downloads_its_statement(
    portal: Portal, phone: Any, browser: Any
) -> None:
    portal.journey = "history"
    given_a_line_with_usage(portal)

    # Spanish (the line's language), JavaScript on.
    sign_in(phone, portal, MOVISTAR)
    phone.get_by_role("link", name=MOVISTAR).click()
    phone.wait_for_url("**/lines/**")
    phone.get_by_role("link", name="Consumo", exact=True).click()
    phone.wait_for_url("**/usage")
    portal.check(phone, "usage-es")
    charts = phone.locator("figure.chart figcaption").all_inner_texts()
    phone.get_by_text("Ver los números en una tabla").click()
    phone.get_by_role("table").wait_for(state="visible")
    portal.check(phone, "usage-table-es")
    overflows = [overflow_on_a_small_phone(phone)]
    days = phone.locator("tbody tr").count()
    phone.get_by_role("link", name="Movimientos", exact=True).click()
    phone.wait_for_url("**/movements")
    phone.locator(".movements details summary").last.click()
    portal.check(phone, "movements-es")
    overflows.append(overflow_on_a_small_phone(phone))
    receipt = phone.locator(".movements details").last.inner_text()
    pdf = downloaded(phone, "Descargar PDF")
    csv = downloaded(phone, "Descargar CSV")
    phone.get_by_role("link", name="Plan y consejo").click()
    phone.wait_for_url("**/plan")
    portal.check(phone, "plan-es")
    overflows.append(overflow_on_a_small_phone(phone))
    verdict = phone.locator(".verdict").inner_text()

    # Chinese, JavaScript off.
    context = browser.new_context(
        viewport=PHONE, java_script_enabled=False, storage_state=phone.context.storage_state()
    )
    page = context.new_page()
    try:
        page.goto(phone.url)
        page.get_by_role("button", name="中文").click()
        page.locator("html[lang='zh-Hans']").wait_for(state="attached")
        portal.check(page, "plan-zh", without_javascript=browser)
        chinese_verdict = page.locator(".verdict").inner_text()
        page.get_by_role("link", name="用量", exact=True).click()
        page.get_by_text("以表格查看数字").click()
        portal.check(page, "usage-zh", without_javascript=browser)
        page.get_by_role("link", name="收支明细", exact=True).click()
        page.get_by_label("月份", exact=True).select_option("2026-10")
        october_pdf = downloaded(page, "下载 PDF")
        page.locator("a[rel='prev']").click()
        portal.check(page, "movements-october-zh", without_javascript=browser)
        october = page.locator("h1").inner_text()
    finally:
        context.close()

    assert charts == ["Datos por día", "Tiempo de llamadas por día", "SMS por día",
                      "Dinero gastado por día"]  # fmt: skip
    assert days == 30
    assert overflows == [0, 0, 0]
    assert "MOVISTAR-AR-T-000000001" in receipt
    assert pdf[0] == "statement-2026-11.pdf" and pdf[1].startswith(b"%PDF-")
    assert csv[0] == "statement-2026-11.csv" and csv[1].startswith(b"date,kind,item")
    assert verdict.startswith("Podrías pagar")
    assert chinese_verdict.startswith("您每月可以少付")
    assert october_pdf[0] == "statement-2026-10.pdf" and october_pdf[1].startswith(b"%PDF-")
    assert october == "2026年10月收支明细"
