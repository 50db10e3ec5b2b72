"""email sign-in: whether a line's email was proven by a code; an account's refused money
requests keep their refusal

``lines.email_verified_at`` is when the line's email was proven by a code sent to it (the
portal's settings page, the app API); NULL for an address that reached the line another way
(``saldo lines email``), which signs nobody in. The upgrade marks an email proven when a used
code attempt for that line went to that very address. ``account_requests.refusal`` keeps the
refusal a request under the account's key got first (a wrong voucher PIN), so the same key
sent again gets that answer back without being counted again. A downgrade forgets both.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saldo.adapters.db.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_AT = saldo.adapters.db.types.TZDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("lines", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("email_verified_at", _AT, nullable=True))
    with op.batch_alter_table("account_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refusal", sa.JSON(), nullable=True))
    op.execute(
        "UPDATE lines SET email_verified_at = ("
        " SELECT MAX(a.used_at) FROM sign_in_attempts a"
        " WHERE a.line_id = lines.id AND a.purpose = 'email' AND a.used_at IS NOT NULL"
        " AND a.email = lines.email"
        ") WHERE email IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("account_requests", schema=None) as batch_op:
        batch_op.drop_column("refusal")
    # In place (SQLite 3.35 drops a column): copying the table would break the rows that
    # refer to its lines.
    with op.batch_alter_table("lines", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("email_verified_at")
