"""The database schema (SQLAlchemy Core). Alembic migrations in ``migrations/`` create it;
a test checks that they agree.

Money is BIGINT minor units; every row that belongs to an operator carries ``operator_id``.
"""

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
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from saldo.adapters.db.types import Id, TZDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

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
    # The line's own low-balance alert threshold, minor units (None: the operator's).
    Column("low_balance_threshold", BigInteger),
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
    Index("ix_ledger_transactions_event", "event_type", "event_id"),
    Index("ix_ledger_transactions_line_id", "line_id"),
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
    Index("ix_topups_line_id", "line_id"),
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

# -- self-service channels: vouchers, plan purchases from the balance, inbound messages ------

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

# -- orders and payments ----------------------------------------------------------------------

# A plan (and add-ons) bought for one line, with the quote it was placed at: amounts are
# minor units of the line's currency up to ``tax``, of ``pay_in`` from ``converted`` on; the
# rates and the spread are decimal text, as in exchange_rates.
orders = Table(
    "orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("line_id", ForeignKey("lines.id"), nullable=False),
    Column("state", String(20), nullable=False),
    Column("plan_code", String(64), nullable=False),
    Column("addon_codes", String(256), nullable=False),
    Column("months", BigInteger, nullable=False),
    Column("free_months", BigInteger, nullable=False),
    Column("promotion", String(140)),
    Column("currency", String(3), nullable=False),
    Column("gross", BigInteger, nullable=False),
    Column("discount", BigInteger, nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("tax_rate", String(16), nullable=False),
    Column("net", BigInteger, nullable=False),
    Column("tax", BigInteger, nullable=False),
    Column("pay_in", String(3), nullable=False),
    Column("method", String(16), nullable=False),
    Column("market_rate", String(40)),
    Column("rate", String(40)),
    Column("rate_source", String(64)),
    Column("rate_fetched_at", TZDateTime),
    Column("spread", String(16)),
    Column("converted", BigInteger, nullable=False),
    Column("fee", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("placed_by", String(16), nullable=False),
    Column("email", String(254)),
    Column("idempotency_key", String(128), nullable=False),
    Column("request_fingerprint", String(64), nullable=False),
    Column("expires_at", TZDateTime, nullable=False),
    Column("created_at", TZDateTime, nullable=False),
    Column("updated_at", TZDateTime, nullable=False),
    Column("paid_at", TZDateTime),
    Column("fulfilled_at", TZDateTime),
    Column("receipt_number", String(64), unique=True),
    Column("valid_until_after", TZDateTime),
    CheckConstraint(
        "state IN ('draft', 'awaiting_payment', 'paid', 'fulfilled', 'failed', 'expired', "
        "'cancelled', 'refunded')",
        name="state",
    ),
    CheckConstraint("price >= 0 AND total >= 0", name="no_negative_price"),
    UniqueConstraint("operator_id", "idempotency_key"),
    Index("ix_orders_line_id", "line_id"),
    Index("ix_orders_state_expires_at", "state", "expires_at"),
)

# Every transition of an order, with its time and reason (creation has no from_state).
order_events = Table(
    "order_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", ForeignKey("orders.id"), nullable=False),
    Column("from_state", String(20)),
    Column("to_state", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", TZDateTime, nullable=False),
    Index("ix_order_events_order_id", "order_id"),
)

# One attempt to take an order's money through a processor. No card number is ever stored:
# the processor's reference and, for receipts, the card's last four digits.
order_payments = Table(
    "order_payments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("order_id", ForeignKey("orders.id"), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("reference", String(128)),
    Column("status", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("decline_code", String(64)),
    Column("card_last4", String(4)),
    Column("checks", BigInteger, nullable=False, server_default="0"),
    Column("next_check_at", TZDateTime),
    # A succeeded payment the order could not use (a second payment, a cancelled order, a
    # recycled line): it is given back, and refunded_at says when.
    Column("refund_due", Boolean, nullable=False, server_default=false()),
    Column("refunded_at", TZDateTime),
    Column("created_at", TZDateTime, nullable=False),
    Column("updated_at", TZDateTime, nullable=False),
    CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
    CheckConstraint("amount >= 0", name="no_negative_amount"),
    UniqueConstraint("operator_id", "provider", "idempotency_key"),
    UniqueConstraint("provider", "reference"),
    Index("ix_order_payments_order_id", "order_id"),
    Index("ix_order_payments_status_next_check_at", "status", "next_check_at"),
)

# Processors' webhook events, each applied once.
payment_events = Table(
    "payment_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("provider", String(32), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("status", String(16)),
    Column("received_at", TZDateTime, nullable=False),
    UniqueConstraint("provider", "event_id"),
)

auto_renewals = Table(
    "auto_renewals",
    metadata,
    Column("line_id", ForeignKey("lines.id"), primary_key=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("plan_code", String(64), nullable=False),
    Column("provider", String(32), nullable=False),
    # The processor's saved payment method or customer reference; never a card number.
    Column("token", String(256)),
    Column("fallback_to_balance", Boolean, nullable=False),
    Column("days_before", BigInteger, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("failures", BigInteger, nullable=False, server_default="0"),
    Column("next_attempt_at", TZDateTime),
    Column("last_order_id", ForeignKey("orders.id")),
    Column("email", String(254)),
    Column("updated_at", TZDateTime, nullable=False),
)

# -- outbox -----------------------------------------------------------------------------------

# Notifications written in the same transaction as their cause, delivered after it commits.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("line_id", ForeignKey("lines.id")),
    Column("channel", String(16), nullable=False),
    Column("key", String(200), nullable=False, unique=True),
    Column("recipient", String(254), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", BigInteger, nullable=False, server_default="0"),
    Column("next_attempt_at", TZDateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", TZDateTime, nullable=False),
    Column("sent_at", TZDateTime),
    CheckConstraint("channel IN ('email', 'sms', 'webhook')", name="channel"),
    # skipped: no longer true when its turn came (a reminder for a line renewed meanwhile).
    CheckConstraint("state IN ('pending', 'sent', 'dead', 'skipped')", name="state"),
    Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
)

# -- lifecycle ---------------------------------------------------------------------------------

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

# One attempt to charge an auto top-up: claimed before the processor is asked, so that a
# crash never charges twice (the key) nor loses a charge (the reconciliation of pending
# attempts).
auto_topup_attempts = Table(
    "auto_topup_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("line_id", ForeignKey("lines.id"), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("idempotency_key", String(128), nullable=False, unique=True),
    Column("reference", String(128)),
    Column("status", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("decline_code", String(64)),
    Column("topup_id", ForeignKey("topups.id")),
    Column("created_at", TZDateTime, nullable=False),
    Column("updated_at", TZDateTime, nullable=False),
    CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
    Index("ix_auto_topup_attempts_line_id", "line_id"),
    # One charge at a time per line: two workers can never both charge it.
    Index(
        "uq_auto_topup_attempts_pending_line_id",
        "line_id",
        unique=True,
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
)

# When each of the worker's jobs last ran to the end: the next run looks back to then (a
# worker that was down for three days catches up on exactly those three days).
job_runs = Table(
    "job_runs",
    metadata,
    Column("job", String(64), primary_key=True),
    Column("last_run_at", TZDateTime, nullable=False),
)

# -- usage ---------------------------------------------------------------------------------------

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
