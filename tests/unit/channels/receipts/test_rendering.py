"""Order receipts rendered for people: the plain text, the printable HTML page and the email,
in the line's language, with every amount, rate and date written for its locale.

The receipts are built by hand with fixed, consistent amounts:
- a Movistar Argentina line in Spanish paid in USD: 25.000 + 4.500 ARS less 10 % is 26.550 ARS
  (21 % IVA inside), at 1 USD = 1.176,4704 ARS (1.200,48 less a 2 % spread) that is
  22,57 USD, plus a 0,68 USD card fee: 23,25 USD;
- a Proximus line in French (and the same in Dutch) paying 42 + 5 EUR from its balance;
- a Movistar Argentina line in Chinese buying a year with one month free by PayPal in ARS.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from saldo.channels.receipts import (
    UnableToRenderReceipt,
    receipt_email,
    receipt_html,
    receipt_text,
)
from saldo.domain.money import Money
from saldo.services.ports.mail import OutgoingEmail
from saldo.services.receipts import Receipt

NBSP = "\u00a0"
PAID_AT = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)

ARS_IN_USD = Receipt(
    receipt_number="MOVISTAR-AR-2026-000042",
    order_id=42,
    operator_name="Movistar",
    hotline="121",
    msisdn="+5491123456789",
    language="es",
    locale="es_AR",
    timezone="America/Argentina/Buenos_Aires",
    plan_name="Pack Trimestral 90 días",
    months=3,
    free_months=0,
    addon_names=("5 GB extra",),
    gross=Money.of("29500", "ARS"),
    promotion="Verano 10 % off",
    discount=Money.of("2950", "ARS"),
    price=Money.of("26550", "ARS"),
    tax_rate=Decimal("0.21"),
    net=Money.of("21942.15", "ARS"),
    tax=Money.of("4607.85", "ARS"),
    pay_in="USD",
    market_rate=Decimal("1200.48"),
    rate=Decimal("1176.4704"),
    spread=Decimal("0.02"),
    converted=Money.of("22.57", "USD"),
    method="card",
    card_last4="4242",
    fee=Money.of("0.68", "USD"),
    total=Money.of("23.25", "USD"),
    paid_at=PAID_AT,
    # Midnight of 23 February in Buenos Aires: valid all of 22 February.
    valid_until=datetime(2027, 2, 23, 3, 0, tzinfo=UTC),
)

PROXIMUS_FR = Receipt(
    receipt_number="PROXIMUS-BE-2026-000007",
    order_id=7,
    operator_name="Proximus",
    hotline="6000",
    msisdn="+32470123456",
    language="fr",
    locale="fr_BE",
    timezone="Europe/Brussels",
    plan_name="Mobile Smart 3 mois",
    months=3,
    free_months=0,
    addon_names=("5 Go supplémentaires",),
    gross=Money.of("47.00", "EUR"),
    promotion=None,
    discount=Money.zero("EUR"),
    price=Money.of("47.00", "EUR"),
    tax_rate=Decimal("0.21"),
    net=Money.of("38.84", "EUR"),
    tax=Money.of("8.16", "EUR"),
    pay_in="EUR",
    market_rate=None,
    rate=None,
    spread=None,
    converted=Money.of("47.00", "EUR"),
    method="balance",
    card_last4=None,
    fee=Money.zero("EUR"),
    total=Money.of("47.00", "EUR"),
    paid_at=PAID_AT,
    # Midnight of 23 February in Brussels: valid all of 22 February.
    valid_until=datetime(2027, 2, 22, 23, 0, tzinfo=UTC),
)
PROXIMUS_NL = replace(PROXIMUS_FR, language="nl", locale="nl_BE")

CHINESE = replace(
    ARS_IN_USD,
    receipt_number="MOVISTAR-AR-2026-000043",
    order_id=43,
    language="zh",
    locale="zh_CN",
    plan_name="Pack Anual 12 meses",
    months=12,
    free_months=1,
    addon_names=(),
    gross=Money.of("95000", "ARS"),
    promotion="Anual + 1 mes gratis",
    discount=Money.zero("ARS"),
    price=Money.of("95000", "ARS"),
    net=Money.of("78512.40", "ARS"),
    tax=Money.of("16487.60", "ARS"),
    pay_in="ARS",
    market_rate=None,
    rate=None,
    spread=None,
    converted=Money.of("95000", "ARS"),
    method="paypal",
    card_last4=None,
    fee=Money.of("1425", "ARS"),
    total=Money.of("96425", "ARS"),
    valid_until=datetime(2027, 12, 23, 3, 0, tzinfo=UTC),
)


class _Reader(HTMLParser):
    """The text a person sees on the page (entities decoded), one string per element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden += tag in ("style", "title")

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("style", "title")

    def handle_data(self, data: str) -> None:
        if data.strip() and not self._hidden:
            self.texts.append(data.strip())


