"""Self-service channels (vouchers, plan purchases from the balance, inbound messages,
USSD sessions) and exchange rates."""

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
    UniqueConstraint,
)

from saldo.adapters.db.tables.base import metadata
from saldo.adapters.db.types import Id, TZDateTime

voucher_batches = Table(
    "voucher_batches",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("value", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("expires_at", TZDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", TZDateTime, nullable=False),
    Column("voided_at", TZDateTime),
    CheckConstraint("value > 0", name="positive_value"),
)

# A voucher's PIN is kept only as a keyed hash; its serial is printed on the card.
vouchers = Table(
    "vouchers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("batch_id", ForeignKey("voucher_batches.id"), nullable=False),
    Column("serial", String(32), nullable=False, unique=True),
    Column("pin_hash", String(64), nullable=False, unique=True),
    Column("value", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("state", String(16), nullable=False),
    Column("expires_at", TZDateTime, nullable=False),
    Column("redeemed_at", TZDateTime),
    Column("redeemed_line_id", ForeignKey("lines.id")),
    Column("topup_id", ForeignKey("topups.id")),
    Column("created_at", TZDateTime, nullable=False),
    CheckConstraint("state IN ('active', 'redeemed', 'expired', 'void')", name="state"),
    Index("ix_vouchers_batch_id", "batch_id"),
)

pin_attempts = Table(
    "pin_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("line_id", ForeignKey("lines.id"), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Column("created_at", TZDateTime, nullable=False),
    Index("ix_pin_attempts_line_id_created_at", "line_id", "created_at"),
)

plan_purchases = Table(
    "plan_purchases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("line_id", ForeignKey("lines.id"), nullable=False),
    Column("plan_code", String(64), nullable=False),
    Column("months", BigInteger, nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("request_fingerprint", String(64), nullable=False),
    Column("valid_until_before", TZDateTime, nullable=False),
    Column("valid_until_after", TZDateTime, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("created_at", TZDateTime, nullable=False),
    # The code of the promotion applied ("a+b" when stacked); price is what was paid.
    Column("promotion", String(140)),
    UniqueConstraint("operator_id", "idempotency_key"),
    Index("ix_plan_purchases_line_id", "line_id"),
)

# A gateway's message id, and the reply Saldo gave it: a repeat gets the same reply.
inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("reply", Text, nullable=False),
    Column("created_at", TZDateTime, nullable=False),
    UniqueConstraint("channel", "message_id"),
)

# "Buy plan X?" waiting for the subscriber's "SI".
pending_confirmations = Table(
    "pending_confirmations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("line_id", ForeignKey("lines.id"), nullable=False),
    Column("action", String(32), nullable=False),
    Column("argument", String(128), nullable=False),
    Column("expires_at", TZDateTime, nullable=False),
    Column("resolved_at", TZDateTime),
    Column("created_at", TZDateTime, nullable=False),
    Index("ix_pending_confirmations_line_id", "line_id"),
)

ussd_sessions = Table(
    "ussd_sessions",
    metadata,
    Column("session_id", String(128), primary_key=True),
    Column("msisdn", String(16), primary_key=True),
    Column("started_at", TZDateTime, nullable=False),
    Column("last_seen_at", TZDateTime, nullable=False),
)

# -- exchange rates ---------------------------------------------------------------------------

# 1 base = rate quote, as the source gave it. The rate is plain decimal text ("1.0876"): a
# NUMERIC column is exact on PostgreSQL but goes through a float on SQLite, and text keeps
# every published digit on both. Rates are never compared or summed in SQL.
exchange_rates = Table(
    "exchange_rates",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("base", String(3), nullable=False),
    Column("quote", String(3), nullable=False),
    Column("rate", String(40), nullable=False),
    Column("source", String(64), nullable=False),
    Column("fetched_at", TZDateTime, nullable=False),
    Column("loaded_at", TZDateTime, nullable=False),
    CheckConstraint("base != quote", name="two_currencies"),
    # One source quotes a pair once per moment: loading the same file again stores nothing.
    UniqueConstraint("base", "quote", "source", "fetched_at"),
    Index("ix_exchange_rates_base_quote_fetched_at", "base", "quote", "fetched_at"),
)
