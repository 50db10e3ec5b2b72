"""A receipt email through the real SMTP adapter to a real SMTP server (aiosmtpd on loopback,
tests/smtp.py), read back from the bytes that arrived with the standard library's ``email``
package: one multipart/alternative message whose text and HTML parts both carry the receipt
number, the total and the new validity, in the line's language."""

from __future__ import annotations

import html
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from saldo.adapters.email.smtp import SmtpMailer
from saldo.channels.receipts import receipt_email
from saldo.services.receipts import Receipt
from tests.smtp import SmtpServer, smtp_server
from tests.unit.channels.receipts.test_rendering import ARS_IN_USD, CHINESE, PROXIMUS_FR

ANA = "ana.gomez@example.org"


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


def read_back(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


@pytest.mark.parametrize(
    ("receipt", "subject", "language", "total", "validity"),
    [
        pytest.param(
            ARS_IN_USD,
            "Recibo MOVISTAR-AR-2026-000042 — Movistar",
            "es-AR",
            "US$23,25",
            "Válido hasta 22 feb 2027",
            id="spanish",
        ),
        pytest.param(
            PROXIMUS_FR,
            "Reçu PROXIMUS-BE-2026-000007 — Proximus",
            "fr-BE",
            "47,00\u00a0€",
            "Valable jusqu'au 22 févr. 2027",
            id="french",
        ),
        pytest.param(
            CHINESE,
            "收据 MOVISTAR-AR-2026-000043 — Movistar",
            "zh-CN",
            "ARS96,425.00",
            "有效期至2027年12月22日",
            id="chinese",
        ),
    ],
)
def test_a_receipt_email_arrives_as_text_and_html_in_the_line_s_language(
    server: SmtpServer,
    receipt: Receipt,
    subject: str,
    language: str,
    total: str,
    validity: str,
) -> None:
    email = receipt_email(receipt, to=ANA, message_id=f"order-{receipt.order_id}.receipt")

    SmtpMailer.from_url(server.url()).send(email)

    [mail] = server.received
    assert mail.rcpt_tos == (ANA,)
    message = read_back(mail.raw)
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert str(message["Subject"]) == subject
    assert str(message["Content-Language"]) == language
    assert str(message["Auto-Submitted"]) == "auto-generated"
    text = body(message, "plain")
    page = html.unescape(body(message, "html"))
    assert f'<html lang="{language}">' in page
    for shown in (text, page):
        assert receipt.receipt_number in shown
        assert total in shown
        assert validity in shown


def test_the_parts_arrive_exactly_as_rendered(server: SmtpServer) -> None:
    email = receipt_email(CHINESE, to=ANA, message_id="order-43.receipt")

    SmtpMailer.from_url(server.url()).send(email)

    [mail] = server.received
    message = read_back(mail.raw)
    assert body(message, "plain").replace("\r\n", "\n") == email.text
    assert body(message, "html").replace("\r\n", "\n") == email.html
