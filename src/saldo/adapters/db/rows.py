"""Stored rows into domain values, without SQLAlchemy.

The line repository reads rows through SQLAlchemy's prepared statements; a balance inquiry
on an SQLite file reads the same rows through the standard library's driver
(``saldo.adapters.db.sqlite_reads``), so that ``saldo balance`` starts without importing
SQLAlchemy. Both turn them into lines and buckets here, the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from saldo.domain.buckets import Bucket, BucketKind
from saldo.domain.lifecycle import LineState
from saldo.domain.lines import Line
from saldo.domain.operator import SimKind

# Stored values to enum members by a dict lookup: an Enum call costs more, on every read.
_SIM_KINDS = {kind.value: kind for kind in SimKind}
_STATES = {state.value: state for state in LineState}
_BUCKET_KINDS = {kind.value: kind for kind in BucketKind}


def stored_utc(value: Any) -> datetime | None:
    """A ``TZDateTime`` column's stored value as an aware UTC datetime: from SQLAlchemy
    (a naive UTC datetime on SQLite, an aware one on PostgreSQL) or straight from the driver,
    as prepared statements read it (SQLite's naive UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):  # one parse is cheaper than a parse and a replace
        return datetime.fromisoformat(value + "+00:00")
    moment: datetime = value
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def line_of(row: Any) -> Line:
    """The line in a row that has the line's columns by name (a prepared statement's, or
    SQLAlchemy's, or the standard driver's made into one)."""
    return Line(
        id=row.id,
        operator_id=row.operator_id,
        msisdn=row.msisdn,
        iccid=row.iccid,
        sim_kind=_SIM_KINDS[row.sim_kind],
        language=row.language,
        state=_STATES[row.state],
        activated_at=row.activated_at,
        valid_until=row.valid_until,
        email=row.email,
        email_verified_at=row.email_verified_at,
        low_balance_threshold=row.low_balance_threshold,
        reminder_days=_days(row.reminder_days),
    )


def buckets_of(rows: Sequence[Any]) -> tuple[Bucket, ...]:
    """The buckets in rows of a line read with its buckets, one bucket a row (a line without
    buckets has one row, with NULL bucket columns)."""
    return tuple(
        Bucket(
            id=row.bucket_id,
            kind=_BUCKET_KINDS[row.bucket_kind],
            unit=row.unit,
            balance=row.balance,
            expires_at=row.expires_at,
        )
        for row in rows
        if row.bucket_id is not None
    )


def _days(stored: str | None) -> tuple[int, ...] | None:
    if stored is None:
        return None
    return tuple(int(day) for day in stored.split(",") if day)
