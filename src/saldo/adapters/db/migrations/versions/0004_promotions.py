"""promotions: the bonus credited with a top-up, the promotion applied to a plan purchase

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan_purchases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("promotion", sa.String(length=140), nullable=True))

    with op.batch_alter_table("topups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bonus", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("topups", schema=None) as batch_op:
        batch_op.drop_column("bonus")

    with op.batch_alter_table("plan_purchases", schema=None) as batch_op:
        batch_op.drop_column("promotion")
