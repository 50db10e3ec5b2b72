"""Ports of the lifecycle worker: when each job last ran, and auto top-ups."""

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


@dataclass(frozen=True, slots=True)
class AutoTopUpAttempt:
    id: int
    line_id: int
    msisdn: str
    provider: str
    reference: str | None
    status: str
    amount: int
    currency: str
    created_at: datetime


class AutoTopUpRepository(Protocol):
    def put(self, setting: AutoTopUp, *, now: datetime) -> None:
        """Insert or replace the line's setting."""
        ...

    def get(self, line_id: int) -> AutoTopUp | None: ...

    def due(self, *, now: datetime, limit: int) -> list[tuple[AutoTopUp, str]]:
        """Enabled settings (with the line's MSISDN) whose line's main money is below the
        threshold and whose next attempt, if one is scheduled, is due."""
        ...

    def record_outcome(
        self, line_id: int, *, failures: int, next_attempt_at: datetime | None, now: datetime
    ) -> None: ...

    def add_attempt(
        self,
        *,
        operator_id: int,
        line_id: int,
        provider: str,
        idempotency_key: str,
        amount: int,
        currency: str,
        now: datetime,
    ) -> int:
        """Record a charge about to be asked of a processor; raise DuplicateIdempotencyKey
        when the line has one pending already."""
        ...

    def pending_attempt(self, line_id: int) -> AutoTopUpAttempt | None:
        """The line's attempt still waiting for its processor's answer, if any."""
        ...

    def pending_attempts(self, *, limit: int) -> list[AutoTopUpAttempt]:
        """Attempts still waiting for their processor's answer, oldest first, whatever
        their line's balance or setting is now."""
        ...

    def finish_attempt(
        self,
        attempt_id: int,
        *,
        status: str,
        reference: str | None,
        decline_code: str | None,
        topup_id: int | None,
        now: datetime,
    ) -> bool:
        """Record a pending attempt's outcome in one conditional update; False when it was
        finished already."""
        ...
