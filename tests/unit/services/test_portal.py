"""The portal's line page: when the next expiry reminder falls due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from saldo.domain.lifecycle import LineState
from saldo.services.portal import next_reminder_at

VALID_UNTIL = datetime(2026, 12, 23, 3, 0, tzinfo=UTC)
DAYS = (7, 3, 1)


def test_the_next_reminder_is_the_farthest_one_still_ahead() -> None:
    now = VALID_UNTIL - timedelta(days=20)

    assert next_reminder_at(
        state=LineState.ACTIVE, valid_until=VALID_UNTIL, reminder_days=DAYS, now=now
    ) == VALID_UNTIL - timedelta(days=7)


def test_after_a_reminder_went_the_next_one_follows() -> None:
    now = VALID_UNTIL - timedelta(days=5)

    assert next_reminder_at(
        state=LineState.ACTIVE, valid_until=VALID_UNTIL, reminder_days=DAYS, now=now
    ) == VALID_UNTIL - timedelta(days=3)


def test_no_reminder_is_left_in_the_last_hours_nor_past_the_validity() -> None:
    last_hours = VALID_UNTIL - timedelta(hours=12)

    assert (
        next_reminder_at(
            state=LineState.ACTIVE, valid_until=VALID_UNTIL, reminder_days=DAYS, now=last_hours
        )
        is None
    )
    assert (
        next_reminder_at(
            state=LineState.GRACE,
            valid_until=VALID_UNTIL,
            reminder_days=DAYS,
            now=VALID_UNTIL + timedelta(days=1),
        )
        is None
    )