def seen_on_page(receipt: Receipt) -> list[str]:
    reader = _Reader()
    reader.feed(receipt_html(receipt))
    return reader.texts


def text_lines(receipt: Receipt) -> list[str]:
    return [line.strip() for line in receipt_text(receipt).splitlines() if line.strip()]


# -- what each language reads ------------------------------------------------------------------


def test_a_spanish_receipt_paid_in_dollars_reads_in_argentine_spanish() -> None:
    lines = text_lines(ARS_IN_USD)

    assert lines == [
        "Movistar — Recibo de renovación de plan",
        "N.º de recibo: MOVISTAR-AR-2026-000042",
        "N.º de pedido: 42",
        "Línea: +5491123456789",
        # 15:00 UTC is 12:00 in Buenos Aires.
        "Fecha de pago: 22 nov 2026 12:00",
        "Su plan",
        "Plan: Pack Trimestral 90 días",
        "Duración: 3 meses",
        "Adicionales: 5 GB extra",
        "Nueva vigencia: Válido hasta 22 feb 2027",
        "Importes",
        "Precio de lista: $29.500,00",
        "Promoción: Verano 10 % off",
        "Descuento: -$2.950,00",
        "Precio con impuestos: $26.550,00",
        "Neto: $21.942,15",
        "IVA (21%): $4.607,85",
        "Pago",
        "Tipo de cambio: 1 USD = 1.176,4704 ARS",  # exactly the rate used
        "Margen cambiario: 2%",
        "Importe convertido: US$22,57",
        "Medio de pago: Tarjeta de crédito •••• 4242",
        "Cargo por medio de pago: US$0,68",
        "Total pagado: US$23,25",
        "¿Consultas? Llame a Movistar al 121.",
    ]


def test_the_page_shows_the_same_labels_and_values_as_the_text() -> None:
    page = seen_on_page(ARS_IN_USD)

    for line in text_lines(ARS_IN_USD)[1:-1]:
        label, _, value = line.partition(": ")
        assert label in page
        if value:
            assert value in page
    assert page[:2] == ["Movistar", "Recibo de renovación de plan"]
    assert page[-1] == "¿Consultas? Llame a Movistar al 121."


def test_a_proximus_line_paying_from_its_balance_reads_in_belgian_french() -> None:
    lines = text_lines(PROXIMUS_FR)

    assert "Offre : Mobile Smart 3 mois" in lines
    assert "Durée : 3 mois" in lines
    assert "Options : 5 Go supplémentaires" in lines
    assert f"Prix TVA comprise : 47,00{NBSP}€" in lines
    assert f"Montant hors TVA : 38,84{NBSP}€" in lines
    assert f"TVA (21{NBSP}%) : 8,16{NBSP}€" in lines
    assert "Moyen de paiement : Solde de la ligne" in lines
    assert f"Total payé : 47,00{NBSP}€" in lines
    assert "Nouvelle validité : Valable jusqu'au 22 févr. 2027" in lines
    assert "Payé le : 22 nov. 2026 16:00" in lines
    assert "Valable jusqu'au 22 févr. 2027" in seen_on_page(PROXIMUS_FR)


