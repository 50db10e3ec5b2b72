"""topup payments: a subscriber's one-off card top-up is a payment of its own purpose

The app and the portal top a line up by card through the one payment flow: the payment,
``purpose = 'topup'``, is claimed, charged, settled by webhook or poll and, once it
succeeds, credited as a top-up (its ``topup_id``). A downgrade waits until there is no such
payment (the older schema cannot hold one).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_PURPOSES = "purpose IN ('order', 'auto_topup', 'topup')"
_PURPOSES_BEFORE = "purpose IN ('order', 'auto_topup')"


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payments_purpose"), type_="check")
        batch_op.create_check_constraint(op.f("ck_payments_purpose"), _PURPOSES)


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
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payments_purpose"), type_="check")
        batch_op.create_check_constraint(op.f("ck_payments_purpose"), _PURPOSES_BEFORE)
