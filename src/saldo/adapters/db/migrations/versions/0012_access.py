"""access: subscriber accounts and their lines, sign-in attempts, tokens, rate limits

Subscribers sign in with a verification code sent to their line, and see every line of
their account. The code travels in the outbox's new ``secret`` column, cleared as soon as the
message leaves pending.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saldo.adapters.db.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = saldo.adapters.db.types.TZDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subscriber_accounts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriber_accounts")),
    )
    op.create_table(
        "account_lines",
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("line_id", _ID, nullable=False),
        sa.Column("added_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["subscriber_accounts.id"],
            name=op.f("fk_account_lines_account_id_subscriber_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_account_lines_line_id_lines")
        ),
        sa.PrimaryKeyConstraint("account_id", "line_id", name=op.f("pk_account_lines")),
        sa.UniqueConstraint("line_id", name=op.f("uq_account_lines_line_id")),
    )
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("msisdn", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("account_id", _ID, nullable=True),
        sa.Column("line_id", _ID, nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("tries", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.Column("used_at", _AT, nullable=True),
        sa.Column("ended_at", _AT, nullable=True),
        sa.CheckConstraint(
            "purpose IN ('sign_in', 'add_line')", name=op.f("ck_sign_in_attempts_purpose")
        ),
        sa.CheckConstraint(
            "(purpose = 'add_line') = (account_id IS NOT NULL)",
            name=op.f("ck_sign_in_attempts_account_adds_a_line"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["subscriber_accounts.id"],
            name=op.f("fk_sign_in_attempts_account_id_subscriber_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_sign_in_attempts_line_id_lines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
    )
    with op.batch_alter_table("sign_in_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sign_in_attempts_msisdn_purpose", ["msisdn", "purpose"], unique=False
        )
    op.create_table(
        "access_tokens",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.Column("revoked_at", _AT, nullable=True),
        sa.Column("last_used_at", _AT, nullable=True),
        sa.CheckConstraint("kind IN ('app', 'web')", name=op.f("ck_access_tokens_kind")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["subscriber_accounts.id"],
            name=op.f("fk_access_tokens_account_id_subscriber_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_access_tokens_token_hash")),
    )
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_access_tokens_account_id", ["account_id"], unique=False)
    op.create_table(
        "rate_limits",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("hits", sa.JSON(), nullable=False),
        sa.Column("keep_until", _AT, nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_rate_limits")),
    )
    with op.batch_alter_table("rate_limits", schema=None) as batch_op:
        batch_op.create_index("ix_rate_limits_keep_until", ["keep_until"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("secret")
    with op.batch_alter_table("rate_limits", schema=None) as batch_op:
        batch_op.drop_index("ix_rate_limits_keep_until")
    op.drop_table("rate_limits")
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_access_tokens_account_id")
    op.drop_table("access_tokens")
    with op.batch_alter_table("sign_in_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_sign_in_attempts_msisdn_purpose")
    op.drop_table("sign_in_attempts")
    op.drop_table("account_lines")
    op.drop_table("subscriber_accounts")
