"""The ports the use cases need, one module per subject. Adapters implement them
(``saldo.adapters``); the use cases see only these Protocols and plain records.

Reached through the unit of work (its repositories and their records):

- ``operators``: each operator's rules, stored from the catalog;
- ``lines``: subscriber lines, their validity and lifecycle transitions;
- ``ledger``: buckets and operator accounts, the double-entry ledger, top-ups and staff
  adjustments, and ``DuplicateIdempotencyKey``, which any repository raises;
- ``vouchers``: voucher batches and their redemption;
- ``plans``: plans bought from the balance;
- ``orders``: orders for plan renewals, their terms and history;
- ``payments``: payments taken at processors, their webhook events, and the
  ``PaymentProvider`` port of the processors themselves;
- ``auto_payments``: auto-renewal and auto top-up settings;
- ``rates``: exchange rates;
- ``conversations``: what the SMS and USSD channels remember between messages;
- ``charging``: network elements and real-time charging sessions;
- ``usage``: rated usage records and daily use;
- ``history``: a line's movements read back from the ledger, and the plans it bought;
- ``outbox``: notifications waiting for delivery;
- ``jobs``: when each of the worker's jobs last ran;
- ``access``: subscribers' sign-in attempts, tokens, rate limits and accounts.

Passed to the use cases and the outbox worker by ``saldo.bootstrap``:

- ``sms``: sending an SMS (``SmsSender``);
- ``mail``: sending an email (``Mailer``, ``OutgoingEmail``);
- ``webhooks``: posting signed events to an operator's systems (``WebhookSender``).

The clock and the unit of work that gathers the repositories are here. Every name is
imported from here, but only the modules a balance inquiry needs (operators, lines, ledger)
come with this package: the others are imported when one of their names is first asked for
(docs/performance.md, "CLI start")."""

from __future__ import annotations

import importlib
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from saldo.services.ports.ledger import (
    AccountRepository,
    AdjustmentRepository,
    DuplicateIdempotencyKey,
    LedgerRepository,
    NewTopUp,
    StoredAdjustment,
    StoredTopUp,
    TopUpBonus,
    TopUpRepository,
)
from saldo.services.ports.lines import (
    LineReads,
    LineRecord,
    LineRepository,
    LineToAdd,
    LineWithBuckets,
    NumberTaken,
    ValidityWindow,
)
from saldo.services.ports.operators import OperatorRepository

if TYPE_CHECKING:
    from saldo.services.ports.access import AccessRepository, KeptRequest, SubscriberRepository
    from saldo.services.ports.auto_payments import (
        AutoRenewal,
        AutoRenewalRepository,
        AutoTopUp,
        AutoTopUpRepository,
    )
    from saldo.services.ports.charging import (
        ChargingRepository,
        ElementKey,
        NetworkElement,
        StoredSession,
    )
    from saldo.services.ports.conversations import ConversationRepository, PendingConfirmation
    from saldo.services.ports.history import HistoryRepository
    from saldo.services.ports.jobs import JobRunRepository
    from saldo.services.ports.orders import OrderEvent, OrderRepository, OrderTerms, StoredOrder
    from saldo.services.ports.outbox import OutboxMessage, OutboxRepository
    from saldo.services.ports.payments import PaymentPurpose, PaymentRepository, StoredPayment
    from saldo.services.ports.plans import PlanPurchaseRepository, StoredPlanPurchase
    from saldo.services.ports.rates import RateRepository
    from saldo.services.ports.usage import (
        BucketChange,
        BucketChanged,
        ChargedRecord,
        DailyUsage,
        LineDay,
        UsageRecord,
        UsageRepository,
    )
    from saldo.services.ports.vouchers import (
        ClaimedVoucher,
        VoucherBatch,
        VoucherRepository,
        VoucherStatus,
    )

# The names of the modules imported on first use, and the module of each.
_ON_FIRST_USE = {
    name: module
    for module, names in {
        "access": ("AccessRepository", "KeptRequest", "SubscriberRepository"),
        "auto_payments": (
            "AutoRenewal",
            "AutoRenewalRepository",
            "AutoTopUp",
            "AutoTopUpRepository",
        ),
        "charging": ("ChargingRepository", "ElementKey", "NetworkElement", "StoredSession"),
        "conversations": ("ConversationRepository", "PendingConfirmation"),
        "history": ("HistoryRepository",),
        "jobs": ("JobRunRepository",),
        "orders": ("OrderEvent", "OrderRepository", "OrderTerms", "StoredOrder"),
        "outbox": ("OutboxMessage", "OutboxRepository"),
        "payments": ("PaymentPurpose", "PaymentRepository", "StoredPayment"),
        "plans": ("PlanPurchaseRepository", "StoredPlanPurchase"),
        "rates": ("RateRepository",),
        "usage": (
            "BucketChange",
            "BucketChanged",
            "ChargedRecord",
            "DailyUsage",
            "LineDay",
            "UsageRecord",
            "UsageRepository",
        ),
        "vouchers": ("ClaimedVoucher", "VoucherBatch", "VoucherRepository", "VoucherStatus"),
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
    "BalanceReads",
    "BucketChange",
    "BucketChanged",
    "ChargedRecord",
    "ChargingRepository",
    "ClaimedVoucher",
    "Clock",
    "ConversationRepository",
    "DailyUsage",
    "DuplicateIdempotencyKey",
    "ElementKey",
    "HistoryRepository",
    "JobRunRepository",
    "KeptRequest",
    "LedgerRepository",
    "LineDay",
    "LineReads",
    "LineRecord",
    "LineRepository",
    "LineToAdd",
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


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...


class BalanceReads(Protocol):
    """What a balance inquiry asks of a unit of work: one read of a line with its buckets.
    Every ``UnitOfWork`` offers it, and so does the reader of an SQLite file on the standard
    library's driver (``saldo.adapters.db.sqlite_reads``), which ``saldo balance`` uses to
    start without SQLAlchemy (docs/performance.md, "CLI start")."""

    @property
    def lines(self) -> LineReads: ...

    def reading(self) -> AbstractContextManager[object]: ...


class UnitOfWork(Protocol):
    """One database transaction. ``with uow:`` opens a writing transaction that rolls back
    unless ``uow.commit()`` was called; ``with uow.reading():`` opens a read-only one, and
    ``with uow.reading(may_lag=True):`` one that a read replica may serve, behind the
    primary by the replica's lag: only for reads that need not see the caller's own last
    write (docs/scaling.md lists them and says why)."""

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
    def history(self) -> HistoryRepository: ...

    @property
    def job_runs(self) -> JobRunRepository: ...

    @property
    def access(self) -> AccessRepository: ...

    @property
    def subscribers(self) -> SubscriberRepository: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def reading(self, *, may_lag: bool = False) -> AbstractContextManager[UnitOfWork]: ...

    def savepoint(self) -> AbstractContextManager[None]:
        """Inside an open writing unit of work: what the block writes is undone if it
        raises, and the rest of the transaction goes on."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