def test_the_same_proximus_receipt_reads_in_belgian_dutch() -> None:
    lines = text_lines(PROXIMUS_NL)

    assert "Bundel: Mobile Smart 3 mois" in lines
    assert "Looptijd: 3 maanden" in lines
    assert f"Prijs incl. btw: €{NBSP}47,00" in lines
    assert f"Btw (21%): €{NBSP}8,16" in lines
    assert "Betaalmethode: Saldo van je lijn" in lines
    assert f"Totaal betaald: €{NBSP}47,00" in lines
    assert "Nieuwe geldigheid: Geldig tot 22 feb 2027" in lines
    assert "Vragen? Bel Proximus op 6000." in lines


def test_a_chinese_line_reads_in_simplified_chinese() -> None:
    lines = text_lines(CHINESE)

    assert lines[0] == "Movistar — 套餐续订收据"
    assert "收据编号：MOVISTAR-AR-2026-000043" in lines
    assert "支付时间：2026年11月22日 12:00" in lines
    assert "时长：12个月，另赠1个月" in lines
    assert "优惠活动：Anual + 1 mes gratis" in lines
    assert "税额（21%）：ARS16,487.60" in lines
    assert "支付方式：PayPal" in lines
    assert "手续费：ARS1,425.00" in lines
    assert "实付金额：ARS96,425.00" in lines
    assert "新有效期：有效期至2027年12月22日" in lines
    assert "如有疑问，请拨打Movistar客服热线121。" in lines


# -- what is shown only when it applies ---------------------------------------------------------


@pytest.mark.parametrize(
    ("months", "free_months", "language", "locale", "duration"),
    [
        (1, 0, "es", "es_AR", "1 mes"),
        (3, 1, "es", "es_AR", "3 meses + 1 gratis"),
        (6, 1, "fr", "fr_BE", "6 mois + 1 offert"),
        (12, 2, "fr", "fr_BE", "12 mois + 2 offerts"),
        (1, 1, "nl", "nl_BE", "1 maand + 1 gratis"),
        (6, 1, "en", "en", "6 months + 1 free"),
    ],
)
def test_the_duration_counts_paid_and_free_months_in_the_language(
    months: int, free_months: int, language: str, locale: str, duration: str
) -> None:
    receipt = replace(
        ARS_IN_USD, months=months, free_months=free_months, language=language, locale=locale
    )

    assert duration in receipt_text(receipt)
    assert duration in seen_on_page(receipt)


def test_without_an_exchange_rate_there_is_no_exchange_block() -> None:
    for shown in (receipt_text(PROXIMUS_FR), " ".join(seen_on_page(PROXIMUS_FR))):
        assert "Taux de change" not in shown
        assert "Marge de change" not in shown
        assert "Montant converti" not in shown


def test_a_zero_fee_is_not_shown_and_a_fee_is() -> None:
    assert "Frais de paiement" not in receipt_text(PROXIMUS_FR)
    assert "Frais de paiement" not in seen_on_page(PROXIMUS_FR)
    assert "Cargo por medio de pago" in seen_on_page(ARS_IN_USD)


def test_without_a_promotion_there_is_no_promotion_or_discount() -> None:
    text = receipt_text(PROXIMUS_FR)

    assert "Promotion" not in text
    assert "Réduction" not in text


def test_a_promotion_without_a_discount_shows_its_name_only() -> None:
    text = receipt_text(CHINESE)

    assert "优惠活动" in text
    assert "优惠金额" not in text


@pytest.mark.parametrize(
    ("method", "card_last4", "shown"),
    [
        ("card", "4242", "Tarjeta de crédito •••• 4242"),
        ("debit_card", "0005", "Tarjeta de débito •••• 0005"),
        ("paypal", None, "PayPal"),
        ("wallet", None, "Billetera virtual"),
        ("balance", None, "Saldo de la línea"),
    ],
)
def test_the_payment_method_is_named_in_the_language(
    method: str, card_last4: str | None, shown: str
) -> None:
    receipt = replace(ARS_IN_USD, method=method, card_last4=card_last4)

    assert f"Medio de pago: {shown}" in text_lines(receipt)


