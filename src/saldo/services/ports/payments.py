"""Ports of payments: taking a payment from a payer (a card processor, a wallet), and the
payments Saldo records, for orders and auto top-ups, with processors' webhook events
(``PaymentRepository``, reached through the unit of work).

Use cases see only ``PaymentProvider`` and the plain values here. Adapters live in
``saldo.adapters.payments``: ``sandbox`` (a local card processor with documented test cards,
for the demo and tests), ``stripe`` and ``mercadopago`` (their official SDKs). The line's own
balance is not an adapter: it is debited inside the order's own database transaction (see
``services.order_payment``), which no outside processor can join.

Every status a processor reports maps onto three: a payment is ``pending`` until it
``succeeded`` or ``failed``, and a finished payment never changes again (a refund is a
separate movement). Amounts are integer minor units in the payer's currency.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from saldo.domain.errors import SaldoError
from saldo.domain.money import Money


def looks_like_a_card_number(text: str) -> bool:
    """Whether ``text`` is a card number (12 to 19 digits, spaces or dashes between) rather
    than a processor's token: Saldo refuses to keep one as a saved method."""
    digits = "".join(text.split()).replace("-", "")
    return digits.isdigit() and 12 <= len(digits) <= 19


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self is not PaymentStatus.PENDING


class PaymentError(SaldoError):
    code = "payment_error"


class PaymentTimedOut(PaymentError):
    """The processor did not answer in time. The payment may have been taken all the same:
    ask again with the same idempotency key (``create_payment`` returns the first outcome)."""

    code = "payment_timed_out"


class PaymentRefused(PaymentError):
    """The processor refused the request itself (bad credentials, an unknown token, an
    unsupported currency); unlike a decline, no payment exists."""

    code = "payment_refused"


class InvalidWebhook(PaymentError):
    """A webhook whose signature does not verify, is too old, or cannot be read."""

    code = "invalid_webhook"


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """What the processor says of one payment.

    ``reference``: the processor's id for it (a Stripe PaymentIntent id, a Mercado Pago
    payment id, ``sbx_...``); ``decline_code``: why it failed, in the processor's words
    (``card_declined``, ``cc_rejected_insufficient_amount``); ``card_last4``: the last four
    digits of the card, when the processor tells them (receipts show them; never more)."""

    reference: str
    status: PaymentStatus
    amount: Money
    decline_code: str | None = None
    card_last4: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """A verified webhook: the processor's event id (events are applied once each), the
    payment it is about, and the status it reports, or None when the event only says
    "this payment changed" and the status must be fetched (Mercado Pago's notifications)."""

    event_id: str
    reference: str
    status: PaymentStatus | None
    occurred_at: datetime
    # The amount the processor says the payment is for, when the event carries it; an
    # event for another amount than Saldo's payment is never applied (PaymentMismatch).
    amount: Money | None = None


