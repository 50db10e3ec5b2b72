"""Order receipts for people: the confirmation email (plain text and HTML) and the printable
page, in the line's language, rendered from a ``Receipt`` that the use case already decided.

Money, rates, percentages and dates are written for the line's locale before the templates
see them (``view.py``); the templates under ``templates/`` only lay out plain strings. The
HTML template is autoescaped, so an operator, plan or promotion name is shown as text, never
read as markup.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from saldo.channels.receipts.view import (
    PAYMENT_METHODS,
    UnableToRenderReceipt,
    build_view,
    language_tag,
    receipt_subject,
)
from saldo.services.notices import ReceiptNotice
from saldo.services.outbox import message_id
from saldo.services.ports.mail import OutgoingEmail
from saldo.services.receipts import Receipt

__all__ = [
    "PAYMENT_METHODS",
    "UnableToRenderReceipt",
    "outbox_email",
    "receipt_email",
    "receipt_html",
    "receipt_text",
]

_TEMPLATES = Path(__file__).parent / "templates"


@cache
def _environment() -> Environment:
    # Built on first use, not at import; .html templates are escaped, the .txt one is not.
    return Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _render(template: str, receipt: Receipt) -> str:
    return _environment().get_template(template).render(asdict(build_view(receipt)))


def receipt_text(receipt: Receipt) -> str:
    """The receipt as plain text in the line's language, one "label: value" per line.

    Raises UnableToRenderReceipt when the payment method is not one of PAYMENT_METHODS."""
    return _render("receipt.txt", receipt)


def receipt_html(receipt: Receipt) -> str:
    """The receipt as a standalone HTML page in the line's language (``<html lang="es-AR">``):
    inline CSS only and no external resources, laid out to print on one A4 page. It is also
    the HTML part of ``receipt_email``. Every text from the receipt is HTML-escaped.

    Raises UnableToRenderReceipt when the payment method is not one of PAYMENT_METHODS."""
    return _render("receipt.html", receipt)


def receipt_email(receipt: Receipt, *, to: str, message_id: str) -> OutgoingEmail:
    """The confirmation email of a fulfilled order, to ``to``: subject "Recibo
    MOVISTAR-AR-2026-000042 — Movistar", the text and HTML receipts as its two parts,
    ``Content-Language`` from the line's locale, marked ``Auto-Submitted: auto-generated`` so
    that mail programs do not answer it automatically.

    Raises UnableToRenderReceipt when the payment method is not one of PAYMENT_METHODS, and
    ValueError when ``to`` or ``message_id`` cannot travel in an email (see OutgoingEmail)."""
    return OutgoingEmail(
        to=to,
        subject=receipt_subject(receipt),
        text=receipt_text(receipt),
        html=receipt_html(receipt),
        language=language_tag(receipt.locale),
        message_id=message_id,
        headers={"Auto-Submitted": "auto-generated"},
    )


def outbox_email(notice: ReceiptNotice) -> OutgoingEmail:
    """The receipt email an order's outbox message stands for. Raises ValueError when its
    recipient cannot receive email (see OutgoingEmail)."""
    message = notice.message
    return receipt_email(notice.receipt, to=message.recipient, message_id=message_id(message.key))
