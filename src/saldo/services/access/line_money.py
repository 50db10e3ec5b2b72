"""What the portal's money pages need beside the app API's use cases (``line_topups``,
``line_orders``): the top-up form's choices (the operator's denominations payable online and
its bounds, the card the line keeps, the processor whose own card page takes a new one), a
top-up's page and receipt as they stand, and paying with the card the line keeps, whose
token never leaves Saldo. A renewal's are ``line_renewal``'s.

Every use case starts from the token presented: a number that is not on the account, or an
order or top-up that is not of that line, is answered as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from saldo.domain.access import TokenKind
from saldo.domain.errors import SaldoError
from saldo.domain.money import InvalidAmount, Money
from saldo.domain.periods import require_aware
from saldo.domain.topup import TopUpAmountRefused, TopUpReceipt, check_topup_amount
from saldo.services.access.account_lines import AccountLine, account_line_view, own_line
from saldo.services.access.line_topups import (
    CardTopUp,
    PaymentTokenRequired,
    TopUpDeclined,
    card_topup,
    top_up_by_card,
)
from saldo.services.access.policy import AccessPolicy
from saldo.services.access.sign_in import note_use, signed_in
from saldo.services.inquire_balance import balance_view
from saldo.services.order_payment import SANDBOX
from saldo.services.ports import LineWithBuckets, UnitOfWork
from saldo.services.ports.payments import PaymentProvider
from saldo.services.settlement import BALANCE
from saldo.services.top_up import replayed_receipt

# What a form sends for "the card this line keeps" instead of a processor's token.
SAVED_CARD: Final = "saved"
# The processors whose own card page the portal can send a subscriber to. Stripe Checkout
# and Mercado Pago's are not wired yet (docs/portal.md).
HOSTED_CARD_PAGES: Final = (SANDBOX,)


class NoSavedCard(PaymentTokenRequired):
    """The line keeps no card (neither auto-renewal nor auto top-up saved one)."""

    code = "no_saved_card"


class TopUpReceiptNotFound(SaldoError):
    """No top-up with that id for that line of the account."""

    code = "topup_not_found"


@dataclass(frozen=True, slots=True)
class SavedCard:
    """The card a line keeps at ``provider``, saved for its auto-renewal or auto top-up
    (``saved_for``); its token stays in Saldo."""

    provider: str
    saved_for: str  # auto_renewal, auto_topup


@dataclass(frozen=True, slots=True)
class Payers:
    """How a form may pay: the card the line keeps, and the processor whose own card page
    takes a new card (None: none that the portal can send to)."""

    saved_card: SavedCard | None
    new_card_at: str | None


@dataclass(frozen=True, slots=True)
class TopUpOffer:
    """A card top-up's form: the operator's denominations, the free amount's bounds (the
    online minimum applies), how it may be paid, and the amount asked when there is one
    (``chosen``, or the code of why it is refused: ``refused``)."""

    line: AccountLine
    denominations: tuple[Money, ...]
    minimum: Money
    maximum: Money | None
    payers: Payers
    chosen: Money | None
    refused: str | None


@dataclass(frozen=True, slots=True)
class TopUpPage:
    """A card top-up of the account's line as it stands, with the line."""

    line: AccountLine
    topup: CardTopUp


@dataclass(frozen=True, slots=True)
class TopUpAttempt:
    """A card top-up tried: the top-up as it stands (paid or pending), or, when the card
    was declined (``declined``: its code), the form again to choose another."""

    offer: TopUpOffer
    topup: CardTopUp | None
    declined: str | None


@dataclass(frozen=True, slots=True)
class ReceiptPage:
    """A top-up's receipt (a voucher's, a card's) with the line as it is now."""

    line: AccountLine
    receipt: TopUpReceipt


def card_topup_offer(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    amount: str | None,
    now: datetime,
) -> TopUpOffer:
    """The card top-up form of the account's line, with ``amount`` (decimal text in the
    operator's currency; None: none asked yet) checked against its bounds. Raises
    NotSignedIn, InvalidMsisdn, LineNotFound."""
    now = require_aware(now)
    line = account_line_of(uow, policy=policy, token=token, kind=kind, msisdn=msisdn, now=now)
    rules = line.operator.topup
    chosen, refused = None, None
    if amount is not None:
        try:
            chosen = Money.of(amount.strip(), line.operator.currency)
            check_topup_amount(chosen, rules=rules, online=True)
        except (InvalidAmount, TopUpAmountRefused) as error:
            chosen, refused = None, error.code
    minimum = max(rules.minimum, rules.online_minimum or rules.minimum)
    return TopUpOffer(
        line=shown_line(line, now=now),
        # the denominations that may be paid online
        denominations=tuple(
            denomination.amount
            for denomination in rules.denominations
            if denomination.amount >= minimum
            and (rules.maximum is None or denomination.amount <= rules.maximum)
        ),
        minimum=minimum,
        maximum=rules.maximum,
        payers=payers_of(uow, line, providers),
        chosen=chosen,
        refused=refused,
    )


