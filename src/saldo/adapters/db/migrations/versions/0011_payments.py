"""payments: one table for every payment taken at a processor, whatever it pays for

``order_payments`` and ``auto_topup_attempts`` become ``payments`` rows with a ``purpose``
(``order`` or ``auto_topup``), so one flow claims, settles (by webhook or poll), reconciles
and refunds them all. Order payments keep their ids (the keys already sent to processors are
made from them); auto top-up charges get new ids and keep the key they were sent with in
``processor_key``. A downgrade waits until no auto top-up charge is pending (the old table
cannot hold the key it was sent with).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saldo.adapters.db.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = saldo.adapters.db.types.TZDateTime(timezone=True)
_PENDING_AUTO_TOPUP = "status = 'pending' AND purpose = 'auto_topup'"
# Whether this database had made its installation id (0010) before it was migrated.
_INSTALLED = "EXISTS (SELECT 1 FROM installation)"


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("operator_id", _ID, nullable=False),
        sa.Column("line_id", _ID, nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("order_id", _ID, nullable=True),
        sa.Column("topup_id", _ID, nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("processor_key", sa.String(length=128), nullable=True),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("decline_code", sa.String(length=64), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("checks", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("next_check_at", _AT, nullable=True),
        sa.Column("refund_due", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("refunded_at", _AT, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed')", name=op.f("ck_payments_status")
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_payments_no_negative_amount")),
        sa.CheckConstraint("purpose IN ('order', 'auto_topup')", name=op.f("ck_payments_purpose")),
        sa.CheckConstraint(
            "purpose <> 'order' OR order_id IS NOT NULL", name=op.f("ck_payments_order_has_order")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_payments_operator_id_operators")
        ),
        sa.ForeignKeyConstraint(["line_id"], ["lines.id"], name=op.f("fk_payments_line_id_lines")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_payments_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["topup_id"], ["topups.id"], name=op.f("fk_payments_topup_id_topups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "operator_id",
            "provider",
            "idempotency_key",
            name=op.f("uq_payments_operator_id_provider_idempotency_key"),
        ),
        sa.UniqueConstraint("provider", "reference", name=op.f("uq_payments_provider_reference")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_order_id", ["order_id"], unique=False)
        batch_op.create_index("ix_payments_line_id", ["line_id"], unique=False)
        batch_op.create_index(
            "ix_payments_status_next_check_at", ["status", "next_check_at"], unique=False
        )
        batch_op.create_index(
            "uq_payments_pending_auto_topup_line_id",
            ["line_id"],
            unique=True,
            sqlite_where=sa.text(_PENDING_AUTO_TOPUP),
            postgresql_where=sa.text(_PENDING_AUTO_TOPUP),
        )
    # Every payment keeps the key it was sent to its processor with, by which one whose answer
    # was lost is found again. Before 0010 there was no installation id: an order's payment
    # went as ``saldo-payment-<id>``, an auto top-up's as ``saldo-topup-<attempt id>``. A
    # database that has an installation id already sent them with it (an order payment's is
    # then the flow's own, so it needs no key of its own).
    op.execute(
        "INSERT INTO payments (id, operator_id, line_id, purpose, order_id, provider, "
        "idempotency_key, processor_key, reference, status, amount, currency, decline_code, "
        "card_last4, checks, next_check_at, refund_due, refunded_at, created_at, updated_at) "
        "SELECT p.id, p.operator_id, o.line_id, 'order', p.order_id, p.provider, "
        f"p.idempotency_key, CASE WHEN {_INSTALLED} THEN NULL "
        "ELSE 'saldo-payment-' || p.id END, "
        "p.reference, p.status, p.amount, p.currency, p.decline_code, "
        "p.card_last4, p.checks, p.next_check_at, p.refund_due, p.refunded_at, p.created_at, "
        "p.updated_at FROM order_payments p JOIN orders o ON o.id = p.order_id"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('payments', 'id'), "
            "COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM payments"
        )
    # A pending charge is asked about at the worker's next pass, with the key it was sent with.
    op.execute(
        "INSERT INTO payments (operator_id, line_id, purpose, topup_id, provider, "
        "idempotency_key, processor_key, reference, status, amount, currency, decline_code, "
        "checks, next_check_at, created_at, updated_at) "
        "SELECT a.operator_id, a.line_id, 'auto_topup', a.topup_id, a.provider, "
        "a.idempotency_key, "
        f"CASE WHEN {_INSTALLED} THEN 'saldo-' || (SELECT installation_id FROM installation) "
        "|| '-topup-' || a.id ELSE 'saldo-topup-' || a.id END, "
        "a.reference, a.status, a.amount, a.currency, a.decline_code, 0, "
        "CASE WHEN a.status = 'pending' THEN a.created_at END, a.created_at, a.updated_at "
        "FROM auto_topup_attempts a ORDER BY a.id"
    )
    op.drop_table("auto_topup_attempts")
    op.drop_table("order_payments")


def downgrade() -> None:
    pending = (
        op.get_bind()
        .execute(sa.text("SELECT COUNT(*) FROM payments WHERE " + _PENDING_AUTO_TOPUP))
        .scalar_one()
    )
    if pending:
        # Its key at the processor cannot be written in the old table: settle it first.
        raise RuntimeError(
            f"{pending} auto top-up charge(s) still pending: run saldo worker until they "
            "settle, then downgrade"
        )
    op.create_table(
        "order_payments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("operator_id", _ID, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("decline_code", sa.String(length=64), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("checks", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("next_check_at", _AT, nullable=True),
        sa.Column("refund_due", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("refunded_at", _AT, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
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
    op.create_table(
        "auto_topup_attempts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("operator_id", _ID, nullable=False),
        sa.Column("line_id", _ID, nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("decline_code", sa.String(length=64), nullable=True),
        sa.Column("topup_id", _ID, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed')",
            name=op.f("ck_auto_topup_attempts_status"),
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_auto_topup_attempts_line_id_lines")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_auto_topup_attempts_operator_id_operators"),
        ),
        sa.ForeignKeyConstraint(
            ["topup_id"], ["topups.id"], name=op.f("fk_auto_topup_attempts_topup_id_topups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auto_topup_attempts")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_auto_topup_attempts_idempotency_key")),
    )
    with op.batch_alter_table("auto_topup_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_auto_topup_attempts_line_id", ["line_id"], unique=False)
        batch_op.create_index(
            "uq_auto_topup_attempts_pending_line_id",
            ["line_id"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
    op.execute(
        "INSERT INTO order_payments (id, operator_id, order_id, provider, idempotency_key, "
        "reference, status, amount, currency, decline_code, card_last4, checks, next_check_at, "
        "refund_due, refunded_at, created_at, updated_at) "
        "SELECT id, operator_id, order_id, provider, idempotency_key, reference, status, "
        "amount, currency, decline_code, card_last4, checks, next_check_at, refund_due, "
        "refunded_at, created_at, updated_at FROM payments WHERE purpose = 'order'"
    )
    op.execute(
        "INSERT INTO auto_topup_attempts (id, operator_id, line_id, provider, idempotency_key, "
        "reference, status, amount, currency, decline_code, topup_id, created_at, updated_at) "
        "SELECT id, operator_id, line_id, provider, idempotency_key, reference, status, amount, "
        "currency, decline_code, topup_id, created_at, updated_at FROM payments "
        "WHERE purpose = 'auto_topup'"
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in ("order_payments", "auto_topup_attempts"):
            op.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table}"
            )
    op.drop_table("payments")
