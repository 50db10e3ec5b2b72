"""Clocks: the system's, and a fixed one for tests and for replaying a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from saldo.domain.periods import require_aware


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that says what it is told; ``advance`` moves it forward."""

    def __init__(self, moment: datetime) -> None:
        self._moment = require_aware(moment)

    def now(self) -> datetime:
        return self._moment

    def advance(self, delta: timedelta) -> None:
        self._moment = self._moment + delta

    def set(self, moment: datetime) -> None:
        self._moment = require_aware(moment)
