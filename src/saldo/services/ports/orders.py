"""Ports of orders: the orders with their quotes and history, the payments taken at
processors (for orders and auto top-ups), processors' webhook events, auto-renewal settings,
and the outbox of notifications."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from saldo.domain.orders import OrderState
from saldo.services.payment_port import PaymentStatus


@dataclass(frozen=True, slots=True)
class OrderTerms:
    """What an order was quoted, as stored: amounts in minor units, ``currency`` the line's
    and ``pay_in`` the payer's; rates and spread as decimal text (None when the payer pays
    in the line's currency)."""

    plan_code: str
    addon_codes: tuple[str, ...]
    months: int
    free_months: int
    promotion: str | None
    currency: str
    gross: int
    discount: int
    price: int
    tax_rate: str
    net: int
    tax: int
    pay_in: str
    method: str
    market_rate: str | None
    rate: str | None
    rate_source: str | None
    rate_fetched_at: datetime | None
    spread: str | None
    converted: int
    fee: int
    total: int


@dataclass(frozen=True, slots=True)
class StoredOrder:
    id: int
    operator_id: int
    line_id: int
    msisdn: str
    state: OrderState
    terms: OrderTerms
    channel: str
    placed_by: str
    email: str | None
    request_fingerprint: str
    expires_at: datetime
    created_at: datetime
    paid_at: datetime | None
    fulfilled_at: datetime | None
    receipt_number: str | None
    valid_until_after: datetime | None


@dataclass(frozen=True, slots=True)
class OrderEvent:
    from_state: OrderState | None
    to_state: OrderState
    reason: str
    created_at: datetime


class PaymentPurpose(enum.StrEnum):
    """What a payment pays for: each purpose has its fulfilment (``services.payment_flow``)."""

    ORDER = "order"
    AUTO_TOPUP = "auto_topup"


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


class OrderRepository(Protocol):
    def add(
        self,
        *,
        operator_id: int,
        line_id: int,
        terms: OrderTerms,
        channel: str,
        placed_by: str,
        email: str | None,
        idempotency_key: str,
        request_fingerprint: str,
        expires_at: datetime,
        now: datetime,
    ) -> int:
        """Insert a draft order and its first history entry; raise DuplicateIdempotencyKey
        if the operator has an order with this key."""
        ...

    def get(self, order_id: int, *, for_update: bool = False) -> StoredOrder | None:
        """The order (None if missing, or another operator's in a scoped unit of work).
        ``for_update`` locks its row until the unit of work ends (take the line's lock
        first: every path locks the line, then the order)."""
        ...

    def get_by_key(self, *, operator_id: int, idempotency_key: str) -> StoredOrder | None: ...

    def recent(
        self,
        *,
        line_id: int | None = None,
        state: OrderState | None = None,
        limit: int = 50,
    ) -> list[StoredOrder]:
        """Newest first."""
        ...

    def change_state(
        self,
        order_id: int,
        *,
        from_states: Sequence[OrderState],
        to_state: OrderState,
        reason: str,
        now: datetime,
        fields: Mapping[str, Any] | None = None,
    ) -> bool:
        """Move the order to ``to_state`` (storing ``fields`` with it: ``paid_at``,
        ``fulfilled_at``, ``receipt_number``, ``valid_until_after``) only if it is in one of
        ``from_states``, in one conditional update, and append the history entry. False,
        changing nothing, when it was in another state."""
        ...

    def history(self, order_id: int) -> list[OrderEvent]:
        """The order's transitions, oldest first."""
        ...

    def due_expiry(self, *, now: datetime, limit: int) -> list[int]:
        """Ids of drafts and orders awaiting payment whose quote ran out before ``now``."""
        ...


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


