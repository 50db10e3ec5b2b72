"""Operators, lines, their buckets and the operator's accounts, the ledger, top-ups and
manual adjustments."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from saldo.adapters.db.tables.base import metadata
from saldo.adapters.db.types import Id, TZDateTime

operators = Table(
    "operators",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(128), nullable=False),
    Column("country", String(2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("timezone", String(64), nullable=False),
    # The validated catalog entry, as loaded; the domain Operator is rebuilt from it.
    Column("spec", JSON, nullable=False),
    Column("spec_hash", String(64), nullable=False),
    Column("created_at", TZDateTime, nullable=False),
    Column("updated_at", TZDateTime, nullable=False),
)

lines = Table(
    "lines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("msisdn", String(16), nullable=False),
    Column("iccid", String(20)),
    Column("sim_kind", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    # Where reminders and receipts go by email, when the subscriber gave one.
    Column("email", String(254)),
    # When that email was proven by a code sent to it (None: not proven, e.g. set by the CLI).
    Column("email_verified_at", TZDateTime),
    # The line's own low-balance alert threshold, minor units (None: the operator's).
    Column("low_balance_threshold", BigInteger),
    # The days before expiry its reminders go, "7,1" ("": none; None: its operator's days).
    Column("reminder_days", String(32)),
    Column("state", String(16), nullable=False),
    Column("activated_at", TZDateTime, nullable=False),
    Column("valid_until", TZDateTime, nullable=False),
    Column("state_changed_at", TZDateTime, nullable=False),
    Column("created_at", TZDateTime, nullable=False),
    CheckConstraint("state IN ('active', 'grace', 'suspended', 'recycled')", name="state"),
    CheckConstraint("sim_kind IN ('physical', 'esim')", name="sim_kind"),
    # A number belongs to one live line at a time; recycled lines keep their history.
    Index(
        "uq_lines_live_msisdn",
        "msisdn",
        unique=True,
        sqlite_where=text("state != 'recycled'"),
        postgresql_where=text("state != 'recycled'"),
    ),
    Index(
        "uq_lines_live_iccid",
        "iccid",
        unique=True,
        sqlite_where=text("state != 'recycled' AND iccid IS NOT NULL"),
        postgresql_where=text("state != 'recycled' AND iccid IS NOT NULL"),
    ),
    Index("ix_lines_operator_id_state", "operator_id", "state"),
    # The lifecycle sweep and the reminders read only the lines that are due: by state,
    # operator and end of validity.
    Index("ix_lines_state_operator_id_valid_until", "state", "operator_id", "valid_until"),
    # Lookups by number (live or recycled) use this one: the partial index above cannot serve
    # a query that does not repeat its condition.
    Index("ix_lines_msisdn", "msisdn"),
)

# A line's buckets and the operator's own accounts. Only line buckets cache a balance: the
# operator side is summed from the ledger, so busy operators have no hot row.
accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("line_id", ForeignKey("lines.id")),
    Column("kind", String(16), nullable=False),
    Column("unit", String(8), nullable=False),
    Column("balance", BigInteger, nullable=False, server_default="0"),
    Column("expires_at", TZDateTime),
    Column("created_at", TZDateTime, nullable=False),
    CheckConstraint("balance >= 0 OR line_id IS NULL", name="no_overdraft"),
    Index("ix_accounts_line_id", "line_id"),
    Index(
        "uq_accounts_main_bucket",
        "line_id",
        "kind",
        unique=True,
        sqlite_where=text("kind = 'main'"),
        postgresql_where=text("kind = 'main'"),
    ),
    Index(
        "uq_accounts_operator_account",
        "operator_id",
        "kind",
        "unit",
        unique=True,
        sqlite_where=text("line_id IS NULL"),
        postgresql_where=text("line_id IS NULL"),
    ),
)

ledger_transactions = Table(
    "ledger_transactions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("line_id", ForeignKey("lines.id")),
    Column("event_type", String(32), nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("memo", Text),
    Column("created_at", TZDateTime, nullable=False),
    # No index on the line or the event: no query reads by them (migration 0009), and every
    # money movement would write them.
)

# Append-only: the application never updates or deletes an entry. balance_after is kept for
# line buckets (old amount, change and new amount, as subscribers' statements show them).
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("transaction_id", ForeignKey("ledger_transactions.id"), nullable=False),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("balance_after", BigInteger),
    Index("ix_ledger_entries_transaction_id", "transaction_id"),
    Index("ix_ledger_entries_account_id", "account_id"),
)

topups = Table(
    "topups",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("line_id", ForeignKey("lines.id"), nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("request_fingerprint", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("validity_days", BigInteger, nullable=False),
    Column("state_before", String(16), nullable=False),
    Column("valid_until_before", TZDateTime, nullable=False),
    Column("valid_until_after", TZDateTime, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("created_at", TZDateTime, nullable=False),
    # The promotion's bonus credited with it, minor units (its own BONUS bucket).
    Column("bonus", BigInteger),
    CheckConstraint("amount > 0", name="positive_amount"),
    UniqueConstraint("operator_id", "idempotency_key"),
)

adjustments = Table(
    "adjustments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("line_id", ForeignKey("lines.id"), nullable=False),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("request_fingerprint", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("unit", String(8), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("created_at", TZDateTime, nullable=False),
    CheckConstraint("amount != 0", name="nonzero_amount"),
    UniqueConstraint("operator_id", "idempotency_key"),
    Index("ix_adjustments_line_id", "line_id"),
)
