"""Repositories over SQLAlchemy Core, one module per aggregate. The hot paths (top-up,
balance inquiry) run prepared statements (``saldo.adapters.db.prepared``)."""

from saldo.adapters.db.repositories.accounts import SqlAccountRepository, SqlLedgerRepository
from saldo.adapters.db.repositories.conversations import SqlConversationRepository
from saldo.adapters.db.repositories.lines import SqlLineRepository
from saldo.adapters.db.repositories.movements import (
    SqlAdjustmentRepository,
    SqlPlanPurchaseRepository,
    SqlTopUpRepository,
)
from saldo.adapters.db.repositories.operators import SqlOperatorRepository
from saldo.adapters.db.repositories.orders import SqlAutoRenewalRepository, SqlOrderRepository
from saldo.adapters.db.repositories.outbox import SqlOutboxRepository
from saldo.adapters.db.repositories.payments import SqlPaymentRepository
from saldo.adapters.db.repositories.rates import SqlRateRepository
from saldo.adapters.db.repositories.vouchers import SqlVoucherRepository

__all__ = [
    "SqlAccountRepository",
    "SqlAdjustmentRepository",
    "SqlAutoRenewalRepository",
    "SqlConversationRepository",
    "SqlLedgerRepository",
    "SqlLineRepository",
    "SqlOperatorRepository",
    "SqlOrderRepository",
    "SqlOutboxRepository",
    "SqlPaymentRepository",
    "SqlPlanPurchaseRepository",
    "SqlRateRepository",
    "SqlTopUpRepository",
    "SqlVoucherRepository",
]
