"""An OutgoingEmail holds only what can travel as given: one address, a one-line subject, an
id that fits a Message-ID, headers that do not replace the ones the adapter writes."""

from __future__ import annotations

from typing import Any

import pytest

from saldo.services.ports.mail import OutgoingEmail

VALID: dict[str, Any] = {
    "to": "ana.gomez@example.org",
    "subject": "您的收据 — renovación",
    "text": "Hola\n",
    "html": "<p>Hola</p>\n",
    "language": "es-AR",
    "message_id": "order-1042.receipt",
}


def test_an_email_with_a_reply_to_and_extra_headers_is_accepted() -> None:
    email = OutgoingEmail(
        **VALID,
        reply_to="ayuda@example.org",
        headers={"Auto-Submitted": "auto-generated"},
    )

    assert email.headers == {"Auto-Submitted": "auto-generated"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to", "Ana <ana@example.org>"),
        ("to", "ana@example.org, eva@example.org"),
        ("to", "ana@example.org\r\nBcc: eva@example.org"),
        ("to", "ana@localhost"),
        ("to", "añа@example.org"),
        ("reply_to", "not an address"),
        ("subject", "Tu recibo\r\nBcc: eva@example.org"),
        ("subject", "Tu recibo\u2028otra línea"),
        ("message_id", "order:1042"),
        ("message_id", "order-1042."),
        ("message_id", "x" * 201),
        ("language", "español"),
        ("headers", {"Subject": "another subject"}),
        ("headers", {"Content-Type": "text/plain"}),
        ("headers", {"X Bad Name": "value"}),
        ("headers", {"X-Campaign": "one\nBcc: eva@example.org"}),
    ],
)
def test_a_field_that_cannot_travel_as_given_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError):
        OutgoingEmail(**{**VALID, field: value})
