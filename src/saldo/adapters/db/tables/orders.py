"""Orders, the payments taken at processors (for orders and auto top-ups), auto-renewal,
and the outbox."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from saldo.adapters.db.tables.base import metadata
from saldo.adapters.db.types import Id, TZDateTime

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

# This installation's random id, one row made on first use: every idempotency key and
# reference sent to a payment processor starts with it, so two Saldo databases (staging and
# production, or a demo made again after `make clean`) never send a processor the same key.
installation = Table(
    "installation",
    metadata,
    Column("one", SmallInteger, primary_key=True, autoincrement=False),
    Column("installation_id", String(32), nullable=False),
    CheckConstraint("one = 1", name="single_row"),
)

# One attempt to take money through a processor, for a ``purpose``: an ``order`` (its
# ``order_id``), an ``auto_topup`` of the line or a subscriber's one-off ``topup`` by card
# (the top-up either credited: ``topup_id``). No card number is ever stored: the
# processor's reference and, for receipts, the card's last four digits. ``processor_key``
# is the idempotency key and reference it was sent with when that is not
# ``saldo-<installation id>-payment-<id>`` (auto top-ups charged before 0011).
payments = Table(
    "payments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("line_id", ForeignKey("lines.id"), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("order_id", ForeignKey("orders.id")),
    Column("topup_id", ForeignKey("topups.id")),
    Column("provider", String(32), nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("processor_key", String(128)),
    Column("reference", String(128)),
    Column("status", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("decline_code", String(64)),
    Column("card_last4", String(4)),
    Column("checks", BigInteger, nullable=False, server_default="0"),
    Column("next_check_at", TZDateTime),
    # A succeeded payment its purpose could not use (a second payment, a cancelled order, a
    # recycled line): it is given back, and refunded_at says when.
    Column("refund_due", Boolean, nullable=False, server_default=false()),
    Column("refunded_at", TZDateTime),
    Column("created_at", TZDateTime, nullable=False),
    Column("updated_at", TZDateTime, nullable=False),
    CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
    CheckConstraint("amount >= 0", name="no_negative_amount"),
    CheckConstraint("purpose IN ('order', 'auto_topup', 'topup')", name="purpose"),
    CheckConstraint("purpose <> 'order' OR order_id IS NOT NULL", name="order_has_order"),
    UniqueConstraint("operator_id", "provider", "idempotency_key"),
    UniqueConstraint("provider", "reference"),
    Index("ix_payments_order_id", "order_id"),
    Index("ix_payments_line_id", "line_id"),
    Index("ix_payments_status_next_check_at", "status", "next_check_at"),
    # One auto top-up charge at a time per line: two workers can never both charge it.
    Index(
        "uq_payments_pending_auto_topup_line_id",
        "line_id",
        unique=True,
        sqlite_where=text("status = 'pending' AND purpose = 'auto_topup'"),
        postgresql_where=text("status = 'pending' AND purpose = 'auto_topup'"),
    ),
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
    # A verification code the message carries while it is pending, cleared when it leaves.
    Column("secret", String(64)),
    CheckConstraint("channel IN ('email', 'sms', 'webhook')", name="channel"),
    # skipped: no longer true when its turn came (a reminder for a line renewed meanwhile).
    CheckConstraint("state IN ('pending', 'sent', 'dead', 'skipped')", name="state"),
    Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
)
