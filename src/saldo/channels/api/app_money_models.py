"""The JSON shapes of the app API's money routes (``app_money.py``): top-ups, vouchers,
quotes, orders and their payments, a line's settings; and the services' views written as
JSON (money as ``{"amount", "currency", "minor"}``, instants in ISO 8601 UTC)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from saldo.channels.api.app_models import MoneyOut, money
from saldo.domain.money import Money
from saldo.domain.topup import TopUpReceipt
from saldo.services.access.line_orders import QuoteShown
from saldo.services.access.line_settings import LineSettings
from saldo.services.access.line_topups import CardTopUp
from saldo.services.orders import OrderDetails, PlacedOrder
from saldo.services.receipts import Receipt
from saldo.services.vouchers import RedemptionDone

AMOUNT = r"^[0-9]{1,15}(\.[0-9]{1,3})?$"
CURRENCY = r"^[A-Za-z]{3}$"
# A processor's token for a saved card: never a card number (refused, 400).
TOKEN = r"^[A-Za-z0-9_.:-]{1,128}$"
# The sandbox's test tokens (docs/orders.md): the examples decline or leave a payment pending,
# so that a generated request taken from them never credits a line.
TOKEN_EXAMPLES = ["tok_decline", "tok_settle_later"]


class CardPayment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["card"] = Field(description="How the top-up is paid: by card")
    provider: str | None = Field(
        default=None,
        max_length=32,
        description="The payment processor (`sandbox`, `stripe`, `mercadopago`); by default "
        "the sandbox where it is offered",
    )
    token: str | None = Field(
        default=None,
        pattern=TOKEN,
        description="The processor's token for a saved card (never a card number)",
        examples=TOKEN_EXAMPLES,
    )


class TopUpRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"amount": "2000", "payment": {"method": "card", "token": "tok_decline"}}]
        },
    )

    amount: str = Field(
        pattern=AMOUNT,
        description="Decimal text in the currency's units: a denomination, or a free amount "
        "between the operator's online minimum and its maximum",
    )
    currency: str | None = Field(
        default=None, pattern=CURRENCY, description="ISO 4217; by default the line's"
    )
    payment: CardPayment


class ReceiptOut(BaseModel):
    receipt_number: str
    amount: MoneyOut
    balance: MoneyOut = Field(description="The line's main money after the top-up")
    bonus: MoneyOut | None = Field(description="A promotion's bonus, in its own bucket")
    valid_until: datetime
    channel: str
    created_at: datetime
    replayed: bool = Field(description="The receipt of a request sent again")


class TopUpOut(BaseModel):
    id: int = Field(description="Follow it at /api/v1/lines/{msisdn}/topups/{id}")
    msisdn: str
    status: Literal["pending", "succeeded", "failed", "refunded"]
    amount: MoneyOut
    provider: str
    card_last4: str | None
    decline_code: str | None
    receipt: ReceiptOut | None = Field(description="Once credited")
    created_at: datetime
    replayed: bool


class VoucherRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"pin": "1234 5678 9012 3456"}]}
    )

    pin: str = Field(min_length=1, max_length=40, description="The PIN as printed")


class VoucherOut(BaseModel):
    msisdn: str
    receipt: ReceiptOut


class QuoteRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"plan": "pack-mensual-1m", "months": 1, "add_ons": ["datos-5gb"], "pay_in": "USD"}
            ]
        },
    )

    plan: str = Field(min_length=1, max_length=64, description="The plan's code")
    months: Literal[1, 3, 12] | None = Field(
        default=None, description="The plan's months (checked against the plan)"
    )
    add_ons: list[str] = Field(default_factory=list, max_length=10)
    pay_in: str | None = Field(
        default=None, pattern=CURRENCY, description="The payer's currency; by default the line's"
    )
    method: Literal["card", "debit_card", "paypal", "wallet", "balance"] = Field(
        default="card", description="How it will be paid (its fee is in the quote)"
    )


class OrderRequest(QuoteRequest):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "msisdn": "+5491123456789",
                    "plan": "pack-mensual-1m",
                    "months": 1,
                    "add_ons": [],
                    "pay_in": "USD",
                }
            ]
        },
    )

    msisdn: str = Field(min_length=1, max_length=24, description="The line renewed")
    email: str | None = Field(
        default=None, max_length=254, description="Where the receipt goes; by default the line's"
    )


class RateOut(BaseModel):
    rate: str = Field(description="1 of pay_in = rate of the line's currency, spread applied")
    market_rate: str
    spread: str
    source: str
    fetched_at: datetime = Field(description="The rate's date")


class QuoteOut(BaseModel):
    msisdn: str
    plan: str
    names: list[str] = Field(description="The plan and each add-on, in the line's language")
    months: int
    free_months: int
    promotion: str | None
    price: MoneyOut = Field(description="Tax included, in the line's currency")
    discount: MoneyOut
    net: MoneyOut
    tax: MoneyOut
    tax_rate: str
    exchange: RateOut | None = Field(description="When paid in another currency")
    converted: MoneyOut = Field(description="The price in the payer's currency")
    method: str
    fee: MoneyOut
    total: MoneyOut = Field(description="What the payer pays")
    valid_until: datetime = Field(description="An order placed now keeps this price until then")


class OrderPaymentRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"method": "card", "token": "tok_decline"}]},
    )

    method: Literal["card", "balance"]
    provider: str | None = Field(default=None, max_length=32)
    token: str | None = Field(default=None, pattern=TOKEN, examples=TOKEN_EXAMPLES)


class PaymentOut(BaseModel):
    id: int
    provider: str
    status: Literal["pending", "succeeded", "failed"]
    amount: MoneyOut
    card_last4: str | None
    decline_code: str | None
    refunded: bool
    created_at: datetime


class OrderReceiptOut(BaseModel):
    receipt_number: str
    plan_name: str = Field(description="In the line's language")
    addon_names: list[str]
    months: int
    free_months: int
    price: MoneyOut = Field(description="Tax included, in the line's currency")
    tax: MoneyOut
    rate: str | None = Field(description="1 of pay_in = rate of the line's currency")
    fee: MoneyOut
    total: MoneyOut = Field(description="What was paid")
    method: str
    card_last4: str | None
    paid_at: datetime
    valid_until: datetime = Field(description="The line's new end of validity")


class OrderOut(BaseModel):
    id: int
    msisdn: str
    state: Literal[
        "draft", "awaiting_payment", "paid", "fulfilled", "expired", "cancelled", "failed",
        "refunded",
    ]  # fmt: skip
    plan: str
    add_ons: list[str]
    months: int
    free_months: int
    price: MoneyOut
    tax: MoneyOut
    pay_in: str
    method: str
    fee: MoneyOut
    total: MoneyOut
    expires_at: datetime = Field(description="The quote holds until then")
    created_at: datetime
    paid_at: datetime | None
    fulfilled_at: datetime | None
    receipt_number: str | None
    valid_until_after: datetime | None = Field(description="The line's validity once fulfilled")
    payments: list[PaymentOut]
    receipt: OrderReceiptOut | None = Field(description="Once fulfilled")


class AutoRenewalOut(BaseModel):
    enabled: bool
    plan: str
    provider: str
    days_before: int


class AutoTopUpOut(BaseModel):
    enabled: bool
    threshold: MoneyOut
    amount: MoneyOut
    provider: str


class SettingsOut(BaseModel):
    msisdn: str
    auto_renewal: AutoRenewalOut | None
    auto_topup: AutoTopUpOut | None
    auto_topup_offered: bool
    low_balance_threshold: MoneyOut | None
    own_low_balance_threshold: bool
    language: Literal["es", "fr", "nl", "en", "zh"]
    languages: list[str] = Field(description="Those the line's operator offers")
    reminder_days: list[int] = Field(description="Days before expiry the line's reminders go")
    reminder_days_offered: list[int] = Field(
        description="The days its operator sends reminders on: a line keeps some, all or none"
    )


class AutoRenewalChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
    plan: str | None = Field(default=None, max_length=64)
    provider: str | None = Field(default=None, max_length=32)
    token: str | None = Field(default=None, pattern=TOKEN, examples=TOKEN_EXAMPLES)


class AutoTopUpChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
    threshold: str | None = Field(default=None, pattern=AMOUNT)
    amount: str | None = Field(default=None, pattern=AMOUNT)
    provider: str | None = Field(default=None, max_length=32)
    token: str | None = Field(default=None, pattern=TOKEN, examples=TOKEN_EXAMPLES)


class SettingsChangeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"language": "en", "low_balance_threshold": "800", "reminder_days": [7, 1]}
            ]
        },
    )

    auto_renewal: AutoRenewalChange | None = None
    auto_topup: AutoTopUpChange | None = None
    low_balance_threshold: str | None = Field(
        default=None,
        pattern=AMOUNT,
        description='Decimal text in the line\'s currency; `"operator"` is not accepted: '
        "send `reset_low_balance_threshold` to take the operator's back",
    )
    reset_low_balance_threshold: bool = False
    language: Literal["es", "fr", "nl", "en", "zh"] | None = None
    reminder_days: list[Annotated[int, Field(ge=0, le=366)]] | None = Field(
        default=None,
        max_length=10,
        description="Among `reminder_days_offered`; `[]`: no reminder",
    )


def receipt(shown: TopUpReceipt) -> dict[str, Any]:
    return {
        "receipt_number": shown.receipt_number,
        "amount": money(shown.amount),
        "balance": money(shown.balance),
        "bonus": None if shown.bonus is None else money(shown.bonus),
        "valid_until": shown.valid_until.isoformat(),
        "channel": shown.channel.value,
        "created_at": shown.created_at.isoformat(),
        "replayed": shown.replayed,
    }


def topup(view: CardTopUp) -> dict[str, Any]:
    return {
        "id": view.id,
        "msisdn": view.msisdn,
        "status": view.status,
        "amount": money(view.amount),
        "provider": view.provider,
        "card_last4": view.card_last4,
        "decline_code": view.decline_code,
        "receipt": None if view.receipt is None else receipt(view.receipt),
        "created_at": view.created_at.isoformat(),
        "replayed": view.replayed,
    }


def voucher(done: RedemptionDone) -> dict[str, Any]:
    return {"msisdn": done.receipt.msisdn, "receipt": receipt(done.receipt)}


def quote(shown: QuoteShown) -> dict[str, Any]:
    quoted, line_quote = shown.quoted.quote, shown.quoted
    exchange = None
    if quoted.rate is not None and quoted.market_rate is not None:
        exchange = {
            "rate": str(quoted.rate.rate),
            "market_rate": str(quoted.market_rate.rate),
            "spread": str(quoted.spread),
            "source": quoted.market_rate.source,
            "fetched_at": quoted.market_rate.fetched_at.isoformat(),
        }
    return {
        "msisdn": line_quote.msisdn,
        "plan": quoted.plan.code,
        "names": list(line_quote.names),
        "months": quoted.plan.months,
        "free_months": quoted.free_months,
        "promotion": quoted.promotion,
        "price": money(quoted.price),
        "discount": money(quoted.discount),
        "net": money(quoted.net),
        "tax": money(quoted.tax),
        "tax_rate": str(quoted.tax_rate),
        "exchange": exchange,
        "converted": money(quoted.converted),
        "method": quoted.method.value,
        "fee": money(quoted.fee),
        "total": money(quoted.total),
        "valid_until": shown.valid_until.isoformat(),
    }


def _order(details_or_placed: OrderDetails | PlacedOrder) -> dict[str, Any]:
    order = details_or_placed.order
    terms = order.terms
    details = details_or_placed if isinstance(details_or_placed, OrderDetails) else None
    payments = details.payments if details is not None else ()
    shown = details.receipt if details is not None else None
    return {
        "id": order.id,
        "msisdn": order.msisdn,
        "state": order.state.value,
        "plan": terms.plan_code,
        "add_ons": list(terms.addon_codes),
        "months": terms.months,
        "free_months": terms.free_months,
        "price": money(Money(terms.price, terms.currency)),
        "tax": money(Money(terms.tax, terms.currency)),
        "pay_in": terms.pay_in,
        "method": terms.method,
        "fee": money(Money(terms.fee, terms.pay_in)),
        "total": money(Money(terms.total, terms.pay_in)),
        "expires_at": order.expires_at.isoformat(),
        "created_at": order.created_at.isoformat(),
        "paid_at": None if order.paid_at is None else order.paid_at.isoformat(),
        "fulfilled_at": None if order.fulfilled_at is None else order.fulfilled_at.isoformat(),
        "receipt_number": order.receipt_number,
        "valid_until_after": (
            None if order.valid_until_after is None else order.valid_until_after.isoformat()
        ),
        "payments": [
            {
                "id": payment.id,
                "provider": payment.provider,
                "status": payment.status.value,
                "amount": money(Money(payment.amount, payment.currency)),
                "card_last4": payment.card_last4,
                "decline_code": payment.decline_code,
                "refunded": payment.refunded_at is not None,
                "created_at": payment.created_at.isoformat(),
            }
            for payment in payments
        ],
        "receipt": None if shown is None else _order_receipt(shown),
    }


def _order_receipt(shown: Receipt) -> dict[str, Any]:
    return {
        "receipt_number": shown.receipt_number,
        "plan_name": shown.plan_name,
        "addon_names": list(shown.addon_names),
        "months": shown.months,
        "free_months": shown.free_months,
        "price": money(shown.price),
        "tax": money(shown.tax),
        "rate": None if shown.rate is None else str(shown.rate),
        "fee": money(shown.fee),
        "total": money(shown.total),
        "method": shown.method,
        "card_last4": shown.card_last4,
        "paid_at": shown.paid_at.isoformat(),
        "valid_until": shown.valid_until.isoformat(),
    }


def placed_order(placed: PlacedOrder) -> dict[str, Any]:
    return _order(placed)


def order(details: OrderDetails) -> dict[str, Any]:
    return _order(details)


def settings(view: LineSettings) -> dict[str, Any]:
    renewal, topped = view.auto_renewal, view.auto_topup
    return {
        "msisdn": view.msisdn,
        "auto_renewal": None
        if renewal is None
        else {
            "enabled": renewal.enabled,
            "plan": renewal.plan_code,
            "provider": renewal.provider,
            "days_before": renewal.days_before,
        },
        "auto_topup": None
        if topped is None
        else {
            "enabled": topped.enabled,
            "threshold": money(Money(topped.threshold, topped.currency)),
            "amount": money(Money(topped.amount, topped.currency)),
            "provider": topped.provider,
        },
        "auto_topup_offered": view.auto_topup_offered,
        "low_balance_threshold": None
        if view.low_balance_threshold is None
        else money(view.low_balance_threshold),
        "own_low_balance_threshold": view.own_threshold,
        "language": view.language,
        "languages": list(view.languages),
        "reminder_days": list(view.reminder_days),
        "reminder_days_offered": list(view.reminder_days_offered),
    }
