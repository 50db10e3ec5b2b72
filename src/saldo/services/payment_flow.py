"""The one way Saldo takes money at a payment processor, whatever the money pays for.

A payment is a row with a purpose (``PaymentPurpose``: an order, an auto top-up; later the
portal's, a store's, a reseller's), and every purpose goes the same way:

1. claim: its caller records the payment pending under an idempotency key, with its own
   checks, in one transaction (``PaymentRepository.add``; the key is unique, and an auto
   top-up's line holds one pending charge at most);
2. ``charge``: the processor is asked outside any database transaction, with a key unique to
   the installation and the payment (``processor_key``; the same key again returns the first
   outcome), and what it says is recorded;
3. settle: ``apply_result`` finishes the payment once (one conditional update from pending)
   and calls back into its purpose's ``Fulfilment`` in the same transaction: an order is paid
   and fulfilled (``settlement``), an auto top-up or a one-off card top-up credited
   (``auto_topup_settlement``, ``topup_settlement``);
4. a payment still pending, or whose answer was lost, is settled by the processor's webhook
   or by a poll (``reconciliation``), both through ``apply_result``, so a webhook and a poll
   racing for one payment settle it once;
5. money a purpose cannot use is flagged and given back (``settle_refunds``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final, Protocol

from saldo.domain.errors import SaldoError
from saldo.domain.money import Money
from saldo.domain.orders import next_payment_check
from saldo.domain.periods import require_aware
from saldo.services.auto_topup_settlement import AutoTopUpFulfilment
from saldo.services.ports import LineRecord, PaymentPurpose, StoredPayment, UnitOfWork
from saldo.services.ports.payments import (
    PaymentError,
    PaymentProvider,
    PaymentRefused,
    PaymentResult,
    PaymentStatus,
    PaymentTimedOut,
)
from saldo.services.settlement import OrderFulfilment
from saldo.services.topup_settlement import TopUpFulfilment

log = logging.getLogger(__name__)

# A payment whose request never reached the processor is given up after this long: long
# enough for a processor's search index to catch up even after an outage of theirs.
LOST_REQUEST_AFTER: Final = timedelta(hours=24)
# The decline code of a payment given up that way.
NEVER_RECEIVED: Final = "never_received"
# The decline code of a payment the processor refused to create (PaymentRefused).
REFUSED: Final = "refused"


class UnknownPaymentProvider(SaldoError):
    """A payment provider that is not configured here: asked to pay with, or sending a
    webhook."""

    code = "unknown_payment_provider"


def processor_for(
    providers: Mapping[str, PaymentProvider], *, name: str, also: tuple[str, ...] = ()
) -> PaymentProvider:
    """The processor configured as ``name``; raise UnknownPaymentProvider otherwise, naming
    the ones there are (and ``also``: other ways the caller pays, such as the balance)."""
    processor = providers.get(name)
    if processor is None:
        known = ", ".join([*also, *providers]) or "none"
        raise UnknownPaymentProvider(f"{name!r} is not a payment provider here ({known})")
    return processor


class PaymentMismatch(SaldoError):
    """A processor reports an amount or currency other than the payment's: never applied."""

    code = "payment_mismatch"


class Fulfilment(Protocol):
    """What a payment's purpose does when the flow settles the payment, inside the flow's
    transaction, the payment's line locked."""

    def paid(
        self, uow: UnitOfWork, *, payment: StoredPayment, record: LineRecord, now: datetime
    ) -> None:
        """The payment succeeded (once): deliver what it pays for, or flag it for a
        refund (``PaymentRepository.flag_refund``) when it can no longer be used."""
        ...

    def declined(
        self,
        uow: UnitOfWork,
        *,
        payment: StoredPayment,
        record: LineRecord,
        decline_code: str | None,
        now: datetime,
    ) -> None:
        """The payment failed (once)."""
        ...

    def refunded(self, uow: UnitOfWork, *, payment: StoredPayment, now: datetime) -> None:
        """The payment's money went back to the payer."""
        ...


_FULFILMENTS: Final[Mapping[PaymentPurpose, Fulfilment]] = {
    PaymentPurpose.ORDER: OrderFulfilment(),
    PaymentPurpose.AUTO_TOPUP: AutoTopUpFulfilment(),
    PaymentPurpose.TOPUP: TopUpFulfilment(),
}


