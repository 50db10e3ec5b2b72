"""drop the indexes no query reads: every top-up paid for them

The top-up's line, its ledger transaction's line and its event were indexed in 0001 in case
a lookup would want them; none does (a line's movements are read through its buckets'
entries, ``ix_ledger_entries_account_id``). Each one cost every top-up, voucher redemption,
order and usage charge another B-tree page to write and sync. An index comes back with the
first query that needs it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("topups", schema=None) as batch_op:
        batch_op.drop_index("ix_topups_line_id")
    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_transactions_line_id")
        batch_op.drop_index("ix_ledger_transactions_event")


def downgrade() -> None:
    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_transactions_event", ["event_type", "event_id"], unique=False
        )
        batch_op.create_index("ix_ledger_transactions_line_id", ["line_id"], unique=False)
    with op.batch_alter_table("topups", schema=None) as batch_op:
        batch_op.create_index("ix_topups_line_id", ["line_id"], unique=False)
