"""The ports the use cases need. Adapters implement them (``saldo.adapters``); the use cases
see only these Protocols. ``core`` holds those of lines, money and the ledger; ``selling``
those of vouchers, plan purchases, conversations and exchange rates; ``orders`` those of
orders, payments, auto-renewal and the outbox; ``access`` those of subscribers' sign-in,
tokens and accounts; the unit of work that gathers them is here.

Every name is imported from here, but only ``core`` is imported with this package: the
other modules are imported when one of their names is first asked for, so a balance inquiry
does not define the Protocols and records of orders, vouchers or charging it never uses
(docs/performance.md).
"""

from __future__ import annotations

import importlib
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

from saldo.services.ports.core import (
    AccountRepository,
    AdjustmentRepository,
    Clock,
    DuplicateIdempotencyKey,
    LedgerRepository,
    LineRecord,
    LineRepository,
    LineWithBuckets,
    NewTopUp,
    NumberTaken,
    OperatorRepository,
    StoredAdjustment,
    StoredTopUp,
    TopUpBonus,
    TopUpRepository,
    ValidityWindow,
)

if TYPE_CHECKING:
    from saldo.services.ports.access import AccessRepository, SubscriberRepository
    from saldo.services.ports.charging import ChargingRepository, NetworkElement, StoredSession
    from saldo.services.ports.orders import (
        AutoRenewal,
        AutoRenewalRepository,
        OrderEvent,
        OrderRepository,
        OrderTerms,
        OutboxMessage,
        OutboxRepository,
        PaymentPurpose,
        PaymentRepository,
        StoredOrder,
        StoredPayment,
    )
    from saldo.services.ports.selling import (
        ClaimedVoucher,
        ConversationRepository,
        PendingConfirmation,
        PlanPurchaseRepository,
        RateRepository,
        StoredPlanPurchase,
        VoucherBatch,
        VoucherRepository,
        VoucherStatus,
    )
    from saldo.services.ports.usage import DailyUsage, UsageRecord, UsageRepository
    from saldo.services.ports.worker import AutoTopUp, AutoTopUpRepository, JobRunRepository

# The names of the modules imported on first use, and the module of each.
_ON_FIRST_USE = {
    name: module
    for module, names in {
        "access": ("AccessRepository", "SubscriberRepository"),
        "charging": ("ChargingRepository", "NetworkElement", "StoredSession"),
        "orders": (
            "AutoRenewal",
            "AutoRenewalRepository",
            "OrderEvent",
            "OrderRepository",
            "OrderTerms",
            "OutboxMessage",
            "OutboxRepository",
            "PaymentPurpose",
            "PaymentRepository",
            "StoredOrder",
            "StoredPayment",
        ),
        "selling": (
            "ClaimedVoucher",
            "ConversationRepository",
            "PendingConfirmation",
            "PlanPurchaseRepository",
            "RateRepository",
            "StoredPlanPurchase",
            "VoucherBatch",
            "VoucherRepository",
            "VoucherStatus",
        ),
        "usage": ("DailyUsage", "UsageRecord", "UsageRepository"),
        "worker": ("AutoTopUp", "AutoTopUpRepository", "JobRunRepository"),
    }.items()
    for name in names
}


def __getattr__(name: str) -> object:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next use is an ordinary lookup
    return value


__all__ = [
    "AccessRepository",
    "AccountRepository",
    "AdjustmentRepository",
    "AutoRenewal",
    "AutoRenewalRepository",
    "AutoTopUp",
    "AutoTopUpRepository",
    "ChargingRepository",
    "ClaimedVoucher",
    "Clock",
    "ConversationRepository",
    "DailyUsage",
    "DuplicateIdempotencyKey",
    "JobRunRepository",
    "LedgerRepository",
    "LineRecord",
    "LineRepository",
    "LineWithBuckets",
    "NetworkElement",
    "NewTopUp",
    "NumberTaken",
    "OperatorRepository",
    "OrderEvent",
    "OrderRepository",
    "OrderTerms",
    "OutboxMessage",
    "OutboxRepository",
    "PaymentPurpose",
    "PaymentRepository",
    "PendingConfirmation",
    "PlanPurchaseRepository",
    "RateRepository",
    "StoredAdjustment",
    "StoredOrder",
    "StoredPayment",
    "StoredPlanPurchase",
    "StoredSession",
    "StoredTopUp",
    "SubscriberRepository",
    "TopUpBonus",
    "TopUpRepository",
    "UnitOfWork",
    "UsageRecord",
    "UsageRepository",
    "ValidityWindow",
    "VoucherBatch",
    "VoucherRepository",
    "VoucherStatus",
]


class UnitOfWork(Protocol):
    """One database transaction. ``with uow:`` opens a writing transaction that rolls back
    unless ``uow.commit()`` was called; ``with uow.reading():`` opens a read-only one."""

    @property
    def operators(self) -> OperatorRepository: ...

    @property
    def lines(self) -> LineRepository: ...

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def topups(self) -> TopUpRepository: ...

    @property
    def adjustments(self) -> AdjustmentRepository: ...

    @property
    def vouchers(self) -> VoucherRepository: ...

    @property
    def plan_purchases(self) -> PlanPurchaseRepository: ...

    @property
    def conversations(self) -> ConversationRepository: ...

    @property
    def rates(self) -> RateRepository: ...

    @property
    def orders(self) -> OrderRepository: ...

    @property
    def payments(self) -> PaymentRepository: ...

    @property
    def auto_renewals(self) -> AutoRenewalRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def auto_topups(self) -> AutoTopUpRepository: ...

    @property
    def charging(self) -> ChargingRepository: ...

    @property
    def usage(self) -> UsageRepository: ...

    @property
    def job_runs(self) -> JobRunRepository: ...

    @property
    def access(self) -> AccessRepository: ...

    @property
    def subscribers(self) -> SubscriberRepository: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def reading(self) -> AbstractContextManager[UnitOfWork]: ...

    def savepoint(self) -> AbstractContextManager[None]:
        """Inside an open writing unit of work: what the block writes is undone if it
        raises, and the rest of the transaction goes on."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
