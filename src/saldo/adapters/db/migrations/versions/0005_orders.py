"""orders: orders and their history, payments, webhook events, auto-renewal settings, the outbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saldo.adapters.db.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("received_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
        sa.UniqueConstraint(
            "provider", "event_id", name=op.f("uq_payment_events_provider_event_id")
        ),
    )
    op.create_table(
        "orders",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "operator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("plan_code", sa.String(length=64), nullable=False),
        sa.Column("addon_codes", sa.String(length=256), nullable=False),
        sa.Column("months", sa.BigInteger(), nullable=False),
        sa.Column("free_months", sa.BigInteger(), nullable=False),
        sa.Column("promotion", sa.String(length=140), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("gross", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate", sa.String(length=16), nullable=False),
        sa.Column("net", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("pay_in", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("market_rate", sa.String(length=40), nullable=True),
        sa.Column("rate", sa.String(length=40), nullable=True),
        sa.Column("rate_source", sa.String(length=64), nullable=True),
        sa.Column(
            "rate_fetched_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=True
        ),
        sa.Column("spread", sa.String(length=16), nullable=True),
        sa.Column("converted", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("placed_by", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("expires_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("fulfilled_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("receipt_number", sa.String(length=64), nullable=True),
        sa.Column(
            "valid_until_after", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=True
        ),
        sa.CheckConstraint(
            "state IN ('draft', 'awaiting_payment', 'paid', 'fulfilled', 'failed', 'expired', "
            "'cancelled', 'refunded')",
            name=op.f("ck_orders_state"),
        ),
        sa.CheckConstraint("price >= 0 AND total >= 0", name=op.f("ck_orders_no_negative_price")),
        sa.ForeignKeyConstraint(["line_id"], ["lines.id"], name=op.f("fk_orders_line_id_lines")),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_orders_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint(
            "operator_id", "idempotency_key", name=op.f("uq_orders_operator_id_idempotency_key")
        ),
        sa.UniqueConstraint("receipt_number", name=op.f("uq_orders_receipt_number")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_line_id", ["line_id"], unique=False)
        batch_op.create_index("ix_orders_state_expires_at", ["state", "expires_at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "operator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "channel IN ('email', 'sms', 'webhook')", name=op.f("ck_outbox_channel")
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'sent', 'dead', 'skipped')", name=op.f("ck_outbox_state")
        ),
        sa.ForeignKeyConstraint(["line_id"], ["lines.id"], name=op.f("fk_outbox_line_id_lines")),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_outbox_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_state_next_attempt_at", ["state", "next_attempt_at"], unique=False
        )

    op.create_table(
        "auto_renewals",
        sa.Column("line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "operator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("plan_code", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=256), nullable=True),
        sa.Column("fallback_to_balance", sa.Boolean(), nullable=False),
        sa.Column("days_before", sa.BigInteger(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("failures", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("updated_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["last_order_id"], ["orders.id"], name=op.f("fk_auto_renewals_last_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_auto_renewals_line_id_lines")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_auto_renewals_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("line_id", name=op.f("pk_auto_renewals")),
    )
    op.create_table(
        "order_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_events_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index("ix_order_events_order_id", ["order_id"], unique=False)

    op.create_table(
        "order_payments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "operator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("decline_code", sa.String(length=64), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("checks", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "next_check_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=True
        ),
        sa.Column("refund_due", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("refunded_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed')", name=op.f("ck_order_payments_status")
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_order_payments_no_negative_amount")),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_order_payments_operator_id_operators")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_payments_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_payments")),
        sa.UniqueConstraint(
            "operator_id",
            "provider",
            "idempotency_key",
            name=op.f("uq_order_payments_operator_id_provider_idempotency_key"),
        ),
        sa.UniqueConstraint(
            "provider", "reference", name=op.f("uq_order_payments_provider_reference")
        ),
    )
    with op.batch_alter_table("order_payments", schema=None) as batch_op:
        batch_op.create_index("ix_order_payments_order_id", ["order_id"], unique=False)
        batch_op.create_index(
            "ix_order_payments_status_next_check_at", ["status", "next_check_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("order_payments", schema=None) as batch_op:
        batch_op.drop_index("ix_order_payments_status_next_check_at")
        batch_op.drop_index("ix_order_payments_order_id")

    op.drop_table("order_payments")
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index("ix_order_events_order_id")

    op.drop_table("order_events")
    op.drop_table("auto_renewals")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_state_next_attempt_at")

    op.drop_table("outbox")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_state_expires_at")
        batch_op.drop_index("ix_orders_line_id")

    op.drop_table("orders")
    op.drop_table("payment_events")
