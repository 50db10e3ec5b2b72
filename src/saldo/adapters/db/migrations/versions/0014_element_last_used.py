"""network elements: when each was last used

``network_elements.last_used_at`` is the last time an element's key opened a charging request,
noted at most once a minute (``saldo charging keys`` shows it, so an operator sees which keys
are live before revoking one).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saldo.adapters.db.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_AT = saldo.adapters.db.types.TZDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("network_elements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", _AT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("network_elements", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
