"""Ports of a line's automatic payments: auto-renewal and auto top-up settings (their
charges are payments, ``ports.payments``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


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
class AutoTopUp:
    """A line's instruction to top up ``amount`` (minor units of ``currency``) whenever its
    main money falls below ``threshold``, paid with ``provider`` and its saved ``token``."""

    line_id: int
    operator_id: int
    threshold: int
    amount: int
    currency: str
    provider: str
    token: str
    enabled: bool
    failures: int = 0
    next_attempt_at: datetime | None = None


class AutoTopUpRepository(Protocol):
    def put(self, setting: AutoTopUp, *, now: datetime) -> None:
        """Insert or replace the line's setting."""
        ...

    def get(self, line_id: int) -> AutoTopUp | None: ...

    def due(self, *, now: datetime, limit: int) -> list[tuple[AutoTopUp, str]]:
        """Enabled settings (with the line's MSISDN) whose line's main money is below the
        threshold and whose next attempt, if one is scheduled, is due."""
        ...
