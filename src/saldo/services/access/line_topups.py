"""A subscriber tops up one of their account's lines by card, from the app or the portal.

The money goes the one payment flow's way (``payment_flow``): the payment (purpose
``topup``) is claimed pending under the caller's idempotency key, the processor is asked
outside any transaction, and a success is credited once (``topup_settlement``), at once or
when a webhook or a poll settles it. The amount is the operator's to bound: a denomination or
a free amount between its online minimum and its maximum, in its currency.

The caller's key is the account's own: it is kept as Saldo's key for the account and the
request (``account_key``), so two accounts' keys never meet, and a processor still receives
the payment's own key, unique to the installation (``payment_flow.processor_key``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from saldo.domain.access import TokenKind, keyed_hash
from saldo.domain.errors import SaldoError
from saldo.domain.money import Money
from saldo.domain.numbering import mask_msisdn
from saldo.domain.operator import Presentation
from saldo.domain.periods import require_aware
from saldo.domain.topup import TopUpReceipt, check_topup_amount
from saldo.services.access.account_lines import own_line
from saldo.services.access.policy import AccessPolicy
from saldo.services.access.sign_in import note_use, signed_in
from saldo.services.idempotency import (
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    check_key,
    fingerprint,
    internal_key,
)
from saldo.services.lines import LineNotFound, line_record, live_state
from saldo.services.order_payment import SANDBOX, CardNumberRefused
from saldo.services.payment_flow import charge, processor_for
from saldo.services.ports import (
    DuplicateIdempotencyKey,
    LineWithBuckets,
    PaymentPurpose,
    StoredPayment,
    UnitOfWork,
)
from saldo.services.ports.payments import (
    PaymentProvider,
    PaymentStatus,
    looks_like_a_card_number,
)
from saldo.services.top_up import replayed_receipt
from saldo.services.topup_settlement import topup_key


class IdempotencyKeyRequired(InvalidIdempotencyKey):
    """A request that moves money carries an idempotency key; this one has none."""

    code = "idempotency_key_required"


def required_key(key: str | None) -> str:
    """The caller's idempotency key, checked; IdempotencyKeyRequired when there is none,
    InvalidIdempotencyKey when it is not one."""
    if key is None or not key.strip():
        raise IdempotencyKeyRequired("send an Idempotency-Key header: retries then move money once")
    return check_key(key)


def same_request(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    account_id: int,
    key: str,
    request: tuple[object, ...],
    now: datetime,
) -> Mapping[str, Any] | None:
    """Keep the request's keyed fingerprint under the account's ``key`` if it is the first
    request there (a transaction of its own); raise IdempotencyKeyReused when the key came
    with another request first, whichever money call that was. Return the refusal the
    same request got under this key (``keep_refusal``), None when none is kept."""
    print_ = keyed_hash(fingerprint(*request), key=policy.key, purpose="request")
    with uow:
        kept = uow.access.keep_request(
            account_id=account_id, idempotency_key=key, request_fingerprint=print_, now=now
        )
        uow.commit()
    if kept.fingerprint != print_:
        raise IdempotencyKeyReused(f"idempotency key {key!r} was already used for another request")
    return kept.refusal


def keep_refusal(uow: UnitOfWork, *, account_id: int, key: str, refusal: Mapping[str, Any]) -> None:
    """Keep ``refusal`` as the answer to the request under the account's ``key`` (a
    transaction of its own), so that the same request sent again gets it back instead of
    being done again (``same_request`` returns it)."""
    with uow:
        uow.access.keep_refusal(account_id=account_id, idempotency_key=key, refusal=refusal)
        uow.commit()


class TopUpNotFound(SaldoError):
    """No card top-up with that id for that line of the account."""

    code = "topup_not_found"


class PaymentTokenRequired(SaldoError):
    """A card top-up names the saved card (the processor's token) it is paid with."""

    code = "payment_token_required"


class TopUpDeclined(SaldoError):
    """The processor declined the card: nothing was credited; another card may be tried
    (with another idempotency key). Raised after the decline is recorded."""

    code = "payment_declined"

    def __init__(self, message: str, *, decline_code: str | None) -> None:
        super().__init__(message)
        self.decline_code = decline_code


@dataclass(frozen=True, slots=True)
class CardTopUp:
    """A card top-up of an account's line as it stands: ``pending`` at its processor,
    ``succeeded`` (credited: ``receipt``), ``failed`` (``decline_code``), or ``refunded``
    (paid, but the line could no longer take it). ``replayed``: the answer to a request
    sent again with the same key."""

    id: int
    msisdn: str
    status: str
    amount: Money
    provider: str
    card_last4: str | None
    decline_code: str | None
    receipt: TopUpReceipt | None
    created_at: datetime
    replayed: bool
    shown: Presentation


def account_key(account_id: int, key: str) -> str:
    """Saldo's key for an account's request under the caller's ``key`` (already checked)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return internal_key("app", f"{account_id}.{digest}")


def top_up_by_card(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    amount: str,
    currency: str | None,
    provider: str | None,
    card_token: str | None,
    idempotency_key: str | None,
    now: datetime,
) -> CardTopUp:
    """Top the account's line up by ``amount`` (decimal text in ``currency``, by default the
    operator's), charged to the saved card ``card_token`` at ``provider`` (by default the
    sandbox, where it is offered). Returns the top-up credited (``succeeded``) or still
    ``pending`` at the processor. The same key and request again returns the top-up as it
    stands now and never charges twice.

    Raises IdempotencyKeyRequired, InvalidIdempotencyKey, NotSignedIn, InvalidMsisdn,
    LineNotFound,
    PaymentTokenRequired, CardNumberRefused, UnknownPaymentProvider, InvalidAmount,
    WrongCurrency, AmountBelowMinimum, AmountAboveMaximum, LineRecycled (nothing is written
    then); IdempotencyKeyReused; TopUpDeclined; PaymentRefused.
    """
    now = require_aware(now)
    key = required_key(idempotency_key)
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=msisdn)
    note_use(uow, found, now=now)
    chosen = provider or (SANDBOX if SANDBOX in providers else next(iter(providers), SANDBOX))
    processor = processor_for(providers, name=chosen)
    if not card_token:
        raise PaymentTokenRequired(f"name the saved card to charge: {chosen}'s token for it")
    if looks_like_a_card_number(card_token):
        raise CardNumberRefused(
            f"that is a card number; give {chosen} the token its card form made", provider=chosen
        )
    operator = line.operator
    money = Money.of(amount, (currency or operator.currency).strip().upper())
    check_topup_amount(money, rules=operator.topup, online=True)
    same_request(
        uow, policy=policy, account_id=found.account_id, key=key,
        request=("topup", line.line.id, money.minor, money.currency, chosen, card_token), now=now,
    )  # fmt: skip
    payment, first_send = _claim(
        uow, line=line, amount=money, provider=chosen, key=account_key(found.account_id, key),
        providers=providers, now=now,
    )  # fmt: skip
    if first_send:
        payment = charge(
            uow,
            processor,
            payment=payment,
            source=card_token,
            # a processor's dashboard is no place for a subscriber's whole number
            description=f"Top-up of {mask_msisdn(line.line.msisdn)}",
            payer_email=line.line.email,
            providers=providers,
            first_send=True,
            now=now,
        )
    view = _view(uow, payment, line=line, replayed=not first_send)
    if view.status == PaymentStatus.FAILED.value:
        raise TopUpDeclined(
            f"the card was declined ({view.decline_code or 'no reason given'}); nothing was "
            "credited: try another card",
            decline_code=view.decline_code,
        )
    return view


def card_topup(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    topup_id: int,
    now: datetime,
) -> CardTopUp:
    """The account's line's card top-up ``topup_id`` as it stands now. Raises NotSignedIn,
    InvalidMsisdn, LineNotFound, TopUpNotFound."""
    now = require_aware(now)
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=msisdn)
        payment = uow.payments.get(topup_id)
    note_use(uow, found, now=now)
    if (
        payment is None
        or payment.purpose is not PaymentPurpose.TOPUP
        or payment.line_id != line.line.id
    ):
        raise TopUpNotFound(f"no card top-up {topup_id} of {line.line.msisdn}")
    return _view(uow, payment, line=line, replayed=False)


def _claim(
    uow: UnitOfWork,
    *,
    line: LineWithBuckets,
    amount: Money,
    provider: str,
    key: str,
    providers: Mapping[str, PaymentProvider],
    now: datetime,
) -> tuple[StoredPayment, bool]:
    """The payment under ``key`` and whether it is new: the one recorded before (a replay
    of the same request), or a new pending one, the line locked and live."""
    with uow:
        record = line_record(uow, number=line.line.msisdn, for_update=True)
        if record.line.id != line.line.id:  # the number went to another line meanwhile
            raise LineNotFound(f"no line with number {line.line.msisdn} on this account")
        earlier = _earlier(uow, line=line, key=key, providers=providers)
        if earlier is None:
            live_state(line=record.line, operator=record.operator, now=now)
            try:
                payment_id = uow.payments.add(
                    operator_id=record.line.operator_id,
                    line_id=record.line.id,
                    purpose=PaymentPurpose.TOPUP,
                    order_id=None,
                    provider=provider,
                    idempotency_key=key,
                    amount=amount.minor,
                    currency=amount.currency,
                    now=now,
                )
            except DuplicateIdempotencyKey:
                uow.rollback()  # another request took the key first: it is the first
            else:
                uow.commit()
                claimed = uow.payments.get(payment_id)
                assert claimed is not None
                return claimed, True
    with uow.reading():
        earlier = earlier or _earlier(uow, line=line, key=key, providers=providers)
    assert earlier is not None, "a key that is taken has its payment stored"
    if (earlier.purpose, earlier.line_id, earlier.provider) != (
        PaymentPurpose.TOPUP,
        line.line.id,
        provider,
    ) or Money(earlier.amount, earlier.currency) != amount:
        raise IdempotencyKeyReused("this idempotency key was already used for another request")
    return earlier, False


def _earlier(
    uow: UnitOfWork,
    *,
    line: LineWithBuckets,
    key: str,
    providers: Mapping[str, PaymentProvider],
) -> StoredPayment | None:
    """The payment already made under ``key``, at any of the processors."""
    for name in providers:
        found = uow.payments.get_by_key(
            operator_id=line.line.operator_id, provider=name, idempotency_key=key
        )
        if found is not None:
            return found
    return None


def _view(
    uow: UnitOfWork, payment: StoredPayment, *, line: LineWithBuckets, replayed: bool
) -> CardTopUp:
    operator = line.operator
    with uow.reading():
        credited = uow.topups.get_by_key(
            operator_id=line.line.operator_id, idempotency_key=topup_key(payment.id)
        )
    receipt = None
    if credited is not None:
        first = replayed_receipt(credited, line=line.line, operator=operator)
        receipt = replace(first, replayed=replayed)
    status = payment.status.value
    if payment.refund_due or payment.refunded_at is not None:
        status = "refunded"
    return CardTopUp(
        id=payment.id,
        msisdn=line.line.msisdn,
        status=status,
        amount=Money(payment.amount, payment.currency),
        provider=payment.provider,
        card_last4=payment.card_last4,
        decline_code=payment.decline_code,
        receipt=receipt,
        created_at=payment.created_at,
        replayed=replayed,
        shown=operator.presentation_for(line.line.language),
    )