def test_an_unknown_payment_method_cannot_be_rendered() -> None:
    with pytest.raises(UnableToRenderReceipt, match="'cheque'"):
        receipt_text(replace(ARS_IN_USD, method="cheque"))


def test_a_rate_far_below_one_keeps_its_significant_digits() -> None:
    # 47 EUR / 0,000952381 = 49.349,99 ARS.
    receipt = replace(
        PROXIMUS_FR,
        pay_in="ARS",
        market_rate=Decimal("0.000962001"),
        rate=Decimal("0.000952381"),
        spread=Decimal("0.01"),
        converted=Money.of("49349.99", "ARS"),
        fee=Money.zero("ARS"),
        total=Money.of("49349.99", "ARS"),
    )

    assert "Taux de change : 1 ARS = 0,000952381 EUR" in text_lines(receipt)
    assert f"Marge de change : 1{NBSP}%" in text_lines(receipt)


# -- the HTML page ---------------------------------------------------------------------------


def test_names_from_the_receipt_are_escaped_on_the_page() -> None:
    receipt = replace(
        ARS_IN_USD,
        operator_name="<script>alert(1)</script>",
        plan_name='Pack "<b>90</b>" & más',
        promotion="<img src=x onerror=alert(2)>",
    )

    page = receipt_html(receipt)

    assert "<script>" not in page
    assert "<b>90</b>" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Pack &#34;&lt;b&gt;90&lt;/b&gt;&#34; &amp; más" in page
    assert "<script>alert(1)</script>" in seen_on_page(receipt)
    assert 'Plan: Pack "<b>90</b>" & más' in text_lines(receipt)


@pytest.mark.parametrize(
    ("receipt", "tag"),
    [
        (ARS_IN_USD, "es-AR"),
        (PROXIMUS_FR, "fr-BE"),
        (PROXIMUS_NL, "nl-BE"),
        (CHINESE, "zh-CN"),
        (replace(ARS_IN_USD, language="en", locale="en"), "en"),
    ],
)
def test_the_page_is_a_standalone_document_in_the_line_s_language(
    receipt: Receipt, tag: str
) -> None:
    page = receipt_html(receipt)

    assert page.startswith("<!doctype html>\n")
    assert f'<html lang="{tag}">' in page
    assert '<meta charset="utf-8">' in page
    assert "size: A4" in page
    for external in ("http:", "https:", "<link", "<script", "<img", "url(", "@import"):
        assert external not in page


# -- the email -------------------------------------------------------------------------------


def test_the_email_carries_both_renderings_in_the_line_s_language() -> None:
    email = receipt_email(ARS_IN_USD, to="ana.gomez@example.org", message_id="order-42.receipt")

    assert email == OutgoingEmail(
        to="ana.gomez@example.org",
        subject="Recibo MOVISTAR-AR-2026-000042 — Movistar",
        text=receipt_text(ARS_IN_USD),
        html=receipt_html(ARS_IN_USD),
        language="es-AR",
        message_id="order-42.receipt",
        headers={"Auto-Submitted": "auto-generated"},
    )


@pytest.mark.parametrize(
    ("receipt", "subject", "tag"),
    [
        (PROXIMUS_FR, "Reçu PROXIMUS-BE-2026-000007 — Proximus", "fr-BE"),
        (PROXIMUS_NL, "Ontvangstbewijs PROXIMUS-BE-2026-000007 — Proximus", "nl-BE"),
        (CHINESE, "收据 MOVISTAR-AR-2026-000043 — Movistar", "zh-CN"),
        (
            replace(ARS_IN_USD, language="en", locale="en"),
            "Receipt MOVISTAR-AR-2026-000042 — Movistar",
            "en",
        ),
    ],
)
def test_the_subject_and_language_tag_follow_the_line(
    receipt: Receipt, subject: str, tag: str
) -> None:
    email = receipt_email(receipt, to="ana.gomez@example.org", message_id="order-1.receipt")

    assert (email.subject, email.language) == (subject, tag)
