"""Usage: rated CDRs, daily use, network elements and charging sessions."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
)

from saldo.adapters.db.tables.base import metadata
from saldo.adapters.db.types import Id, TZDateTime

# A call detail record rated and charged, once per (operator, record id): importing the same
# file again changes nothing. ``shortfall``: the part of the price no money covered.
usage_records = Table(
    "usage_records",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("line_id", ForeignKey("lines.id"), nullable=False),
    Column("record_id", String(128), nullable=False),
    Column("service", String(8), nullable=False),
    Column("started_at", TZDateTime, nullable=False),
    Column("used", BigInteger, nullable=False),
    Column("billable", BigInteger, nullable=False),
    Column("zone", String(32), nullable=False),
    Column("destination", String(20)),
    Column("allowance_used", BigInteger, nullable=False),
    Column("money", BigInteger, nullable=False),
    Column("shortfall", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("created_at", TZDateTime, nullable=False),
    CheckConstraint("service IN ('voice', 'sms', 'data')", name="service"),
    UniqueConstraint("operator_id", "record_id"),
    Index("ix_usage_records_line_id_started_at", "line_id", "started_at"),
)

# Daily use per line and service (the operator's local day), kept for statements and charts.
usage_daily = Table(
    "usage_daily",
    metadata,
    Column("line_id", ForeignKey("lines.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("service", String(8), primary_key=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("events", BigInteger, nullable=False),
    Column("used", BigInteger, nullable=False),
    Column("billable", BigInteger, nullable=False),
    Column("allowance_used", BigInteger, nullable=False),
    Column("money", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
)

# -- real-time charging --------------------------------------------------------------------------

# A network element (voice switch, packet gateway, SMSC) allowed to charge one operator's
# lines; its API key is kept only as a keyed hash.
network_elements = Table(
    "network_elements",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", TZDateTime, nullable=False),
    Column("revoked_at", TZDateTime),
    # Noted at most once a minute: a key's last use, not a log of them.
    Column("last_used_at", TZDateTime),
    UniqueConstraint("operator_id", "name"),
)

# A credit-control session: units reserved (taken from the line's buckets into the
# operator's reservations account, ``held`` lists from where), then used or given back.
charging_sessions = Table(
    "charging_sessions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("line_id", ForeignKey("lines.id"), nullable=False),
    Column("element_id", ForeignKey("network_elements.id"), nullable=False),
    Column("msisdn", String(16), nullable=False),
    Column("service", String(8), nullable=False),
    Column("destination", String(20)),
    Column("on_net", Boolean, nullable=False),
    Column("state", String(16), nullable=False),
    # The element's own id for the session (Diameter's Session-Id): a repeated open or SMS
    # event with it gets the first answer.
    Column("session_key", String(128), nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("held", JSON, nullable=False),
    # Billed so far, cumulatively (increments and money rounding apply to the session's
    # whole use, not to each report): raw units reported, billable units, the billable units
    # paid with money and the money itself.
    Column("used_raw", BigInteger, nullable=False),
    Column("used", BigInteger, nullable=False),
    Column("money_units", BigInteger, nullable=False),
    Column("money_billed", BigInteger, nullable=False),
    # The last report's number (Diameter's CC-Request-Number) and its answer: a retried
    # report gets the same answer and is not charged again.
    Column("last_request", BigInteger, nullable=False),
    Column("last_answer", JSON),
    Column("expires_at", TZDateTime, nullable=False),
    Column("created_at", TZDateTime, nullable=False),
    Column("updated_at", TZDateTime, nullable=False),
    CheckConstraint("state IN ('open', 'closed', 'expired')", name="state"),
    UniqueConstraint("operator_id", "session_key"),
    Index("ix_charging_sessions_state_expires_at", "state", "expires_at"),
)
