"""The lifecycle worker's tables: line events, auto top-ups, job runs."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from saldo.adapters.db.tables.base import metadata
from saldo.adapters.db.types import Id, TZDateTime

# Every change of a line's lifecycle state: when it took effect by the rules (effective_at)
# and when the worker wrote it down (recorded_at); a worker catching up records both.
line_events = Table(
    "line_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("line_id", ForeignKey("lines.id"), nullable=False),
    Column("from_state", String(16), nullable=False),
    Column("to_state", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("effective_at", TZDateTime, nullable=False),
    Column("recorded_at", TZDateTime, nullable=False),
    Index("ix_line_events_line_id", "line_id"),
)

# A line's standing instruction to top up ``amount`` when its main money falls below
# ``threshold``, paid with a saved method.
auto_topups = Table(
    "auto_topups",
    metadata,
    Column("line_id", ForeignKey("lines.id"), primary_key=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("threshold", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("token", String(256), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("failures", BigInteger, nullable=False, server_default="0"),
    Column("next_attempt_at", TZDateTime),
    Column("updated_at", TZDateTime, nullable=False),
    CheckConstraint("amount > 0 AND threshold >= 0", name="amounts"),
)

# When each of the worker's jobs last ran to the end: the next run looks back to then (a
# worker that was down for three days catches up on exactly those three days).
job_runs = Table(
    "job_runs",
    metadata,
    Column("job", String(64), primary_key=True),
    Column("last_run_at", TZDateTime, nullable=False),
)
