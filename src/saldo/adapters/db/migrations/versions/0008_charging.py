"""charging: network elements and credit-control sessions

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saldo.adapters.db.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_elements",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "operator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_network_elements_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_elements")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_network_elements_key_hash")),
        sa.UniqueConstraint(
            "operator_id", "name", name=op.f("uq_network_elements_operator_id_name")
        ),
    )
    op.create_table(
        "charging_sessions",
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
        sa.Column(
            "element_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("msisdn", sa.String(length=16), nullable=False),
        sa.Column("service", sa.String(length=8), nullable=False),
        sa.Column("destination", sa.String(length=20), nullable=True),
        sa.Column("on_net", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("session_key", sa.String(length=128), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.JSON(), nullable=False),
        sa.Column("used_raw", sa.BigInteger(), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.Column("money_units", sa.BigInteger(), nullable=False),
        sa.Column("money_billed", sa.BigInteger(), nullable=False),
        sa.Column("last_request", sa.BigInteger(), nullable=False),
        sa.Column("last_answer", sa.JSON(), nullable=True),
        sa.Column("expires_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('open', 'closed', 'expired')", name=op.f("ck_charging_sessions_state")
        ),
        sa.ForeignKeyConstraint(
            ["element_id"],
            ["network_elements.id"],
            name=op.f("fk_charging_sessions_element_id_network_elements"),
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_charging_sessions_line_id_lines")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_charging_sessions_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charging_sessions")),
        sa.UniqueConstraint(
            "operator_id", "session_key", name=op.f("uq_charging_sessions_operator_id_session_key")
        ),
    )
    with op.batch_alter_table("charging_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_charging_sessions_state_expires_at", ["state", "expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("charging_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_charging_sessions_state_expires_at")

    op.drop_table("charging_sessions")
    op.drop_table("network_elements")
