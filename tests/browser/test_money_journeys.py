"""A subscriber's money in a real browser (tests/browser/conftest.py), on SQLite and
PostgreSQL: a voucher redeemed and a top-up paid with one of the sandbox's test cards (in
Spanish), then a top-up pending at the processor that settles while its page waits; a
renewal paid in US dollars (in French), declined with one card and paid with another. The
ledger audits clean after each."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from saldo.domain.fx import ExchangeRate
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.audit import audit_ledger
from saldo.services.exchange_rates import load_rates
from saldo.services.lines import NewLine, add_line
from saldo.services.reconciliation import reconcile_payments
from saldo.services.top_up import top_up
from saldo.services.vouchers import generate_vouchers
from tests.browser.conftest import Portal
from tests.browser.test_journeys import sign_in
from tests.conftest import NOW

MOVISTAR = "+5491123456789"  # movistar-ar, Spanish: online top-ups from $2.000
PROXIMUS = "+32470123456"  # proximus-be, French, in euros


def line_page(page: Any, portal: Portal, msisdn: str) -> None:
    page.goto(portal.url + "/lines/" + msisdn.replace("+", "%2B"))


def test_a_voucher_a_card_top_up_and_a_pending_one_that_settles_in_spanish(
    portal: Portal, phone: Any
) -> None:
    portal.journey = "money-topup"
    saldo = portal.saldo
    line = NewLine(msisdn=MOVISTAR, operator="movistar-ar", language="es")
    add_line(saldo.uow(), new_line=line, now=NOW)
    top_up(
        saldo.uow(), msisdn=MOVISTAR, amount=Money.of("1500", "ARS"), channel=Channel.STORE,
        idempotency_key="seed", now=NOW,
    )  # fmt: skip
    batch = generate_vouchers(
        saldo.uow(), operator="movistar-ar", value=Money.of("2000", "ARS"), count=1,
        expires_at=NOW + timedelta(days=90), created_by="test", pin_key=saldo.pin_key, now=NOW,
    )  # fmt: skip

    sign_in(phone, portal, MOVISTAR)
    line_page(phone, portal, MOVISTAR)
    portal.check(phone, "line")
    phone.get_by_role("link", name="Cargar una tarjeta prepaga").click()
    phone.wait_for_url("**/voucher")
    portal.check(phone, "voucher")
    phone.get_by_label("PIN de la tarjeta").fill(batch.vouchers[0].pin)
    phone.get_by_role("button", name="Cargar").click()
    phone.wait_for_url("**/receipts/**")
    portal.check(phone, "voucher-receipt")
    receipt = phone.locator("main").inner_text()

    phone.get_by_role("link", name="Volver a la línea").click()
    phone.get_by_role("link", name="Recargar con tarjeta").click()
    phone.wait_for_url("**/topup")
    portal.check(phone, "topup-form")
    phone.get_by_label("$5.000,00").check()
    phone.get_by_role("button", name="Continuar").click()
    phone.wait_for_url("**/sandbox/checkout**")
    portal.check(phone, "sandbox-card-page")
    phone.get_by_role("link", name="Tarjeta terminada en 4242").click()
    phone.wait_for_url("**/topup/confirm**")
    portal.check(phone, "topup-confirm")
    phone.get_by_role("button", name="Pagar $5.000,00").click()
    phone.wait_for_url("**/topup/*")
    portal.check(phone, "topup-paid")
    paid = phone.locator("main").inner_text()

    phone.get_by_role("link", name="Volver a la línea").click()
    phone.get_by_role("link", name="Recargar con tarjeta").click()
    phone.get_by_label("$2.000,00").check()
    phone.get_by_role("button", name="Continuar").click()
    phone.get_by_role("link", name="Tarjeta terminada en 1000").click()
    phone.get_by_role("button", name="Pagar $2.000,00").click()
    phone.wait_for_url("**/topup/*")
    portal.check(phone, "topup-pending")
    pending = phone.locator("main").inner_text()
    saldo.clock.advance(timedelta(minutes=3))  # type: ignore[attr-defined]
    reconcile_payments(saldo.uow(), saldo.payment_providers(), now=saldo.clock.now())
    phone.reload()
    portal.check(phone, "topup-settled")
    settled = phone.locator("main").inner_text()

    assert "$3.500,00" in receipt  # 1.500 + the voucher's 2.000
    assert "Recarga hecha" in paid
    assert "$8.500,00" in paid
    assert "Tarjeta terminada en 4242" in paid
    assert "confirmando" in pending
    assert "Recarga hecha" in settled
    assert "$10.500,00" in settled
    assert audit_ledger(saldo.uow()).clean


def test_a_renewal_paid_in_dollars_after_a_declined_card_in_french(
    portal: Portal, phone: Any
) -> None:
    portal.journey = "money-renew"
    saldo = portal.saldo
    line = NewLine(msisdn=PROXIMUS, operator="proximus-be", language="fr")
    add_line(saldo.uow(), new_line=line, now=NOW)
    load_rates(
        saldo.uow(),
        rates=[ExchangeRate("EUR", "USD", Decimal("1.0876"), "ecb", NOW - timedelta(hours=2))],
        now=NOW,
    )

    sign_in(phone, portal, PROXIMUS)
    line_page(phone, portal, PROXIMUS)
    phone.get_by_role("link", name="Renouveler : 1, 3 ou 12 mois").click()
    phone.wait_for_url("**/renew")
    phone.get_by_label("Mobile Smart 3 mois · 42,00 €").check()
    phone.get_by_label("Devise de paiement").select_option("USD")
    portal.check(phone, "renew-form")
    phone.get_by_role("button", name="Voir le prix").click()
    phone.wait_for_url("**/renew/quote**")
    portal.check(phone, "quote")
    quote = phone.locator("main").inner_text()
    phone.get_by_role("button", name="Confirmer et payer").click()
    phone.wait_for_url("**/orders/*")
    portal.check(phone, "order")
    phone.get_by_role("link", name="Payer par carte").click()
    phone.get_by_role("link", name="Carte se terminant par 0002").click()
    phone.get_by_role("button", name="Payer avec : Carte se terminant par 0002").click()
    phone.wait_for_url("**/pay")
    portal.check(phone, "declined")
    declined = phone.locator("main").inner_text()
    phone.get_by_role("link", name="Payer par carte").click()
    phone.get_by_role("link", name="Carte se terminant par 4242").click()
    phone.get_by_role("button", name="Payer avec : Carte se terminant par 4242").click()
    phone.wait_for_url("**/orders/*")
    portal.check(phone, "renewed")
    renewed = phone.locator("main").inner_text()

    assert "1 USD = " in quote
    assert "US" in quote and "$" in quote
    assert "card_declined" in declined
    assert "Ligne renouvelée" in renewed
    assert "PROXIMUS-BE-" in renewed
    assert "4242" in renewed
    assert audit_ledger(saldo.uow()).clean
