"""Forgetting what no longer opens anything: sign-in attempts (which keep the number they
were asked for and a hash of the asking address) and tokens, ``KEPT_AFTER_END`` after they
expired, so a question about a recent sign-in can still be answered and nothing personal is
kept for longer. The rate-limit counters forget themselves as they are counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from saldo.domain.periods import require_aware
from saldo.services.ports import UnitOfWork

KEPT_AFTER_END: Final = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class AccessForgotten:
    attempts: int
    tokens: int


def forget_old_access(uow: UnitOfWork, *, now: datetime) -> AccessForgotten:
    """Delete a batch of the attempts and tokens that ended ``KEPT_AFTER_END`` before
    ``now`` (the worker's next pass takes the next batch)."""
    ended_before = require_aware(now) - KEPT_AFTER_END
    with uow:
        attempts = uow.access.forget_attempts(ended_before=ended_before)
        tokens = uow.access.forget_tokens(ended_before=ended_before)
        uow.commit()
    return AccessForgotten(attempts=attempts, tokens=tokens)
