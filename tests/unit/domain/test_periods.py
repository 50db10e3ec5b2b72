"""Time rules: calendar months that clamp, local days in the operator's zone, aware instants
and half-open periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from saldo.domain.periods import (
    NaiveDateTime,
    Period,
    add_months,
    add_months_local,
    end_of_local_day_after,
    impossible_day,
    renewed_until,
    require_aware,
    whole_days_between,
)

BUENOS_AIRES = "America/Argentina/Buenos_Aires"
BRUSSELS = "Europe/Brussels"
BOGOTA = "America/Bogota"


@pytest.mark.parametrize(
    ("day", "months", "moved"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 5, 31), -3, date(2026, 2, 28)),
        (date(2026, 11, 22), 12, date(2027, 11, 22)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 12, 31), 1, date(2027, 1, 31)),
        (date(2026, 1, 31), 0, date(2026, 1, 31)),
    ],
)
def test_add_months_moves_by_calendar_months_and_clamps_the_day(
    day: date, months: int, moved: date
) -> None:
    assert add_months(day, months) == moved


def test_a_month_from_31_january_in_buenos_aires_is_28_february_at_the_same_wall_time() -> None:
    granted_at = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)  # 09:00 in Buenos Aires

    moved = add_months_local(granted_at, 1, timezone=BUENOS_AIRES)

    assert moved == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)


def test_add_months_local_clamps_the_local_date_not_the_utc_date() -> None:
    # 30 January 23:00 in Buenos Aires is already 31 January in UTC.
    granted_at = datetime(2026, 1, 31, 2, 0, tzinfo=UTC)

    moved = add_months_local(granted_at, 1, timezone=BUENOS_AIRES)

    assert moved == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 28 February 23:00 local


def test_a_month_across_the_spring_change_in_brussels_keeps_the_wall_time() -> None:
    granted_at = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)  # 10:00 CET

    moved = add_months_local(granted_at, 1, timezone=BRUSSELS)

    assert moved == datetime(2026, 4, 15, 8, 0, tzinfo=UTC)  # 10:00 CEST


def test_a_month_across_the_autumn_change_in_brussels_keeps_the_wall_time() -> None:
    granted_at = datetime(2026, 10, 15, 8, 0, tzinfo=UTC)  # 10:00 CEST

    moved = add_months_local(granted_at, 1, timezone=BRUSSELS)

    assert moved == datetime(2026, 11, 15, 9, 0, tzinfo=UTC)  # 10:00 CET


def test_add_months_local_refuses_a_naive_datetime() -> None:
    with pytest.raises(NaiveDateTime):
        add_months_local(datetime(2026, 1, 31, 9, 0), 1, timezone=BUENOS_AIRES)


@pytest.mark.parametrize(
    "granted_at",
    [
        datetime(2026, 11, 22, 19, 0, tzinfo=UTC),  # 14:00 in Bogotá
        datetime(2026, 11, 23, 4, 59, tzinfo=UTC),  # 23:59 in Bogotá, still 22 November
    ],
)
def test_a_30_day_validity_granted_on_22_november_in_bogota_ends_at_local_midnight(
    granted_at: datetime,
) -> None:
    ends_at = end_of_local_day_after(granted_at, 30, timezone=BOGOTA)

    assert ends_at == datetime(2026, 12, 23, 5, 0, tzinfo=UTC)  # 23 December 00:00 Bogotá


def test_the_end_of_a_local_day_in_brussels_follows_the_summer_offset() -> None:
    granted_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    ends_at = end_of_local_day_after(granted_at, 30, timezone=BRUSSELS)

    assert ends_at == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # 1 April 00:00 CEST


def test_require_aware_refuses_a_naive_datetime() -> None:
    with pytest.raises(NaiveDateTime, match="has no timezone"):
        require_aware(datetime(2026, 11, 22, 14, 0))


def test_require_aware_returns_the_same_instant_in_utc() -> None:
    bogota_afternoon = datetime(2026, 11, 22, 14, 0, tzinfo=timezone(timedelta(hours=-5)))

    instant = require_aware(bogota_afternoon)

    assert instant == datetime(2026, 11, 22, 19, 0, tzinfo=UTC)
    assert instant.utcoffset() == timedelta(0)


def test_a_period_contains_its_start_but_not_its_end() -> None:
    starts_at = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
    ends_at = datetime(2026, 12, 22, 0, 0, tzinfo=UTC)
    period = Period(starts_at=starts_at, ends_at=ends_at)

    assert period.contains(starts_at)
    assert period.contains(ends_at - timedelta(microseconds=1))
    assert not period.contains(ends_at)
    assert not period.contains(starts_at - timedelta(microseconds=1))


def test_a_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="cannot end before it starts"):
        Period(
            starts_at=datetime(2026, 12, 22, tzinfo=UTC),
            ends_at=datetime(2026, 11, 22, tzinfo=UTC),
        )


def test_a_period_refuses_naive_instants() -> None:
    with pytest.raises(NaiveDateTime):
        Period(starts_at=datetime(2026, 11, 22), ends_at=datetime(2026, 12, 22, tzinfo=UTC))


@pytest.mark.parametrize(
    ("left", "days"),
    [
        (timedelta(days=1, hours=12), 2),
        (timedelta(days=1), 1),
        (timedelta(seconds=1), 1),
        (timedelta(0), 0),
        (timedelta(days=-1), 0),
    ],
)
def test_whole_days_between_counts_a_started_day_as_a_day(left: timedelta, days: int) -> None:
    start = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)

    assert whole_days_between(start, start + left) == days


def test_a_renewal_of_a_running_line_adds_months_to_its_end() -> None:
    end = datetime(2026, 12, 23, 5, 0, tzinfo=UTC)  # midnight in Bogotá

    assert renewed_until(end, 1, timezone="America/Bogota", now=end - timedelta(days=3)) == (
        datetime(2027, 1, 23, 5, 0, tzinfo=UTC)
    )


def test_a_renewal_of_a_lapsed_line_ends_at_local_midnight_months_from_today() -> None:
    lapsed = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    now = datetime(2027, 1, 31, 15, 30, tzinfo=UTC)  # 10:30 on 31 January in Bogotá

    # a month from 31 January is 28 February: valid through it, to 1 March 00:00 local
    assert renewed_until(lapsed, 1, timezone="America/Bogota", now=now) == (
        datetime(2027, 3, 1, 5, 0, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2026-02-30", "2026-02-30 does not exist: February 2026 has 28 days"),
        ("2026-04-31T10:00:00-03:00", "2026-04-31 does not exist: April 2026 has 30 days"),
        ("2026-13-01", "2026-13-01 does not exist: there is no month 13"),
        ("2028-02-29", None),
        ("31/12/2026", None),
        ("yesterday", None),
    ],
)
def test_a_day_that_does_not_exist_is_told_apart_from_one_written_otherwise(
    text: str, why: str | None
) -> None:
    # given text that starts like a day, or not
    # when it is asked why it names no day
    # then only an impossible day gets an answer
    assert impossible_day(text) == why
