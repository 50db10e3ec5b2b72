"""The receipt as the templates see it: labels in the line's language and every amount, rate
and date already written for the line's locale. The templates only lay these strings out;
which rows a receipt shows is decided here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.lists import format_list
from babel.numbers import format_percent

from saldo.domain.errors import SaldoError
from saldo.domain.money import Money, format_money
from saldo.i18n import exact_rate_text, last_valid_day, local_moment, translate
from saldo.services.receipts import Receipt

PAYMENT_METHODS = ("card", "debit_card", "paypal", "wallet", "balance")


class UnableToRenderReceipt(SaldoError, ValueError):
    """A receipt could not be written: it names a payment method the catalogs have no words
    for."""

    code = "unable_to_render_receipt"


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    value: str
    emphasis: bool = False


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class ReceiptView:
    lang: str
    subject: str
    operator: str
    heading: str
    separator: str
    summary: tuple[Row, ...]
    sections: tuple[Section, ...]
    questions: str


def language_tag(locale: str) -> str:
    """The BCP 47 tag of a Babel locale: ``es_AR`` → ``es-AR``, ``en`` → ``en``."""
    return locale.replace("_", "-")


def receipt_subject(receipt: Receipt) -> str:
    """The subject in the line's language: "Recibo MOVISTAR-AR-2026-000042 — Movistar"."""
    return translate(
        "receipt_subject",
        language=receipt.language,
        number=receipt.receipt_number,
        operator=receipt.operator_name,
    )


def valid_until_text(receipt: Receipt) -> str:
    """The last day the new validity covers, as a phrase: "Válido hasta 22 dic 2026"."""
    day = last_valid_day(receipt.valid_until, timezone=receipt.timezone, locale=receipt.locale)
    return translate("receipt_valid_until", language=receipt.language, day=day)


def build_view(receipt: Receipt) -> ReceiptView:
    """Everything the templates show, as plain strings.

    Raises UnableToRenderReceipt when the payment method is not one of PAYMENT_METHODS."""
    if receipt.method not in PAYMENT_METHODS:
        raise UnableToRenderReceipt(f"a receipt has no words for paying by {receipt.method!r}")
    say = _Sayer(receipt)
    summary = (
        Row(say("receipt_number"), receipt.receipt_number),
        Row(say("receipt_order"), str(receipt.order_id)),
        Row(say("receipt_line"), receipt.msisdn),
        Row(
            say("receipt_paid_at"),
            local_moment(receipt.paid_at, timezone=receipt.timezone, locale=receipt.locale),
        ),
    )
    return ReceiptView(
        lang=language_tag(receipt.locale),
        subject=receipt_subject(receipt),
        operator=receipt.operator_name,
        heading=say("receipt_heading"),
        separator=say("receipt_separator"),
        summary=summary,
        sections=(
            Section(say("receipt_section_plan"), _plan_rows(receipt, say)),
            Section(say("receipt_section_amounts"), _amount_rows(receipt, say)),
            Section(say("receipt_section_payment"), _payment_rows(receipt, say)),
        ),
        questions=say("receipt_questions", operator=receipt.operator_name, hotline=receipt.hotline),
    )


class _Sayer:
    """Labels in the line's language and money in its locale."""

    def __init__(self, receipt: Receipt) -> None:
        self.language = receipt.language
        self.locale = receipt.locale

    def __call__(self, key: str, **values: object) -> str:
        return translate(key, language=self.language, **values)

    def money(self, amount: Money) -> str:
        return format_money(amount, locale=self.locale)

    def percent(self, fraction: Decimal) -> str:
        return str(
            format_percent(fraction.normalize(), locale=self.locale, decimal_quantization=False)
        )

    def months(self, count: int) -> str:
        # Every month count here is at least 1, where "one" and "other" are all our
        # languages need.
        return self(f"receipt_months_{_plural(count)}", count=count)


def _plural(count: int) -> str:
    return "one" if count == 1 else "other"


def _plan_rows(receipt: Receipt, say: _Sayer) -> tuple[Row, ...]:
    duration = say.months(receipt.months)
    if receipt.free_months > 0:
        duration = say(
            f"receipt_free_{_plural(receipt.free_months)}",
            duration=duration,
            count=receipt.free_months,
        )
    rows = [Row(say("receipt_plan"), receipt.plan_name), Row(say("receipt_duration"), duration)]
    if receipt.addon_names:
        addons = str(format_list(list(receipt.addon_names), locale=receipt.locale))
        rows.append(Row(say("receipt_addons"), addons))
    rows.append(Row(say("receipt_validity"), valid_until_text(receipt), emphasis=True))
    return tuple(rows)


def _amount_rows(receipt: Receipt, say: _Sayer) -> tuple[Row, ...]:
    rows = [Row(say("receipt_gross"), say.money(receipt.gross))]
    if receipt.promotion is not None:
        rows.append(Row(say("receipt_promotion"), receipt.promotion))
    if not receipt.discount.is_zero():
        rows.append(Row(say("receipt_discount"), say.money(-receipt.discount)))
    rows += [
        Row(say("receipt_price"), say.money(receipt.price), emphasis=True),
        Row(say("receipt_net"), say.money(receipt.net)),
        Row(say("receipt_tax", rate=say.percent(receipt.tax_rate)), say.money(receipt.tax)),
    ]
    return tuple(rows)


def _payment_rows(receipt: Receipt, say: _Sayer) -> tuple[Row, ...]:
    rows = []
    if receipt.rate is not None:
        currency = receipt.price.currency
        rate = f"1 {receipt.pay_in} = {exact_rate_text(receipt.rate, locale=say.locale)} {currency}"
        rows.append(Row(say("receipt_rate"), rate))
        if receipt.spread is not None:
            rows.append(Row(say("receipt_spread"), say.percent(receipt.spread)))
        rows.append(Row(say("receipt_converted"), say.money(receipt.converted)))
    method = say(f"receipt_method_{receipt.method}")
    if receipt.card_last4:
        method = f"{method} •••• {receipt.card_last4}"
    rows.append(Row(say("receipt_method"), method))
    if not receipt.fee.is_zero():
        rows.append(Row(say("receipt_fee"), say.money(receipt.fee)))
    rows.append(Row(say("receipt_total"), say.money(receipt.total), emphasis=True))
    return tuple(rows)
