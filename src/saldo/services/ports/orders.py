"""Ports of orders: plan renewals ordered at a quoted price, with their terms and history
(what pays for them is in ``ports.payments``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from saldo.domain.orders import OrderState


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
