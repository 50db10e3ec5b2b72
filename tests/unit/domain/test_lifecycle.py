"""A line's life: active, then grace, then suspended, then recycled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saldo.domain.lifecycle import LifecycleRules, LineState, days_until_recycling, state_at
from saldo.domain.periods import NaiveDateTime

VALID_UNTIL = datetime(2026, 12, 23, 5, 0, tzinfo=UTC)
RULES = LifecycleRules(grace_days=30, suspension_days=60)
GRACE_ENDS_AT = VALID_UNTIL + timedelta(days=30)
RECYCLES_AT = VALID_UNTIL + timedelta(days=90)
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (VALID_UNTIL - timedelta(days=10), LineState.ACTIVE),
        (VALID_UNTIL - TICK, LineState.ACTIVE),
        (VALID_UNTIL, LineState.GRACE),
        (GRACE_ENDS_AT - TICK, LineState.GRACE),
        (GRACE_ENDS_AT, LineState.SUSPENDED),
        (RECYCLES_AT - TICK, LineState.SUSPENDED),
        (RECYCLES_AT, LineState.RECYCLED),
        (RECYCLES_AT + timedelta(days=365), LineState.RECYCLED),
    ],
    ids=[
        "well-before-validity-ends",
        "just-before-validity-ends",
        "at-valid-until",
        "just-before-grace-ends",
        "when-grace-ends",
        "just-before-recycling",
        "at-recycling",
        "a-year-after-recycling",
    ],
)
def test_the_state_follows_from_the_validity_and_the_operator_rules(
    now: datetime, state: LineState
) -> None:
    found = state_at(stored_state=LineState.ACTIVE, valid_until=VALID_UNTIL, rules=RULES, now=now)

    assert found is state


def test_the_state_is_decided_from_the_validity_not_from_the_stored_state() -> None:
    state = state_at(
        stored_state=LineState.SUSPENDED,
        valid_until=VALID_UNTIL,
        rules=RULES,
        now=VALID_UNTIL - timedelta(days=1),
    )

    assert state is LineState.ACTIVE


def test_a_recycled_line_stays_recycled_even_with_validity_left() -> None:
    state = state_at(
        stored_state=LineState.RECYCLED,
        valid_until=VALID_UNTIL,
        rules=RULES,
        now=VALID_UNTIL - timedelta(days=10),
    )

    assert state is LineState.RECYCLED


def test_with_no_grace_days_a_line_goes_straight_to_suspended() -> None:
    rules = LifecycleRules(grace_days=0, suspension_days=60)

    state = state_at(
        stored_state=LineState.ACTIVE, valid_until=VALID_UNTIL, rules=rules, now=VALID_UNTIL
    )

    assert state is LineState.SUSPENDED


def test_state_at_refuses_a_naive_now() -> None:
    with pytest.raises(NaiveDateTime):
        state_at(
            stored_state=LineState.ACTIVE,
            valid_until=VALID_UNTIL,
            rules=RULES,
            now=datetime(2026, 12, 1, 12, 0),
        )


@pytest.mark.parametrize(
    ("now", "days"),
    [
        (VALID_UNTIL, 90),
        (VALID_UNTIL - timedelta(days=10), 100),
        (RECYCLES_AT - timedelta(days=1, hours=12), 2),
        (RECYCLES_AT - TICK, 1),
        (RECYCLES_AT, 0),
        (RECYCLES_AT + timedelta(days=5), 0),
    ],
)
def test_days_until_recycling_counts_a_started_day_as_a_day(now: datetime, days: int) -> None:
    assert days_until_recycling(valid_until=VALID_UNTIL, rules=RULES, now=now) == days


BRUSSELS = LifecycleRules(grace_days=30, suspension_days=180, timezone="Europe/Brussels")


def test_grace_days_are_counted_in_the_operator_s_zone_across_summer_time() -> None:
    # Validity ends at midnight in Brussels on 10 March 2027 (CET, UTC+1); summer time
    # starts on 28 March, so grace ends at midnight CEST (UTC+2): an hour earlier in UTC
    # than 30 times 24 hours would say.
    valid_until = datetime(2027, 3, 9, 23, 0, tzinfo=UTC)

    grace_ends_at = BRUSSELS.grace_ends_at(valid_until)

    assert grace_ends_at == datetime(2027, 4, 8, 22, 0, tzinfo=UTC)
    assert grace_ends_at != valid_until + timedelta(days=30)


def test_recycling_falls_at_local_midnight_after_grace_and_suspension() -> None:
    valid_until = datetime(2027, 3, 9, 23, 0, tzinfo=UTC)  # midnight, 10 March, Brussels

    recycles_at = BRUSSELS.recycles_at(valid_until)

    assert recycles_at == datetime(2027, 10, 5, 22, 0, tzinfo=UTC)  # midnight CEST, 6 Oct
