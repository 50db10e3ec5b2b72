"""The receipt of a fulfilled order: plain data, already decided, for the email and the
printable page (``saldo.channels.receipts`` renders it in the line's language).

Receipts are kept for disputes: ``receipt_for`` rebuilds one from the stored order at any
time, so what ``saldo orders show`` prints is what the email said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from saldo.domain.errors import SaldoError
from saldo.domain.money import Money
from saldo.domain.orders import OrderState
from saldo.services.ports import UnitOfWork


class NoReceipt(SaldoError):
    code = "no_receipt"


@dataclass(frozen=True, slots=True)
class Receipt:
    """Everything a receipt shows. Amounts up to ``tax`` are in the line's currency;
    ``converted``, ``fee`` and ``total`` in ``pay_in``. ``rate`` is what the payer got
    (1 ``pay_in`` = ``rate`` of the line's currency, spread applied), ``market_rate`` the
    rate before the spread; all three are None when the payer paid in the line's currency.
    ``valid_until`` is the end of the new validity, ``[…, valid_until)``."""

    receipt_number: str
    order_id: int
    operator_name: str
    hotline: str
    msisdn: str
    language: str  # es, fr, nl, en, zh
    locale: str  # es_AR, fr_BE, zh_CN: for money and dates
    timezone: str  # the operator's
    plan_name: str
    months: int
    free_months: int
    addon_names: tuple[str, ...]
    gross: Money
    promotion: str | None
    discount: Money
    price: Money
    tax_rate: Decimal  # 0.21 for 21 %
    net: Money
    tax: Money
    pay_in: str
    market_rate: Decimal | None
    rate: Decimal | None
    spread: Decimal | None  # 0.02 for 2 %
    converted: Money
    method: str  # card, debit_card, paypal, wallet, balance
    card_last4: str | None
    fee: Money
    total: Money
    paid_at: datetime
    valid_until: datetime


def receipt_for(uow: UnitOfWork, *, order_id: int) -> Receipt:
    """The receipt of a fulfilled order, inside an open unit of work. Raises NoReceipt when
    the order does not exist or has not been fulfilled."""
    order = uow.orders.get(order_id)
    if order is None:
        raise NoReceipt(f"there is no order {order_id}")
    if order.state is not OrderState.FULFILLED:
        raise NoReceipt(f"order {order_id} is {order.state}; receipts come with fulfilment")
    record = uow.lines.get_by_msisdn(order.msisdn)
    assert record is not None
    operator, terms = record.operator, order.terms
    assert order.receipt_number and order.paid_at and order.valid_until_after
    language = record.line.language
    plans = {plan.code: plan.name_in(language) for plan in operator.plans}
    addons = {addon.code: addon.name_in(language) for addon in operator.addons}
    # The payment that paid the order: succeeded and not given back (a second one was).
    paid = [
        p for p in uow.payments.for_order(order_id) if p.status == "succeeded" and not p.refund_due
    ]
    currency, pay_in = terms.currency, terms.pay_in
    return Receipt(
        receipt_number=order.receipt_number,
        order_id=order.id,
        operator_name=operator.name,
        hotline=operator.hotline.number,
        msisdn=order.msisdn,
        language=language,
        locale=operator.locale_for(record.line.language),
        timezone=operator.timezone,
        plan_name=plans.get(terms.plan_code, terms.plan_code),
        months=terms.months,
        free_months=terms.free_months,
        addon_names=tuple(addons.get(code, code) for code in terms.addon_codes),
        gross=Money(terms.gross, currency),
        promotion=terms.promotion,
        discount=Money(terms.discount, currency),
        price=Money(terms.price, currency),
        tax_rate=Decimal(terms.tax_rate),
        net=Money(terms.net, currency),
        tax=Money(terms.tax, currency),
        pay_in=pay_in,
        market_rate=None if terms.market_rate is None else Decimal(terms.market_rate),
        rate=None if terms.rate is None else Decimal(terms.rate),
        spread=None if terms.spread is None else Decimal(terms.spread),
        converted=Money(terms.converted, pay_in),
        method=terms.method,
        card_last4=paid[0].card_last4 if paid else None,
        fee=Money(terms.fee, pay_in),
        total=Money(terms.total, pay_in),
        paid_at=order.paid_at,
        valid_until=order.valid_until_after,
    )
