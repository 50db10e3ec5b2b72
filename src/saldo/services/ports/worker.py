"""Ports of the lifecycle worker: when each job last ran, and auto top-up settings (their
charges are payments, ``ports.orders``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class JobRunRepository(Protocol):
    def last_run(self, job: str) -> datetime | None:
        """When ``job`` last ran to the end (None: never)."""
        ...

    def record_run(self, job: str, *, at: datetime) -> None: ...


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
