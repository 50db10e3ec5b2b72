"""The database schema (SQLAlchemy Core), one module per part of Saldo; every table is
also here, as ``tables.lines``. Alembic migrations in ``migrations/`` create it; a test
checks that they agree.

Money is BIGINT minor units; every row that belongs to an operator carries ``operator_id``.
"""

from __future__ import annotations

from saldo.adapters.db.tables.access import (
    access_tokens,
    account_lines,
    account_requests,
    calendar_feeds,
    rate_limits,
    sign_in_attempts,
    subscriber_accounts,
)
from saldo.adapters.db.tables.base import metadata
from saldo.adapters.db.tables.core import (
    accounts,
    adjustments,
    ledger_entries,
    ledger_transactions,
    lines,
    operators,
    topups,
)
from saldo.adapters.db.tables.lifecycle import (
    auto_topups,
    job_runs,
    line_events,
)
from saldo.adapters.db.tables.orders import (
    auto_renewals,
    installation,
    order_events,
    orders,
    outbox,
    payment_events,
    payments,
)
from saldo.adapters.db.tables.selling import (
    exchange_rates,
    inbound_messages,
    pending_confirmations,
    pin_attempts,
    plan_purchases,
    ussd_sessions,
    voucher_batches,
    vouchers,
)
from saldo.adapters.db.tables.usage import (
    charging_sessions,
    network_elements,
    usage_daily,
    usage_records,
)

__all__ = [
    "access_tokens",
    "account_lines",
    "account_requests",
    "accounts",
    "adjustments",
    "auto_renewals",
    "auto_topups",
    "calendar_feeds",
    "charging_sessions",
    "exchange_rates",
    "inbound_messages",
    "installation",
    "job_runs",
    "ledger_entries",
    "ledger_transactions",
    "line_events",
    "lines",
    "metadata",
    "network_elements",
    "operators",
    "order_events",
    "orders",
    "outbox",
    "payment_events",
    "payments",
    "pending_confirmations",
    "pin_attempts",
    "plan_purchases",
    "rate_limits",
    "sign_in_attempts",
    "subscriber_accounts",
    "topups",
    "usage_daily",
    "usage_records",
    "ussd_sessions",
    "voucher_batches",
    "vouchers",
]
