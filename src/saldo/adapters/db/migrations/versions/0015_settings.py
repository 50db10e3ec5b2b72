"""settings: a code that proves a line's email address; an account's calendar feed

A line's email is kept only once the code sent to that address is typed: the attempt that
asked for it (``sign_in_attempts``, purpose ``'email'``) keeps the address it went to.
``calendar_feeds`` holds each account's calendar feed: the seed its secret address is drawn
from with the installation's key, and the keyed hash it is found by. A downgrade forgets the
email attempts (they last ten minutes) and the feeds (their addresses stop working).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saldo.adapters.db.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = saldo.adapters.db.types.TZDateTime(timezone=True)
_PURPOSES = "purpose IN ('sign_in', 'add_line', 'email')"
_PURPOSES_BEFORE = "purpose IN ('sign_in', 'add_line')"


def upgrade() -> None:
    with op.batch_alter_table("sign_in_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.drop_constraint(op.f("ck_sign_in_attempts_purpose"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sign_in_attempts_purpose"), _PURPOSES)
    op.create_table(
        "calendar_feeds",
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["subscriber_accounts.id"],
            name=op.f("fk_calendar_feeds_account_id_subscriber_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_calendar_feeds_secret_hash")),
    )


def downgrade() -> None:
    op.drop_table("calendar_feeds")
    op.execute("DELETE FROM sign_in_attempts WHERE purpose = 'email'")
    with op.batch_alter_table("sign_in_attempts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sign_in_attempts_purpose"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sign_in_attempts_purpose"), _PURPOSES_BEFORE)
        batch_op.drop_column("email")
