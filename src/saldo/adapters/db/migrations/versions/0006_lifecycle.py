"""lifecycle: line events, the email of a line, auto top-ups and their attempts, the sweep's index

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saldo.adapters.db.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("last_run_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_job_runs")),
    )
    op.create_table(
        "auto_topups",
        sa.Column("line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "operator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("threshold", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=256), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("failures", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=True
        ),
        sa.Column("updated_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0 AND threshold >= 0", name=op.f("ck_auto_topups_amounts")),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_auto_topups_line_id_lines")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_auto_topups_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("line_id", name=op.f("pk_auto_topups")),
    )
    op.create_table(
        "line_events",
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
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "effective_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_line_events_line_id_lines")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_line_events_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_events")),
    )
    with op.batch_alter_table("line_events", schema=None) as batch_op:
        batch_op.create_index("ix_line_events_line_id", ["line_id"], unique=False)

    op.create_table(
        "auto_topup_attempts",
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
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("decline_code", sa.String(length=64), nullable=True),
        sa.Column("topup_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
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

    with op.batch_alter_table("lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("low_balance_threshold", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            "ix_lines_state_operator_id_valid_until",
            ["state", "operator_id", "valid_until"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("job_runs")
    with op.batch_alter_table("lines", schema=None) as batch_op:
        batch_op.drop_index("ix_lines_state_operator_id_valid_until")
        batch_op.drop_column("low_balance_threshold")
        batch_op.drop_column("email")

    with op.batch_alter_table("auto_topup_attempts", schema=None) as batch_op:
        batch_op.drop_index("uq_auto_topup_attempts_pending_line_id")
        batch_op.drop_index("ix_auto_topup_attempts_line_id")

    op.drop_table("auto_topup_attempts")
    with op.batch_alter_table("line_events", schema=None) as batch_op:
        batch_op.drop_index("ix_line_events_line_id")

    op.drop_table("line_events")
    op.drop_table("auto_topups")
