"""What the portal's renewal pages need beside the app API's use cases (``line_orders``):
the form's choices (the operator's plans and add-ons, the currencies a renewal can be paid
in, the methods, the card the line keeps) with the quote asked for, an order's page as it
stands, and paying it with the line's balance, the card it keeps or a processor's token.

Every use case starts from the token presented: a number that is not on the account, or an
order that is not of that line, is answered as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from saldo.domain.access import TokenKind
from saldo.domain.errors import SaldoError
from saldo.domain.operator import AddOn, Plan
from saldo.domain.orders import QUOTE_VALIDITY
from saldo.domain.periods import require_aware
from saldo.services.access.account_lines import AccountLine
from saldo.services.access.line_money import (
    Payers,
    account_line_of,
    card_to_charge,
    payers_of,
    shown_line,
)
from saldo.services.access.line_orders import QuoteShown, Renewal, check_months, pay_line_order
from saldo.services.access.policy import AccessPolicy
from saldo.services.order_payment import PaymentDeclined
from saldo.services.orders import OrderDetails, OrderNotFound, order_details
from saldo.services.ports import UnitOfWork
from saldo.services.ports.payments import PaymentProvider
from saldo.services.quotes import quote_for_line
from saldo.services.settlement import BALANCE


@dataclass(frozen=True, slots=True)
class RenewalOffer:
    """A renewal's form: the operator's plans and add-ons, the currencies it can be paid in
    (the line's first), the methods, and, when a renewal was asked, its quote or the code of
    why it cannot be quoted (``refused``)."""

    line: AccountLine
    language: str
    plans: tuple[Plan, ...]
    addons: tuple[AddOn, ...]
    currencies: tuple[str, ...]
    methods: tuple[str, ...]
    payers: Payers
    asked: Renewal | None
    quote: QuoteShown | None
    refused: str | None


@dataclass(frozen=True, slots=True)
class OrderPage:
    """An order of the account's line as its page shows it, with how it may be paid."""

    line: AccountLine
    details: OrderDetails
    payers: Payers
    language: str
    declined: str | None = None  # a payment just declined: its code


def renewal_offer(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    renewal: Renewal | None,
    max_rate_age: timedelta,
    now: datetime,
) -> RenewalOffer:
    """The renewal form of the account's line and, for ``renewal``, its quote now (or why
    there is none). Raises NotSignedIn, InvalidMsisdn, LineNotFound."""
    now = require_aware(now)
    line = account_line_of(uow, policy=policy, token=token, kind=kind, msisdn=msisdn, now=now)
    operator = line.operator
    with uow.reading():
        pairs = uow.rates.latest_per_pair()
    others = sorted({code for rate in pairs for code in (rate.base, rate.quote)})
    quote, refused = None, None
    if renewal is not None:
        try:
            check_months(line, renewal)
            quoted = quote_for_line(
                uow,
                msisdn=line.line.msisdn,
                plan_code=renewal.plan,
                addon_codes=renewal.add_ons,
                pay_in=renewal.pay_in,
                method=renewal.method,
                max_rate_age=max_rate_age,
                now=now,
            )
            quote = QuoteShown(quoted=quoted, valid_until=now + QUOTE_VALIDITY)
        except SaldoError as error:
            refused = error.code
    return RenewalOffer(
        line=shown_line(line, now=now),
        language=line.line.language,
        plans=operator.plans,
        addons=operator.addons,
        currencies=(operator.currency, *(code for code in others if code != operator.currency)),
        methods=("card", BALANCE),
        payers=payers_of(uow, line, providers),
        asked=renewal,
        quote=quote,
        refused=refused,
    )


def order_page(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    order_id: int,
    now: datetime,
) -> OrderPage:
    """The account's line's order ``order_id`` as it stands (its receipt once fulfilled),
    with how it may be paid. Raises NotSignedIn, InvalidMsisdn, LineNotFound,
    OrderNotFound."""
    now = require_aware(now)
    line = account_line_of(uow, policy=policy, token=token, kind=kind, msisdn=msisdn, now=now)
    with uow.reading():
        order = uow.orders.get(order_id)
    if order is None or order.line_id != line.line.id:
        raise OrderNotFound(f"there is no order {order_id} of {line.line.msisdn}")
    details = order_details(uow, order_id=order_id)
    if details.order.receipt_number is not None:
        details = order_details(uow, order_id=order_id, with_receipt=True)
    return OrderPage(
        line=shown_line(line, now=now),
        details=details,
        payers=payers_of(uow, line, providers),
        language=line.line.language,
    )


def pay_order_with(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    order_id: int,
    card: str,
    idempotency_key: str | None,
    now: datetime,
) -> OrderPage:
    """``pay_line_order`` for the account's line's order, from the balance (``card`` is
    ``balance``), with the card the line keeps (``saved``) or a processor's token: the order
    as it stands after (``declined`` with the code of a card just declined: the order stays
    payable). Raises OrderNotFound, NoSavedCard, then what ``pay_line_order`` raises but
    PaymentDeclined."""
    page = order_page(
        uow,
        providers,
        policy=policy,
        token=token,
        kind=kind,
        msisdn=msisdn,
        order_id=order_id,
        now=now,
    )
    if card == BALANCE:
        method, provider, card_token = BALANCE, None, None
    else:
        provider, card_token = card_to_charge(
            uow, providers, policy=policy, token=token, kind=kind, msisdn=msisdn, card=card, now=now
        )
        method = "card"
    declined = None
    try:
        pay_line_order(
            uow,
            providers,
            policy=policy,
            token=token,
            kind=kind,
            order_id=order_id,
            method=method,
            provider=provider,
            card_token=card_token,
            idempotency_key=idempotency_key,
            now=now,
        )
    except PaymentDeclined as refused:
        declined = refused.decline_code or refused.code
    after = order_page(
        uow,
        providers,
        policy=policy,
        token=token,
        kind=kind,
        msisdn=msisdn,
        order_id=page.details.order.id,
        now=now,
    )
    return replace(after, declined=declined)
