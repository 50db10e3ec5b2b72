"""Time rules: aware UTC instants, ``[starts_at, ends_at)`` periods and calendar arithmetic.

The domain never reads the clock: every function takes ``now`` (or the instant it works from)
as an argument. Local time, in the operator's zone, is used only where people see days.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


class NaiveDateTime(ValueError):
    """A datetime without a timezone reached code that needs an instant."""


_DAY_PREFIX = re.compile(r"\s*([0-9]{4})-([0-9]{2})-([0-9]{2})(?![0-9])")


def impossible_day(text: str) -> str | None:
    """Why ``text``, which starts like a day written YYYY-MM-DD, names no day of the calendar
    ("2026-02-30 does not exist: February 2026 has 28 days"); None when it names one or does
    not start like a day. For telling a date that does not exist apart from one written
    another way."""
    found = _DAY_PREFIX.match(text)
    if found is None:
        return None
    year, month, day = (int(part) for part in found.groups())
    written = "-".join(found.groups())
    if not 1 <= month <= 12:
        return f"{written} does not exist: there is no month {month}"
    days = calendar.monthrange(year, month)[1] if year else 31
    if not 1 <= day <= days:
        return f"{written} does not exist: {calendar.month_name[month]} {year} has {days} days"
    return None


def require_aware(moment: datetime) -> datetime:
    """Return ``moment`` in UTC; raise NaiveDateTime when it has no timezone."""
    if moment.tzinfo is UTC:  # the common case, and the cheapest check
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveDateTime(f"{moment.isoformat()} has no timezone")
    return moment.astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, the day clamped to the month's end
    (31 January + 1 month = 28 or 29 February)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_months_local(moment: datetime, months: int, *, timezone: str) -> datetime:
    """An instant moved by calendar months as people in ``timezone`` count them: the same
    local wall time, the day clamped, then back to UTC."""
    zone = ZoneInfo(timezone)
    local = require_aware(moment).astimezone(zone)
    moved = add_months(local.date(), months)
    return datetime.combine(moved, local.timetz().replace(tzinfo=None), tzinfo=zone).astimezone(UTC)


def add_days_local(moment: datetime, days: int, *, timezone: str) -> datetime:
    """An instant moved by calendar days as people in ``timezone`` count them: the same
    local wall time ``days`` days later (or earlier), across daylight-saving changes."""
    return _add_days_local(require_aware(moment), days, timezone)


@lru_cache(maxsize=16384)
def _add_days_local(moment: datetime, days: int, timezone: str) -> datetime:
    # Many lines share an end of validity, and every balance inquiry asks for its grace and
    # recycling dates: each is worked out once.
    zone = ZoneInfo(timezone)
    local = require_aware(moment).astimezone(zone)
    moved = local.date() + timedelta(days=days)
    return datetime.combine(moved, local.timetz().replace(tzinfo=None), tzinfo=zone).astimezone(UTC)


def local_date(moment: datetime, *, timezone: str) -> date:
    """The calendar date of ``moment`` in ``timezone``."""
    return require_aware(moment).astimezone(ZoneInfo(timezone)).date()


def start_of_local_day(day: date, *, timezone: str) -> datetime:
    """The UTC instant at which ``day`` begins in ``timezone``."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def end_of_local_day_after(moment: datetime, days: int, *, timezone: str) -> datetime:
    """The exclusive end of the local day that falls ``days`` days after ``moment``.

    A validity of 30 days granted at 14:00 on 22 November runs to the end of 22 December,
    local time: the instant 23 December 00:00 in the operator's zone.
    """
    day = local_date(moment, timezone=timezone) + timedelta(days=days + 1)
    return start_of_local_day(day, timezone=timezone)


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open period ``[starts_at, ends_at)`` of aware UTC instants."""

    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.starts_at)
        require_aware(self.ends_at)
        if self.ends_at < self.starts_at:
            raise ValueError("a period cannot end before it starts")

    def contains(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


def whole_days_between(start: datetime, end: datetime) -> int:
    """Whole days from ``start`` until ``end`` (0 when ``end`` is not after ``start``),
    counting a started day as a day: 1.5 days left is 2 days left."""
    seconds = (require_aware(end) - require_aware(start)).total_seconds()
    if seconds <= 0:
        return 0
    return -int(-seconds // 86400)


def renewed_until(valid_until: datetime, months: int, *, timezone: str, now: datetime) -> datetime:
    """The end of validity after ``months`` of a plan: that many calendar months after the
    current end while it lasts; for a line whose validity has passed, the end of the local
    day that many months from today (validity always ends at local midnight)."""
    if valid_until > now:
        return add_months_local(valid_until, months, timezone=timezone)
    today = local_date(now, timezone=timezone)
    return start_of_local_day(add_months(today, months) + timedelta(days=1), timezone=timezone)
