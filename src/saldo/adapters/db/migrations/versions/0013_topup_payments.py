"""topup payments: a subscriber's one-off card top-up is a payment of its own purpose;
an account's money requests keep their idempotency keys

The app and the portal top a line up by card through the one payment flow: the payment,
``purpose = 'topup'``, is claimed, charged, settled by webhook or poll and, once it
succeeds, credited as a top-up (its ``topup_id``). A downgrade waits until there is no such
payment (the older schema cannot hold one). ``account_requests`` keeps the fingerprint of the
first request under each of an account's idempotency keys (the app's money calls), so the
same key with another request is refused. ``lines.reminder_days`` keeps the days before expiry
a subscriber chose for a line's reminders, among its operator's (NULL: all of them).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saldo.adapters.db.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = saldo.adapters.db.types.TZDateTime(timezone=True)
_PURPOSES = "purpose IN ('order', 'auto_topup', 'topup')"
_PURPOSES_BEFORE = "purpose IN ('order', 'auto_topup')"


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payments_purpose"), type_="check")
        batch_op.create_check_constraint(op.f("ck_payments_purpose"), _PURPOSES)
    with op.batch_alter_table("lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_days", sa.String(length=32), nullable=True))
    op.create_table(
        "account_requests",
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["subscriber_accounts.id"],
            name=op.f("fk_account_requests_account_id_subscriber_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", "idempotency_key", name=op.f("pk_account_requests")),
    )


def downgrade() -> None:
    topups = (
        op.get_bind()
        .execute(sa.text("SELECT COUNT(*) FROM payments WHERE purpose = 'topup'"))
        .scalar()
    )
    if topups:
        raise RuntimeError(
            f"{topups} top-up payments are kept; revision 0012 has no place for them"
        )
    op.drop_table("account_requests")
    # In place (SQLite 3.35 drops a column): copying the table would break the rows that
    # refer to its lines.
    with op.batch_alter_table("lines", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("reminder_days")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payments_purpose"), type_="check")
        batch_op.create_check_constraint(op.f("ck_payments_purpose"), _PURPOSES_BEFORE)
