"""Ports of plan purchases: plans bought from the line's balance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


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
