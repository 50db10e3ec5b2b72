"""A subscriber's money on one of their account's lines, beside card top-ups
(``line_topups``): a voucher redeemed, a renewal quoted, ordered and paid, an order looked at.

Each use case starts from the token presented and reaches only the account's own lines and
their orders: another account's line, or an order of another account's line, is answered as
one that does not exist. The caller's idempotency keys are the account's own
(``line_topups.account_key``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from saldo.domain.access import StoredToken, TokenKind
from saldo.domain.lines import Channel
from saldo.domain.orders import QUOTE_VALIDITY, OrderState
from saldo.domain.periods import require_aware
from saldo.domain.quotes import UnableToQuote
from saldo.services.access.account_lines import own_line
from saldo.services.access.line_topups import (
    PaymentTokenRequired,
    account_key,
    keep_refusal,
    required_key,
    same_request,
)
from saldo.services.access.policy import AccessPolicy
from saldo.services.access.sign_in import note_use, signed_in
from saldo.services.buy_plan import find_plan
from saldo.services.order_payment import SANDBOX, CardNumberRefused, pay_order
from saldo.services.orders import (
    OrderDetails,
    OrderNotFound,
    PlacedOrder,
    create_order,
    order_details,
)
from saldo.services.ports import LineWithBuckets, UnitOfWork
from saldo.services.ports.payments import PaymentProvider, looks_like_a_card_number
from saldo.services.quotes import LineQuote, quote_for_line
from saldo.services.settlement import BALANCE
from saldo.services.vouchers import (
    RedemptionBlocked,
    RedemptionDone,
    UnableToRedeem,
    VoucherAlreadyUsed,
    VoucherExpired,
    VoucherVoided,
    WrongPin,
    redeem_voucher_shown,
)


class PlanMonthsDiffer(UnableToQuote):
    """The plan named lasts other months than those asked for."""

    code = "plan_months_differ"


class VoucherLocked(RedemptionBlocked):
    """Too many wrong PINs locked the line's redemptions for ``retry_after_seconds``."""

    def __init__(self, message: str, *, until: datetime, now: datetime) -> None:
        super().__init__(message, until=until)
        self.retry_after_seconds = max(1, math.ceil((until - now).total_seconds()))


@dataclass(frozen=True, slots=True)
class Renewal:
    """What a renewal is asked for: ``plan`` for ``months`` (None: the plan's own), with
    ``add_ons``, paid in ``pay_in`` (None: the line's currency) with ``method``."""

    plan: str
    months: int | None
    add_ons: tuple[str, ...]
    pay_in: str | None
    method: str


@dataclass(frozen=True, slots=True)
class QuoteShown:
    """A quote for an account's line, and until when an order placed now keeps it."""

    quoted: LineQuote
    valid_until: datetime


def redeem_line_voucher(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    pin: str,
    pin_key: bytes,
    idempotency_key: str | None,
    now: datetime,
) -> RedemptionDone:
    """Top the account's line up with the voucher whose PIN was typed. The PIN is the
    voucher's own key: sent again, it gets the first receipt (marked replayed) and is not
    counted as a wrong PIN. A refusal is kept under the idempotency key: the same request
    sent again with it gets that refusal back and is not counted again. Raises NotSignedIn,
    InvalidMsisdn, LineNotFound, InvalidIdempotencyKey, then everything ``redeem_voucher``
    raises (VoucherLocked when too many wrong PINs locked the line)."""
    now = require_aware(now)
    key = required_key(idempotency_key)
    line, found = _account_line(uow, policy=policy, token=token, kind=kind, msisdn=msisdn, now=now)
    refused = same_request(
        uow, policy=policy, account_id=found.account_id, key=key,
        request=("voucher", line.line.id, "".join(pin.split())), now=now,
    )  # fmt: skip
    if refused is not None:
        # The same request under the same key: its first answer, not another wrong try.
        raise _refusal_again(refused, now=now)
    try:
        return redeem_voucher_shown(
            uow, msisdn=line.line.msisdn, pin=pin, channel=Channel.APP, pin_key=pin_key, now=now
        )
    except UnableToRedeem as error:
        refusal = (
            VoucherLocked(error.message, until=error.until, now=now)
            if isinstance(error, RedemptionBlocked)
            else error
        )
        keep_refusal(uow, account_id=found.account_id, key=key, refusal=_kept(refusal))
        raise refusal from None


# The refusals of a voucher that are kept under the request's key and given again.
_REDEEM_REFUSALS: Final[Mapping[str, type[UnableToRedeem]]] = {
    refused.code: refused for refused in (VoucherAlreadyUsed, VoucherExpired, VoucherVoided)
}


def _kept(refusal: UnableToRedeem) -> dict[str, Any]:
    """A voucher's refusal as it is kept (JSON)."""
    kept: dict[str, Any] = {"code": refusal.code, "message": refusal.message}
    if isinstance(refusal, WrongPin):
        kept["attempts_left"] = refusal.attempts_left
    if isinstance(refusal, RedemptionBlocked):
        kept["until"] = refusal.until.isoformat()
    return kept


def _refusal_again(kept: Mapping[str, Any], *, now: datetime) -> UnableToRedeem:
    """The refusal kept for a voucher request, raised again as it was first."""
    code, message = str(kept["code"]), str(kept["message"])
    if code == WrongPin.code:
        return WrongPin(message, attempts_left=int(kept["attempts_left"]))
    if code == RedemptionBlocked.code:
        return VoucherLocked(message, until=datetime.fromisoformat(kept["until"]), now=now)
    return _REDEEM_REFUSALS.get(code, UnableToRedeem)(message)


