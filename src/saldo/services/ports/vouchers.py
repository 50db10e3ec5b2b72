"""Ports of vouchers: batches of PINs sold in stores, and their redemption."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

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