class PaymentProvider(Protocol):
    """One payment processor, configured with its credentials."""

    @property
    def name(self) -> str:
        """The provider's name in URLs and stored rows: ``sandbox``, ``stripe``,
        ``mercadopago``."""
        ...

    def create_payment(
        self,
        *,
        amount: Money,
        source: str,
        description: str,
        order_reference: str,
        idempotency_key: str,
        payer_email: str | None = None,
    ) -> PaymentResult:
        """Charge ``amount`` to ``source`` (a card number for the sandbox; a saved method's
        token or customer reference for real processors; never stored by Saldo).
        ``payer_email``, when known, is passed to processors that ask for it (Mercado Pago).

        The same ``idempotency_key`` always returns the outcome of the first request and
        never charges twice. A decline is a result (``failed`` with its decline code), not
        an exception.

        Raises PaymentTimedOut when the outcome is unknown; PaymentRefused when no payment
        was created.
        """
        ...

    def fetch_payment(self, reference: str) -> PaymentResult:
        """The payment's current status. Raises PaymentTimedOut, or PaymentRefused for a
        reference the processor does not know."""
        ...

    def find_payment(self, *, idempotency_key: str, order_reference: str) -> PaymentResult | None:
        """The payment created with ``idempotency_key`` for ``order_reference``, or None when
        the processor never received it: how a payment whose answer was lost is found
        without the card or token, which Saldo does not keep. Raises PaymentTimedOut."""
        ...

    def refund(self, reference: str, *, amount: Money, idempotency_key: str) -> None:
        """Give ``amount`` of a succeeded payment back to the payer, once per key. Raises
        PaymentTimedOut or PaymentRefused."""
        ...

    def parse_webhook(
        self, *, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> PaymentEvent:
        """Verify a webhook's signature with the provider's secret (``headers`` with
        lower-case names) and read the event. Raises InvalidWebhook for a missing or wrong
        signature, a signature older than the provider's tolerance at ``now``, or a body
        that is not an event about a payment."""
        ...


class PaymentPurpose(enum.StrEnum):
    """What a payment pays for: each purpose has its fulfilment (``services.payment_flow``)."""

    ORDER = "order"
    AUTO_TOPUP = "auto_topup"
    TOPUP = "topup"  # a subscriber's one-off top-up by card (the app, the portal)


@dataclass(frozen=True, slots=True)
class StoredPayment:
    """One payment taken at a processor (or from the balance, for an order). ``order_id``
    is set for an order's payment, ``topup_id`` once an auto top-up's charge was credited;
    ``processor_key`` is the key it was sent with when that is not the one flow's own
    (``payment_flow.processor_key``); ``msisdn`` is its line's number."""

    id: int
    operator_id: int
    line_id: int
    msisdn: str
    purpose: PaymentPurpose
    order_id: int | None
    topup_id: int | None
    provider: str
    idempotency_key: str
    processor_key: str | None
    reference: str | None
    status: PaymentStatus
    amount: int
    currency: str
    decline_code: str | None
    card_last4: str | None
    checks: int
    next_check_at: datetime | None
    refund_due: bool
    refunded_at: datetime | None
    created_at: datetime


class PaymentRepository(Protocol):
    def installation_id(self) -> str | None:
        """This installation's id (what every key sent to a processor starts with), or None
        before one was kept."""
        ...

    def keep_installation_id(self, candidate: str) -> None:
        """Keep ``candidate`` as the installation's id, unless one is kept already."""
        ...

    def add(
        self,
        *,
        operator_id: int,
        line_id: int,
        purpose: PaymentPurpose,
        order_id: int | None,
        provider: str,
        idempotency_key: str,
        amount: int,
        currency: str,
        now: datetime,
    ) -> int:
        """Record a payment about to be asked of a processor: pending, no reference yet, and
        a first check due a minute later, so that the reconciliation job finds it whatever
        happens to the caller. Raise DuplicateIdempotencyKey if the operator has used this
        key with this provider already, or (an auto top-up) the line has a charge pending."""
        ...

    def get(self, payment_id: int) -> StoredPayment | None: ...

    def get_by_key(
        self, *, operator_id: int, provider: str, idempotency_key: str
    ) -> StoredPayment | None: ...

    def get_by_reference(self, *, provider: str, reference: str) -> StoredPayment | None: ...

    def for_order(self, order_id: int) -> list[StoredPayment]:
        """Oldest first."""
        ...

    def pending(self, *, purpose: PaymentPurpose, limit: int) -> list[StoredPayment]:
        """Payments for ``purpose`` still waiting for their processor's answer, oldest
        first, whether or not their next check is due."""
        ...

    def pending_auto_topup(self, line_id: int) -> StoredPayment | None:
        """The line's auto top-up charge still waiting for its processor's answer, if any."""
        ...

    def link_topup(self, payment_id: int, *, topup_id: int, now: datetime) -> None:
        """Note the top-up an auto top-up's charge was credited as."""
        ...

    def attach_reference(
        self, payment_id: int, *, reference: str, card_last4: str | None, now: datetime
    ) -> None: ...

    def finish(
        self,
        payment_id: int,
        *,
        status: PaymentStatus,
        decline_code: str | None,
        now: datetime,
    ) -> bool:
        """Record the pending payment's final status in one conditional update; False,
        changing nothing, when it had finished already (a webhook and a poll racing: one
        wins)."""
        ...

    def schedule_check(self, payment_id: int, *, at: datetime | None, checks: int) -> None:
        """When the reconciliation job asks the processor about this pending payment next."""
        ...

    def due_checks(
        self, *, purpose: PaymentPurpose, now: datetime, limit: int
    ) -> list[StoredPayment]:
        """Pending payments for ``purpose`` whose next check is due, oldest due first."""
        ...

    def flag_refund(self, payment_id: int, *, now: datetime) -> None:
        """Mark a succeeded payment as owed back to the payer."""
        ...

    def refunds_due(self, *, limit: int, line_id: int | None = None) -> list[StoredPayment]:
        """Payments flagged for a refund that has not been made yet (of one line, when
        ``line_id`` is given)."""
        ...

    def mark_refunded(self, payment_id: int, *, now: datetime) -> bool:
        """False when it was refunded already."""
        ...

    def record_event(
        self,
        *,
        provider: str,
        event_id: str,
        reference: str,
        status: PaymentStatus | None,
        now: datetime,
    ) -> bool:
        """Remember a processor's webhook event; False when it was seen before."""
        ...