def top_up_line(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    amount: str,
    card: str,
    idempotency_key: str | None,
    now: datetime,
) -> TopUpAttempt:
    """``top_up_by_card`` with ``card`` a processor's token or ``saved`` (the card the line
    keeps): the top-up paid or pending, or the form again when the card was declined (the
    decline recorded, nothing credited). Raises NoSavedCard, then what ``top_up_by_card``
    raises but TopUpDeclined."""
    offer = card_topup_offer(
        uow, providers, policy=policy, token=token, kind=kind, msisdn=msisdn, amount=None, now=now
    )
    provider, card_token = card_to_charge(
        uow, providers, policy=policy, token=token, kind=kind, msisdn=msisdn, card=card, now=now
    )
    try:
        topup = top_up_by_card(
            uow,
            providers,
            policy=policy,
            token=token,
            kind=kind,
            msisdn=msisdn,
            amount=amount,
            currency=None,
            provider=provider,
            card_token=card_token,
            idempotency_key=idempotency_key,
            now=now,
        )
    except TopUpDeclined as declined:
        return TopUpAttempt(offer=offer, topup=None, declined=declined.decline_code)
    return TopUpAttempt(offer=offer, topup=topup, declined=None)


def card_topup_page(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    topup_id: int,
    now: datetime,
) -> TopUpPage:
    """The account's line's card top-up ``topup_id`` as it stands, with the line as it is
    now. Raises NotSignedIn, InvalidMsisdn, LineNotFound, TopUpNotFound."""
    now = require_aware(now)
    topup = card_topup(
        uow, policy=policy, token=token, kind=kind, msisdn=msisdn, topup_id=topup_id, now=now
    )
    line = account_line_of(uow, policy=policy, token=token, kind=kind, msisdn=msisdn, now=now)
    return TopUpPage(line=shown_line(line, now=now), topup=topup)


def topup_receipt_page(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    topup_id: int,
    now: datetime,
) -> ReceiptPage:
    """The receipt of the account's line's top-up ``topup_id`` (a voucher's, a card's, a
    store's), with the line as it is now. Raises NotSignedIn, InvalidMsisdn, LineNotFound,
    TopUpReceiptNotFound."""
    now = require_aware(now)
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=msisdn)
        stored = uow.topups.get(topup_id)
    note_use(uow, found, now=now)
    if stored is None or stored.line_id != line.line.id:
        raise TopUpReceiptNotFound(f"no top-up {topup_id} of {line.line.msisdn}")
    receipt = replayed_receipt(stored, line=line.line, operator=line.operator)
    return ReceiptPage(line=shown_line(line, now=now), receipt=replace(receipt, replayed=False))


def offers_card_page(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    policy: AccessPolicy,
    name: str,
    now: datetime,
) -> bool:
    """Whether this installation offers the processor ``name`` and the portal can send a
    subscriber to its own card page."""
    return name in HOSTED_CARD_PAGES and name in providers


def account_line_of(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    now: datetime,
) -> LineWithBuckets:
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=msisdn)
    note_use(uow, found, now=now)
    return line


def shown_line(line: LineWithBuckets, *, now: datetime) -> AccountLine:
    return account_line_view(line, balance_view(line, now=now), now=now)


def payers_of(
    uow: UnitOfWork, line: LineWithBuckets, providers: Mapping[str, PaymentProvider]
) -> Payers:
    saved = _saved(uow, line)
    return Payers(
        saved_card=None if saved is None else SavedCard(provider=saved[0], saved_for=saved[2]),
        new_card_at=next((name for name in HOSTED_CARD_PAGES if name in providers), None),
    )


def _saved(uow: UnitOfWork, line: LineWithBuckets) -> tuple[str, str, str] | None:
    """(provider, token, what it was saved for) of the card the line keeps, if any."""
    with uow.reading():
        renewal = uow.auto_renewals.get(line.line.id)
        topup = uow.auto_topups.get(line.line.id)
    if renewal is not None and renewal.token and renewal.provider != BALANCE:
        return renewal.provider, renewal.token, "auto_renewal"
    if topup is not None and topup.token:
        return topup.provider, topup.token, "auto_topup"
    return None


def card_to_charge(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    card: str,
    now: datetime,
) -> tuple[str | None, str]:
    """(provider, token) to charge: the saved card's, or ``card`` itself at the processor
    whose page made it."""
    if card != SAVED_CARD:
        return next((name for name in HOSTED_CARD_PAGES if name in providers), None), card
    line = account_line_of(uow, policy=policy, token=token, kind=kind, msisdn=msisdn, now=now)
    saved = _saved(uow, line)
    if saved is None:
        raise NoSavedCard(f"{line.line.msisdn} keeps no card: choose one")
    return saved[0], saved[1]