def installation_id(uow: UnitOfWork) -> str:
    """This installation's id: 16 random hex digits, made and kept the first time it is
    asked for. It begins every key Saldo sends a payment processor, so two databases sharing
    one processor account (staging and production; a demo made again after ``make clean``
    beside the sandbox's file) never send the same key for different payments."""
    with uow.reading():
        found = uow.payments.installation_id()
    if found is None:
        with uow:
            uow.payments.keep_installation_id(secrets.token_hex(8))
            uow.commit()
        with uow.reading():
            found = uow.payments.installation_id()
    assert found is not None
    return found


def processor_reference(installation: str, payment_id: int) -> str:
    """What Saldo calls a payment at its processor: the idempotency key and the order
    reference sent with it (stable across retries of the same payment, unique per payment
    and installation), by which a payment whose answer was lost is found again."""
    return f"saldo-{installation}-payment-{payment_id}"


def processor_key(installation: str, payment: StoredPayment) -> str:
    """The key ``payment`` is sent to its processor with: its own, or the one it was sent
    with before it became a payment (an auto top-up charged before migration 0011)."""
    return payment.processor_key or processor_reference(installation, payment.id)


def charge(
    uow: UnitOfWork,
    processor: PaymentProvider,
    *,
    payment: StoredPayment,
    source: str,
    description: str,
    payer_email: str | None,
    providers: Mapping[str, PaymentProvider],
    first_send: bool,
    now: datetime,
) -> StoredPayment:
    """Ask ``processor`` to take a claimed ``payment`` from ``source`` (outside any database
    transaction), record and settle what it says, then make the refunds of the payment's
    line that this made due. Returns the payment as it stands after: still pending when the
    processor said so or did not answer in time (a webhook or a poll settles it).

    Raises PaymentRefused (recorded as failed, with decline code ``refused``, only when this
    is the payment's ``first_send``: a repeat's first request may have charged).
    """
    now = require_aware(now)
    key = processor_key(installation_id(uow), payment)
    try:
        result = processor.create_payment(
            amount=Money(payment.amount, payment.currency),
            source=source,
            description=description,
            order_reference=key,
            idempotency_key=key,
            payer_email=payer_email,
        )
    except PaymentTimedOut:
        # Still pending; reconciliation finds it at the processor (its first check is
        # already scheduled).
        return _reread(uow, payment)
    except PaymentRefused:
        if first_send:
            apply_result(uow, payment_id=payment.id, result=_failed(payment, REFUSED), now=now)
        raise
    apply_result(uow, payment_id=payment.id, result=result, now=now)
    settle_refunds_quietly(uow, providers, line_id=payment.line_id, now=now)
    return _reread(uow, payment)


def _reread(uow: UnitOfWork, payment: StoredPayment) -> StoredPayment:
    with uow.reading():
        return uow.payments.get(payment.id) or payment


def _failed(payment: StoredPayment, decline_code: str) -> PaymentResult:
    return PaymentResult(
        reference="",
        status=PaymentStatus.FAILED,
        amount=Money(payment.amount, payment.currency),
        decline_code=decline_code,
    )


def apply_result(uow: UnitOfWork, *, payment_id: int, result: PaymentResult, now: datetime) -> bool:
    """Record what the processor says of a payment, in one transaction (``apply_in``); True
    when this settled it."""
    now = require_aware(now)
    with uow:
        settled = apply_in(uow, payment_id=payment_id, result=result, now=now)
        uow.commit()
    return settled


