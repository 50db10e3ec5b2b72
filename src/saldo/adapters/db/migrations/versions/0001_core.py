"""core: operators, lines, accounts, ledger, top-ups, adjustments

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saldo.adapters.db.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("spec_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("slug", name=op.f("uq_operators_slug")),
    )
    op.create_table(
        "lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "operator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("msisdn", sa.String(length=16), nullable=False),
        sa.Column("iccid", sa.String(length=20), nullable=True),
        sa.Column("sim_kind", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column(
            "activated_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False
        ),
        sa.Column("valid_until", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column(
            "state_changed_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False
        ),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sim_kind IN ('physical', 'esim')", name=op.f("ck_lines_sim_kind")),
        sa.CheckConstraint(
            "state IN ('active', 'grace', 'suspended', 'recycled')", name=op.f("ck_lines_state")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_lines_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lines")),
    )
    with op.batch_alter_table("lines", schema=None) as batch_op:
        batch_op.create_index("ix_lines_operator_id_state", ["operator_id", "state"], unique=False)
        batch_op.create_index("ix_lines_msisdn", ["msisdn"], unique=False)
        batch_op.create_index(
            "uq_lines_live_iccid",
            ["iccid"],
            unique=True,
            sqlite_where=sa.text("state != 'recycled' AND iccid IS NOT NULL"),
            postgresql_where=sa.text("state != 'recycled' AND iccid IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_lines_live_msisdn",
            ["msisdn"],
            unique=True,
            sqlite_where=sa.text("state != 'recycled'"),
            postgresql_where=sa.text("state != 'recycled'"),
        )

    op.create_table(
        "accounts",
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
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("balance", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("expires_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "balance >= 0 OR line_id IS NULL", name=op.f("ck_accounts_no_overdraft")
        ),
        sa.ForeignKeyConstraint(["line_id"], ["lines.id"], name=op.f("fk_accounts_line_id_lines")),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_accounts_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index("ix_accounts_line_id", ["line_id"], unique=False)
        batch_op.create_index(
            "uq_accounts_main_bucket",
            ["line_id", "kind"],
            unique=True,
            sqlite_where=sa.text("kind = 'main'"),
            postgresql_where=sa.text("kind = 'main'"),
        )
        batch_op.create_index(
            "uq_accounts_operator_account",
            ["operator_id", "kind", "unit"],
            unique=True,
            sqlite_where=sa.text("line_id IS NULL"),
            postgresql_where=sa.text("line_id IS NULL"),
        )

    op.create_table(
        "ledger_transactions",
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
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_ledger_transactions_line_id_lines")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_ledger_transactions_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transactions")),
    )
    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_transactions_event", ["event_type", "event_id"], unique=False
        )
        batch_op.create_index("ix_ledger_transactions_line_id", ["line_id"], unique=False)

    op.create_table(
        "topups",
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
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("validity_days", sa.BigInteger(), nullable=False),
        sa.Column("state_before", sa.String(length=16), nullable=False),
        sa.Column(
            "valid_until_before", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "valid_until_after", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False
        ),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_topups_positive_amount")),
        sa.ForeignKeyConstraint(["line_id"], ["lines.id"], name=op.f("fk_topups_line_id_lines")),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_topups_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topups")),
        sa.UniqueConstraint(
            "operator_id", "idempotency_key", name=op.f("uq_topups_operator_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("topups", schema=None) as batch_op:
        batch_op.create_index("ix_topups_line_id", ["line_id"], unique=False)

    op.create_table(
        "adjustments",
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
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("created_at", saldo.adapters.db.types.TZDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount != 0", name=op.f("ck_adjustments_nonzero_amount")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_adjustments_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_adjustments_line_id_lines")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_adjustments_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjustments")),
        sa.UniqueConstraint(
            "operator_id",
            "idempotency_key",
            name=op.f("uq_adjustments_operator_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("adjustments", schema=None) as batch_op:
        batch_op.create_index("ix_adjustments_line_id", ["line_id"], unique=False)

    op.create_table(
        "ledger_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ledger_entries_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_ledger_entries_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entries_account_id", ["account_id"], unique=False)
        batch_op.create_index("ix_ledger_entries_transaction_id", ["transaction_id"], unique=False)
    _make_ledger_append_only()


def _make_ledger_append_only() -> None:
    """The ledger is append-only: the database itself refuses UPDATE and DELETE on it."""
    tables = ("ledger_transactions", "ledger_entries")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION saldo_ledger_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
            END
            $$ LANGUAGE plpgsql
            """
        )
        for table in tables:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION saldo_ledger_append_only()"
            )
        return
    for table in tables:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("ledger_transactions", "ledger_entries"):
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION saldo_ledger_append_only()")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_transaction_id")
        batch_op.drop_index("ix_ledger_entries_account_id")

    op.drop_table("ledger_entries")
    with op.batch_alter_table("adjustments", schema=None) as batch_op:
        batch_op.drop_index("ix_adjustments_line_id")

    op.drop_table("adjustments")
    with op.batch_alter_table("topups", schema=None) as batch_op:
        batch_op.drop_index("ix_topups_line_id")

    op.drop_table("topups")
    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_transactions_line_id")
        batch_op.drop_index("ix_ledger_transactions_event")

    op.drop_table("ledger_transactions")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_accounts_operator_account",
            sqlite_where=sa.text("line_id IS NULL"),
            postgresql_where=sa.text("line_id IS NULL"),
        )
        batch_op.drop_index(
            "uq_accounts_main_bucket",
            sqlite_where=sa.text("kind = 'main'"),
            postgresql_where=sa.text("kind = 'main'"),
        )
        batch_op.drop_index("ix_accounts_line_id")

    op.drop_table("accounts")
    with op.batch_alter_table("lines", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_lines_live_msisdn",
            sqlite_where=sa.text("state != 'recycled'"),
            postgresql_where=sa.text("state != 'recycled'"),
        )
        batch_op.drop_index(
            "uq_lines_live_iccid",
            sqlite_where=sa.text("state != 'recycled' AND iccid IS NOT NULL"),
            postgresql_where=sa.text("state != 'recycled' AND iccid IS NOT NULL"),
        )
        batch_op.drop_index("ix_lines_msisdn")
        batch_op.drop_index("ix_lines_operator_id_state")

    op.drop_table("lines")
    op.drop_table("operators")