def quote_line_renewal(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    renewal: Renewal,
    max_rate_age: timedelta,
    now: datetime,
) -> QuoteShown:
    """What renewing the account's line costs now: price, tax, the exchange rate and its
    date, the method's fee, the total, and until when an order keeps it. Raises
    NotSignedIn, InvalidMsisdn, LineNotFound, PlanMonthsDiffer, then everything
    ``quote_for_line`` raises."""
    now = require_aware(now)
    line, _ = _account_line(uow, policy=policy, token=token, kind=kind, msisdn=msisdn, now=now)
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
    return QuoteShown(quoted=quoted, valid_until=now + QUOTE_VALIDITY)


def place_line_order(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    renewal: Renewal,
    email: str | None,
    idempotency_key: str | None,
    max_rate_age: timedelta,
    now: datetime,
) -> PlacedOrder:
    """Place the renewal of the account's line at today's quote, kept until it expires; the
    receipt goes to ``email`` (None: the line's own address, if it has one). The same key
    and request again returns the same order. Raises NotSignedIn, InvalidMsisdn,
    LineNotFound, PlanMonthsDiffer, InvalidIdempotencyKey, then everything ``create_order``
    raises (IdempotencyKeyReused for the same key with another request)."""
    now = require_aware(now)
    key = required_key(idempotency_key)
    line, found = _account_line(uow, policy=policy, token=token, kind=kind, msisdn=msisdn, now=now)
    check_months(line, renewal)
    same_request(
        uow, policy=policy, account_id=found.account_id, key=key,
        request=("order", line.line.id, renewal, email or ""), now=now,
    )  # fmt: skip
    order = create_order(
        uow,
        msisdn=line.line.msisdn,
        plan_code=renewal.plan,
        addon_codes=renewal.add_ons,
        pay_in=renewal.pay_in or line.operator.currency,
        method=renewal.method,
        email=email or line.line.email,
        channel=Channel.APP,
        placed_by=f"account {found.account_id}",
        idempotency_key=account_key(found.account_id, key),
        max_rate_age=max_rate_age,
        now=now,
        saldo_key=True,
    )
    return PlacedOrder(order=order, presentation=line.operator.presentation_for(line.line.language))


def pay_line_order(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    order_id: int,
    method: str,
    provider: str | None,
    card_token: str | None,
    idempotency_key: str | None,
    now: datetime,
) -> OrderDetails:
    """Pay the order of one of the account's lines: from the line's ``balance``, or by
    ``card`` (the saved card ``card_token`` at ``provider``, by default the sandbox where it
    is offered). Returns the order as it stands: fulfilled, or awaiting a payment that is
    pending. The same key again returns the first attempt's outcome and never charges
    twice; a declined card leaves the order payable with another card or method (and another
    key).

    Raises NotSignedIn, OrderNotFound, InvalidIdempotencyKey, PaymentTokenRequired,
    CardNumberRefused, then everything ``pay_order`` raises (PaymentDeclined among them).
    """
    now = require_aware(now)
    key = required_key(idempotency_key)
    found = _own_order(uow, policy=policy, token=token, kind=kind, order_id=order_id, now=now)
    if method == BALANCE:
        chosen, source = BALANCE, None
    else:
        chosen = provider or (SANDBOX if SANDBOX in providers else next(iter(providers), SANDBOX))
        if not card_token:
            raise PaymentTokenRequired(f"name the saved card to charge: {chosen}'s token for it")
        if looks_like_a_card_number(card_token):
            raise CardNumberRefused(
                f"that is a card number; give {chosen} the token its card form made",
                provider=chosen,
            )
        source = card_token
    same_request(
        uow, policy=policy, account_id=found.account_id, key=key,
        request=("payment", order_id, chosen, source or ""), now=now,
    )  # fmt: skip
    pay_order(
        uow,
        providers,
        order_id=order_id,
        provider=chosen,
        source=source,
        idempotency_key=account_key(found.account_id, key),
        now=now,
        saldo_key=True,
    )
    return _details(uow, order_id)


def line_order(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    order_id: int,
    now: datetime,
) -> OrderDetails:
    """The order of one of the account's lines, its payments and, once fulfilled, its
    receipt. Raises NotSignedIn, OrderNotFound."""
    now = require_aware(now)
    _own_order(uow, policy=policy, token=token, kind=kind, order_id=order_id, now=now)
    return _details(uow, order_id)


def _details(uow: UnitOfWork, order_id: int) -> OrderDetails:
    """The order with its payments, and its receipt once it is fulfilled."""
    details = order_details(uow, order_id=order_id)
    if details.order.state is OrderState.FULFILLED:
        return order_details(uow, order_id=order_id, with_receipt=True)
    return details


def _account_line(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    now: datetime,
) -> tuple[LineWithBuckets, StoredToken]:
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=msisdn)
    note_use(uow, found, now=now)
    return line, found


def _own_order(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    order_id: int,
    now: datetime,
) -> StoredToken:
    """The token, when the order is of one of its account's lines; OrderNotFound
    otherwise, whether or not the order exists."""
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        order = uow.orders.get(order_id)
        lines = {line.line.id for line in uow.subscribers.lines(found.account_id)}
    note_use(uow, found, now=now)
    if order is None or order.line_id not in lines:
        raise OrderNotFound(f"there is no order {order_id} on this account")
    return found


def check_months(line: LineWithBuckets, renewal: Renewal) -> None:
    """Raise PlanMonthsDiffer when the renewal asks for other months than its plan's."""
    plan = find_plan(line.operator, renewal.plan)
    if renewal.months is not None and renewal.months != plan.months:
        raise PlanMonthsDiffer(
            f"{plan.code} lasts {plan.months} months, not {renewal.months}: choose the plan "
            f"of {renewal.months}"
        )
