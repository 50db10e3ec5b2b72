"""Ports of selling and self-service: vouchers, plan purchases, what the SMS and USSD
channels remember between messages, and exchange rates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from saldo.domain.fx import ExchangeRate
from saldo.domain.vouchers import VoucherState


@dataclass(frozen=True, slots=True)
class ClaimedVoucher:
    id: int
    serial: str
    value: int
    currency: str


@dataclass(frozen=True, slots=True)
class VoucherStatus:
    id: int
    operator_id: int
    state: VoucherState
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class VoucherBatch:
    id: int
    operator_id: int
    value: int
    currency: str
    count: int
    expires_at: datetime
    created_at: datetime
    voided_at: datetime | None
    redeemed: int
    expired: int


class VoucherRepository(Protocol):
    def add_batch(
        self,
        *,
        operator_id: int,
        value: int,
        currency: str,
        expires_at: datetime,
        pin_hashes: Sequence[str],
        created_by: str,
        now: datetime,
    ) -> tuple[int, list[str]]:
        """Store a batch and its vouchers (active); return the batch id and the vouchers'
        serials, in the order of ``pin_hashes``."""
        ...

    def taken_pin_hashes(self, pin_hashes: Sequence[str]) -> set[str]:
        """Those of ``pin_hashes`` that some voucher already has."""
        ...

    def claim(
        self, *, pin_hash: str, operator_id: int, line_id: int, now: datetime
    ) -> ClaimedVoucher | None:
        """Mark the active, unexpired voucher of this operator with this PIN hash as redeemed
        by the line, in one conditional update; None, changing nothing, if there is none."""
        ...

    def status(self, *, pin_hash: str) -> VoucherStatus | None: ...

    def link_topup(self, voucher_id: int, *, topup_id: int) -> None: ...

    def mark_expired(self, voucher_id: int, *, now: datetime) -> None:
        """Record that an active voucher past its expiry is expired."""
        ...

    def void_batch(self, batch_id: int, *, operator_id: int | None, now: datetime) -> int:
        """Void the batch's active vouchers; return how many. Scoped to an operator when
        ``operator_id`` is given."""
        ...

    def batches(self, *, operator_id: int | None, now: datetime) -> list[VoucherBatch]: ...

    def record_attempt(
        self, *, operator_id: int, line_id: int, succeeded: bool, now: datetime
    ) -> None: ...

    def wrong_attempts_since(self, *, line_id: int, since: datetime) -> list[datetime]: ...


@dataclass(frozen=True, slots=True)
class StoredPlanPurchase:
    id: int
    request_fingerprint: str
    plan_code: str
    price: int
    currency: str
    valid_until_after: datetime
    balance_after: int
    created_at: datetime
    promotion: str | None = None


class PlanPurchaseRepository(Protocol):
    def get_by_key(
        self, *, operator_id: int, idempotency_key: str
    ) -> StoredPlanPurchase | None: ...

    def has_purchases(self, line_id: int) -> bool:
        """Whether the line has bought a plan before."""
        ...

    def add(
        self,
        *,
        operator_id: int,
        line_id: int,
        plan_code: str,
        months: int,
        price: int,
        currency: str,
        channel: str,
        idempotency_key: str,
        request_fingerprint: str,
        valid_until_before: datetime,
        valid_until_after: datetime,
        balance_after: int,
        now: datetime,
        promotion: str | None = None,
    ) -> int:
        """Insert a purchase (``promotion``: the code(s) of the promotion applied); raise
        DuplicateIdempotencyKey if the key is taken."""
        ...


@dataclass(frozen=True, slots=True)
class PendingConfirmation:
    id: int
    action: str
    argument: str


class ConversationRepository(Protocol):
    """What self-service channels remember between messages: gateway message ids with the
    reply given, confirmations waiting for a "yes", and USSD sessions."""

    def recall_reply(self, *, channel: str, message_id: str) -> str | None: ...

    def remember_reply(self, *, channel: str, message_id: str, reply: str, now: datetime) -> None:
        """Keep the reply; a second reply for the same message id is ignored."""
        ...

    def ask_confirmation(
        self, *, line_id: int, action: str, argument: str, expires_at: datetime, now: datetime
    ) -> None:
        """Wait for a confirmation; any earlier question to the line is dropped."""
        ...

    def take_confirmation(self, *, line_id: int, now: datetime) -> PendingConfirmation | None:
        """The line's unexpired pending confirmation, marked resolved; None if none."""
        ...

    def touch_ussd_session(
        self, *, session_id: str, msisdn: str, now: datetime, idle: timedelta, restart: bool
    ) -> datetime | None:
        """Record activity on a USSD session and return when it started; None when it has
        been silent for longer than ``idle`` (then nothing is recorded, unless ``restart``,
        which starts it again now)."""
        ...


class RateRepository(Protocol):
    """Exchange rates as their sources quoted them."""

    def add(self, rate: ExchangeRate, *, now: datetime) -> Decimal | None:
        """Store a quoted rate and return None; when its source already gave this pair at
        this moment, store nothing and return the rate stored then."""
        ...

    def latest(self, *, base: str, quote: str) -> ExchangeRate | None:
        """The most recently fetched ``base``/``quote`` rate (that pair only, not its
        inverse); of two fetched at the same moment, the one loaded last."""
        ...

    def latest_per_pair(self) -> list[ExchangeRate]:
        """The latest rate of every stored pair, by base then quote."""
        ...
