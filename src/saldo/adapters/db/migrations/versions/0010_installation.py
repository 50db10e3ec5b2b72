"""installation: the random id every key sent to a payment processor starts with

The row is made on first use (``installation_id``), not here: a database emptied or copied
before it was first used still gets an id of its own.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "installation",
        sa.Column("one", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("installation_id", sa.String(length=32), nullable=False),
        sa.CheckConstraint("one = 1", name=op.f("ck_installation_single_row")),
        sa.PrimaryKeyConstraint("one", name=op.f("pk_installation")),
    )


def downgrade() -> None:
    op.drop_table("installation")
