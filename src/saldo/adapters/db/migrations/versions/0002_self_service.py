"""self-service channels: vouchers, plan purchases, inbound messages, USSD sessions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saldo.adapters.db.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint(
            "channel", "message_id", name=op.f("uq_inbound_messages_channel_message_id")
        ),
    )
    op.create_table(
        "ussd_sessions",
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("msisdn", sa.String(length=16), nullable=False),
        sa.Column("started_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_seen_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("session_id", "msisdn", name=op.f("pk_ussd_sessions")),
    )
    op.create_table(
        "voucher_batches",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "operator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("voided_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("value > 0", name=op.f("ck_voucher_batches_positive_value")),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_voucher_batches_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_batches")),
    )
    op.create_table(
        "pending_confirmations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("argument", sa.String(length=128), nullable=False),
        sa.Column("expires_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_pending_confirmations_line_id_lines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_confirmations")),
    )
    with op.batch_alter_table("pending_confirmations", schema=None) as batch_op:
        batch_op.create_index("ix_pending_confirmations_line_id", ["line_id"], unique=False)

    op.create_table(
        "pin_attempts",
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
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_pin_attempts_line_id_lines")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_pin_attempts_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pin_attempts")),
    )
    with op.batch_alter_table("pin_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pin_attempts_line_id_created_at", ["line_id", "created_at"], unique=False
        )

    op.create_table(
        "plan_purchases",
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
        sa.Column("plan_code", sa.String(length=64), nullable=False),
        sa.Column("months", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=False),
        sa.Column(
            "valid_until_before", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "valid_until_after", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False
        ),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_plan_purchases_line_id_lines")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_plan_purchases_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_purchases")),
        sa.UniqueConstraint(
            "operator_id",
            "idempotency_key",
            name=op.f("uq_plan_purchases_operator_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("plan_purchases", schema=None) as batch_op:
        batch_op.create_index("ix_plan_purchases_line_id", ["line_id"], unique=False)

    op.create_table(
        "vouchers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "operator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("serial", sa.String(length=32), nullable=False),
        sa.Column("pin_hash", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("expires_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column(
            "redeemed_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("topup_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('active', 'redeemed', 'expired', 'void')", name=op.f("ck_vouchers_state")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["voucher_batches.id"], name=op.f("fk_vouchers_batch_id_voucher_batches")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_vouchers_operator_id_operators")
        ),
        sa.ForeignKeyConstraint(
            ["redeemed_line_id"], ["lines.id"], name=op.f("fk_vouchers_redeemed_line_id_lines")
        ),
        sa.ForeignKeyConstraint(
            ["topup_id"], ["topups.id"], name=op.f("fk_vouchers_topup_id_topups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouchers")),
        sa.UniqueConstraint("pin_hash", name=op.f("uq_vouchers_pin_hash")),
        sa.UniqueConstraint("serial", name=op.f("uq_vouchers_serial")),
    )
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.create_index("ix_vouchers_batch_id", ["batch_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.drop_index("ix_vouchers_batch_id")

    op.drop_table("vouchers")
    with op.batch_alter_table("plan_purchases", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_purchases_line_id")

    op.drop_table("plan_purchases")
    with op.batch_alter_table("pin_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_pin_attempts_line_id_created_at")

    op.drop_table("pin_attempts")
    with op.batch_alter_table("pending_confirmations", schema=None) as batch_op:
        batch_op.drop_index("ix_pending_confirmations_line_id")

    op.drop_table("pending_confirmations")
    op.drop_table("voucher_batches")
    op.drop_table("ussd_sessions")
    op.drop_table("inbound_messages")