def apply_in(uow: UnitOfWork, *, payment_id: int, result: PaymentResult, now: datetime) -> bool:
    """Inside the caller's unit of work: a success finishes the payment and calls its
    purpose's ``paid``, a failure its ``declined``, a pending payment is scheduled for
    another look. True when this call finished the payment; False when it was finished
    before (a webhook and a poll racing: one wins), and a success arriving after Saldo gave
    the payment up is flagged for a refund. Raises PaymentMismatch (nothing applied)."""
    payment = uow.payments.get(payment_id)
    assert payment is not None
    record = uow.lines.get_by_msisdn(payment.msisdn, for_update=True)
    assert record is not None
    # Read again under the line's lock, which every settlement of it holds: a poll that
    # failed it while this waited is seen, so a late success is refunded, not ignored.
    payment = uow.payments.get(payment_id)
    assert payment is not None
    if result.status is PaymentStatus.SUCCEEDED and result.amount != Money(
        payment.amount, payment.currency
    ):
        raise PaymentMismatch(
            f"payment {payment_id} is {Money(payment.amount, payment.currency)} here but "
            f"{result.amount} at {payment.provider} ({result.reference}); left for staff"
        )
    if payment.reference is None and result.reference:
        uow.payments.attach_reference(
            payment_id, reference=result.reference, card_last4=result.card_last4, now=now
        )
    if result.status is PaymentStatus.PENDING:
        if payment.status is PaymentStatus.PENDING and payment.next_check_at is None:
            uow.payments.schedule_check(
                payment_id, at=next_payment_check(checks=0, now=now), checks=0
            )
        return False
    if not uow.payments.finish(
        payment_id, status=result.status, decline_code=result.decline_code, now=now
    ):
        if payment.status is PaymentStatus.FAILED and result.status is PaymentStatus.SUCCEEDED:
            # Money Saldo had given up on did arrive: it goes back.
            log.warning("payment %s succeeded after it was failed; refunding it", payment_id)
            uow.payments.flag_refund(payment_id, now=now)
        elif payment.status is not result.status:
            log.warning(
                "payment %s is %s; ignoring a later report that it %s",
                payment_id,
                payment.status,
                result.status,
            )
        return False
    fulfilment = _FULFILMENTS[payment.purpose]
    if result.status is PaymentStatus.FAILED:
        fulfilment.declined(
            uow, payment=payment, record=record, decline_code=result.decline_code, now=now
        )
    else:
        fulfilment.paid(uow, payment=payment, record=record, now=now)
    return True


def ask_processor(
    providers: Mapping[str, PaymentProvider],
    payment: StoredPayment,
    *,
    installation: str,
    now: datetime,
) -> PaymentResult | None:
    """What the processor says now of a pending payment: by its reference, or, when its
    answer was lost, by the key it was sent with. None when the processor does not answer
    (or is not configured here); a payment the processor never received is failed
    (``never_received``) after ``LOST_REQUEST_AFTER``."""
    processor = providers.get(payment.provider)
    if processor is None:
        return None
    key = processor_key(installation, payment)
    try:
        if payment.reference is not None:
            return processor.fetch_payment(payment.reference)
        found = processor.find_payment(idempotency_key=key, order_reference=key)
    except PaymentError as error:
        log.warning("payment %s: the processor did not answer: %s", payment.id, error)
        return None
    if found is None and now - payment.created_at >= LOST_REQUEST_AFTER:
        return _failed(payment, NEVER_RECEIVED)
    return found


def settle_refunds(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    now: datetime,
    line_id: int | None = None,
    limit: int = 100,
) -> int:
    """Give back the payments flagged for a refund (of one line, when ``line_id`` is
    given); return how many were refunded. A processor that fails leaves the refund for the
    next run."""
    with uow.reading():
        due = uow.payments.refunds_due(limit=limit, line_id=line_id)
    if not due:
        return 0
    installation = installation_id(uow)
    refunded = 0
    for payment in due:
        processor = providers.get(payment.provider)
        if processor is None or payment.reference is None:
            continue
        try:
            processor.refund(
                payment.reference,
                amount=Money(payment.amount, payment.currency),
                idempotency_key=f"{processor_key(installation, payment)}-refund",
            )
        except PaymentError as error:
            log.warning("refund of payment %s not made yet: %s", payment.id, error)
            continue
        with uow:
            if uow.payments.mark_refunded(payment.id, now=now):
                refunded += 1
                _FULFILMENTS[payment.purpose].refunded(uow, payment=payment, now=now)
            uow.commit()
    return refunded


def settle_refunds_quietly(
    uow: UnitOfWork, providers: Mapping[str, PaymentProvider], *, line_id: int, now: datetime
) -> None:
    """Make one line's refunds now, after a payment was applied and committed; any failure
    is logged and left to the reconciliation job, never reported to a payer whose payment is
    already settled."""
    try:
        settle_refunds(uow, providers, now=now, line_id=line_id)
    except Exception:  # the job retries; the caller's outcome is already committed
        log.exception("refunds of line %s left to the reconciliation job", line_id)
