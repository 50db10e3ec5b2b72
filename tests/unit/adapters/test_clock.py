"""One contract for every clock, and what the fixed clock adds for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from saldo.adapters.clock import FixedClock, SystemClock
from saldo.domain.periods import NaiveDateTime
from saldo.services.ports import Clock

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


@pytest.fixture(params=["system", "fixed"])
def any_clock(request: pytest.FixtureRequest) -> Clock:
    if request.param == "system":
        return SystemClock()
    return FixedClock(NOW)


def test_a_clock_tells_an_aware_utc_instant(any_clock: Clock) -> None:
    moment = any_clock.now()

    assert moment.tzinfo is not None
    assert moment.utcoffset() == timedelta(0)


def test_a_clock_never_goes_back_between_two_readings(any_clock: Clock) -> None:
    first = any_clock.now()

    second = any_clock.now()

    assert second >= first


def test_a_fixed_clock_says_what_it_is_told_until_moved() -> None:
    clock = FixedClock(NOW)

    assert clock.now() == NOW
    assert clock.now() == NOW


def test_a_fixed_clock_advances_by_the_given_time() -> None:
    clock = FixedClock(NOW)

    clock.advance(timedelta(days=30, minutes=5))

    assert clock.now() == datetime(2026, 12, 22, 15, 5, tzinfo=UTC)


def test_a_fixed_clock_set_to_a_local_time_tells_the_same_instant_in_utc() -> None:
    clock = FixedClock(NOW)
    bogota = timezone(timedelta(hours=-5))

    clock.set(datetime(2026, 12, 23, 0, 0, tzinfo=bogota))

    assert clock.now() == datetime(2026, 12, 23, 5, 0, tzinfo=UTC)
    assert clock.now().utcoffset() == timedelta(0)


def test_a_fixed_clock_cannot_start_at_a_naive_datetime() -> None:
    with pytest.raises(NaiveDateTime):
        FixedClock(datetime(2026, 11, 22, 15, 0))


def test_a_fixed_clock_refuses_to_be_set_to_a_naive_datetime_and_keeps_its_time() -> None:
    clock = FixedClock(NOW)

    with pytest.raises(NaiveDateTime):
        clock.set(datetime(2026, 11, 23, 15, 0))

    assert clock.now() == NOW