@dataclass(frozen=True, slots=True)
class AutoRenewal:
    """A line's standing instruction to renew ``plan_code`` ``days_before`` its validity
    ends, paid with ``provider`` (``balance`` or a processor) and its saved ``token``."""

    line_id: int
    operator_id: int
    plan_code: str
    provider: str
    token: str | None
    fallback_to_balance: bool
    days_before: int
    enabled: bool
    failures: int
    next_attempt_at: datetime | None
    last_order_id: int | None
    email: str | None


class AutoRenewalRepository(Protocol):
    def put(self, setting: AutoRenewal, *, now: datetime) -> None:
        """Insert or replace the line's setting."""
        ...

    def get(self, line_id: int) -> AutoRenewal | None: ...

    def record_attempt(
        self,
        line_id: int,
        *,
        failures: int,
        next_attempt_at: datetime | None,
        last_order_id: int | None,
        now: datetime,
    ) -> None: ...

    def due_numbers(
        self, *, now: datetime, horizon: datetime, limit: int, after_line_id: int = 0
    ) -> list[tuple[int, str]]:
        """(line id, MSISDN) of the live lines with auto-renewal on that may be due: a retry
        due by ``now``, or a validity ending by ``horizon`` (now + the most days before
        expiry a setting may ask), in line order from after ``after_line_id``."""
        ...


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One queued notification. ``attempts`` counts the times a sender claimed it (a claim
    that ended without an outcome, because its worker died, counts too); ``msisdn`` is the
    number of its line as it is now (None without a line); ``secret`` a value it carries
    only until it leaves pending (a verification code), never shown."""

    id: int
    operator_id: int
    channel: str
    key: str
    recipient: str
    payload: Mapping[str, Any]
    attempts: int
    state: str
    line_id: int | None = None
    msisdn: str | None = None
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None
    secret: str | None = field(default=None, repr=False)


class OutboxRepository(Protocol):
    def add(
        self,
        *,
        operator_id: int,
        line_id: int | None,
        channel: str,
        key: str,
        recipient: str,
        payload: Mapping[str, Any],
        now: datetime,
        not_before: datetime | None = None,
        secret: str | None = None,
    ) -> int | None:
        """Queue a message in the current transaction, due at ``not_before`` (default: now);
        None when one with this ``key`` exists already (each notification is queued
        once). ``secret`` (a verification code) is kept only while the message is pending:
        sent, dead or skipped, it is gone."""
        ...

    def get(self, message_id: int) -> OutboxMessage | None: ...

    def claim_due(
        self, *, now: datetime, until: datetime, limit: int, channels: Sequence[str]
    ) -> list[OutboxMessage]:
        """Take up to ``limit`` pending messages of ``channels`` due by ``now``, oldest
        first, for one sender: each one's next attempt moves to ``until`` (the lease) and
        its attempts go up by one, in the current transaction. Concurrent senders never
        take the same message while its lease runs (PostgreSQL skips the rows another
        transaction has locked; SQLite's write transactions take turns)."""
        ...

    def release(self, message_id: int, *, at: datetime) -> None:
        """Give back a claimed message untried, due again ``at`` (the claim does not count
        as an attempt)."""
        ...

    def mark_sent(self, message_id: int, *, now: datetime) -> None: ...

    def mark_failed(
        self, message_id: int, *, error: str, retry_at: datetime | None, now: datetime
    ) -> None:
        """Note a failed attempt; ``retry_at`` None marks the message dead. A message sent
        meanwhile (by a sender whose lease ran out) stays sent."""
        ...

    def mark_skipped(self, message_id: int, *, reason: str, now: datetime) -> None:
        """Drop a pending message that is no longer true (a reminder for a line renewed
        meanwhile), keeping ``reason``."""
        ...

    def list(self, *, state: str | None, limit: int) -> list[OutboxMessage]:
        """Messages newest first, only those in ``state`` when it is given."""
        ...

    def retry(self, message_id: int, *, now: datetime) -> bool:
        """Put a dead message back to pending, due ``now``, with its attempts counted
        afresh; False when there is no dead message with this id."""
        ...
