"""A line's life: active → grace → suspended → recycled, decided from its validity and the
operator's grace and suspension days.

- active: ``now < valid_until``; the line can spend.
- grace: for ``grace_days`` after ``valid_until`` it can receive calls and top up, not spend.
- suspended: for ``suspension_days`` after grace; a top-up or renewal still brings it back.
- recycled: after that its balances are forfeited and the number goes back to the pool.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from saldo.domain.periods import add_days_local, require_aware, whole_days_between


class LineState(enum.StrEnum):
    ACTIVE = "active"
    GRACE = "grace"
    SUSPENDED = "suspended"
    RECYCLED = "recycled"


@dataclass(frozen=True, slots=True)
class LifecycleRules:
    grace_days: int
    suspension_days: int
    quarantine_days: int = 90
    initial_validity_days: int = 30
    # Days are counted in the operator's zone: grace that starts at local midnight ends at
    # local midnight, also across a change to or from summer time.
    timezone: str = "UTC"

    def grace_ends_at(self, valid_until: datetime) -> datetime:
        return add_days_local(valid_until, self.grace_days, timezone=self.timezone)

    def recycles_at(self, valid_until: datetime) -> datetime:
        return add_days_local(
            valid_until, self.grace_days + self.suspension_days, timezone=self.timezone
        )


def state_at(
    *, stored_state: LineState, valid_until: datetime, rules: LifecycleRules, now: datetime
) -> LineState:
    """The state a line is in at ``now``. A recycled line stays recycled; otherwise the state
    follows from the validity, even before the lifecycle worker has written it down."""
    if stored_state is LineState.RECYCLED:
        return LineState.RECYCLED
    now = require_aware(now)
    if now < valid_until:
        return LineState.ACTIVE
    if now < rules.grace_ends_at(valid_until):
        return LineState.GRACE
    if now < rules.recycles_at(valid_until):
        return LineState.SUSPENDED
    return LineState.RECYCLED


# Subscribers are told to renew at least a week before their line expires.
RENEW_AHEAD_DAYS = 7


def renewal_due(
    *, state: LineState, valid_until: datetime, rules: LifecycleRules, now: datetime
) -> bool:
    """True from ``RENEW_AHEAD_DAYS`` local days before the end of validity until the line
    is recycled: the subscriber should renew now ("renew at least a week before")."""
    if state is LineState.RECYCLED:
        return False
    warn_from = add_days_local(valid_until, -RENEW_AHEAD_DAYS, timezone=rules.timezone)
    return require_aware(now) >= warn_from


def days_until_recycling(*, valid_until: datetime, rules: LifecycleRules, now: datetime) -> int:
    """Whole days left (a started day counts) before the number would be recycled."""
    return whole_days_between(now, rules.recycles_at(valid_until))


def valid_until_window(
    state: LineState, *, rules: LifecycleRules, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """The ``(after, up_to)`` bounds on ``valid_until`` of the lines that are in ``state`` at
    ``now`` (``after < valid_until <= up_to``; None is unbounded). Lines already recycled by
    the worker are recycled whatever their validity."""
    grace_from = add_days_local(now, -rules.grace_days, timezone=rules.timezone)
    suspension_from = add_days_local(
        now, -(rules.grace_days + rules.suspension_days), timezone=rules.timezone
    )
    return {
        LineState.ACTIVE: (now, None),
        LineState.GRACE: (grace_from, now),
        LineState.SUSPENDED: (suspension_from, grace_from),
        LineState.RECYCLED: (None, suspension_from),
    }[state]
