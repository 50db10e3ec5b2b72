"""The SQL unit of work: one connection, one transaction, the repositories on top."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from saldo.adapters.db.engine import WRITE, Kept, ThreadConnections, kept_connections
from saldo.adapters.db.repositories.accounts import (
    OperatorAccountIds,
    SqlAccountRepository,
    SqlLedgerRepository,
)
from saldo.adapters.db.repositories.lines import SqlLineRepository
from saldo.adapters.db.repositories.operators import SqlOperatorRepository

# The repositories of a balance inquiry are imported above; the others by their property, on
# first use, so that a short command does not import what it never touches
# (docs/performance.md). Importing a module already imported is a dictionary lookup.
if TYPE_CHECKING:
    from saldo.adapters.db.repositories.access import SqlAccessRepository
    from saldo.adapters.db.repositories.charging import SqlChargingRepository
    from saldo.adapters.db.repositories.conversations import SqlConversationRepository
    from saldo.adapters.db.repositories.history import SqlHistoryRepository
    from saldo.adapters.db.repositories.movements import (
        SqlAdjustmentRepository,
        SqlPlanPurchaseRepository,
        SqlTopUpRepository,
    )
    from saldo.adapters.db.repositories.orders import (
        SqlAutoRenewalRepository,
        SqlOrderRepository,
    )
    from saldo.adapters.db.repositories.outbox import SqlOutboxRepository
    from saldo.adapters.db.repositories.payments import SqlPaymentRepository
    from saldo.adapters.db.repositories.rates import SqlRateRepository
    from saldo.adapters.db.repositories.subscribers import SqlSubscriberRepository
    from saldo.adapters.db.repositories.usage import SqlUsageRepository
    from saldo.adapters.db.repositories.vouchers import SqlVoucherRepository
    from saldo.adapters.db.repositories.worker import (
        SqlAutoTopUpRepository,
        SqlJobRunRepository,
    )

R = TypeVar("R")


class _Shared:
    """What the units of work of one engine share: the connections its threads keep
    (SQLite) and the operator account ids committed through it (see SqlAccountRepository)."""

    __slots__ = ("operator_accounts", "readers", "writers")

    def __init__(self, engine: Engine) -> None:
        kept = kept_connections(engine)
        self.readers = None if kept is None else kept.readers
        self.writers = None if kept is None else kept.writers
        self.operator_accounts: OperatorAccountIds = {}


_shared: weakref.WeakKeyDictionary[Engine, _Shared] = weakref.WeakKeyDictionary()


def _shared_by(engine: Engine) -> _Shared:
    found = _shared.get(engine)
    if found is None:
        found = _shared[engine] = _Shared(engine)
    return found


class SqlUnitOfWork:
    """``with uow:`` writes (``BEGIN IMMEDIATE`` on SQLite, row locks on PostgreSQL) and rolls
    back unless committed; ``with uow.reading():`` reads. ``operator_id`` scopes every line
    and ledger lookup to one operator: staff and resellers get a scoped unit of work, so
    another operator's lines are simply not there for them.

    ``replica``: a streaming read replica of ``engine`` (PostgreSQL), which serves
    ``with uow.reading(may_lag=True):`` and nothing else; without one, those reads go to
    ``engine`` like any other (docs/scaling.md, "Read replicas").

    Repositories are made on first use: a balance inquiry touches one of them.
    """

    def __init__(
        self, engine: Engine, *, operator_id: int | None = None, replica: Engine | None = None
    ) -> None:
        self._engine = engine
        self._replica = replica
        self._operator_id = operator_id
        self._shared = _shared_by(engine)
        self._operator_accounts = self._shared.operator_accounts
        self._learned_accounts: OperatorAccountIds = {}
        self._connection: Connection | None = None
        # The thread's kept connection this unit of work holds now, if it holds one.
        self._kept: tuple[ThreadConnections, Kept] | None = None
        self._committed = False
        self._writing = False
        self._repositories: dict[type, object] = {}

    def _open(self, *, write: bool, may_lag: bool = False) -> None:
        if self._connection is not None:
            raise RuntimeError("this unit of work is already open")
        self._learned_accounts.clear()
        self._committed = False
        self._writing = write
        self._repositories = {}
        if may_lag and self._replica is not None:
            # A replica is read-only and autocommit: each statement sees what it has replayed.
            self._connection = self._replica.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            )
            return
        threads = self._shared.writers if write else self._shared.readers
        kept = None if threads is None else threads.acquire()
        if threads is not None and kept is not None:
            self._kept = (threads, kept)
            connection = kept.connection
        else:
            connection = self._engine.connect()
            if write:
                connection = connection.execution_options(**{WRITE: True})
            elif connection.dialect.name == "postgresql":
                # Reads on hot paths are single statements: autocommit spares PostgreSQL
                # the BEGIN and ROLLBACK round trips around them.
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        self._connection = connection
        if write:
            try:
                connection.begin()
            except BaseException:
                self._close()
                raise

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        kept, self._kept = self._kept, None
        self._repositories = {}
        if connection is None:
            return
        try:
            if not self._committed and connection.in_transaction():
                connection.rollback()
        finally:
            if self._writing and _left_in_transaction(connection):
                # A COMMIT or ROLLBACK that failed (a full disk, an I/O error) can leave the
                # driver inside the transaction, holding SQLite's write lock: this
                # connection is done for, and closing it ends the transaction.
                connection.invalidate()
            if kept is not None:
                threads, held = kept
                threads.release(held)
            else:
                connection.close()

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("this unit of work is not open: use `with uow:`")
        return self._connection

    def _repository(self, kind: type[R], *, scoped: bool = False, **options: object) -> R:
        found = self._repositories.get(kind)
        if found is None:
            if scoped:
                options["operator_id"] = self._operator_id
            found = kind(self.connection, **options)  # type: ignore[call-arg]
            self._repositories[kind] = found
        assert isinstance(found, kind)
        return found

    @property
    def operators(self) -> SqlOperatorRepository:
        return self._repository(SqlOperatorRepository)

    @property
    def lines(self) -> SqlLineRepository:
        return self._repository(SqlLineRepository, scoped=True)

    @property
    def accounts(self) -> SqlAccountRepository:
        return self._repository(
            SqlAccountRepository, known=self._operator_accounts, learned=self._learned_accounts
        )

    @property
    def ledger(self) -> SqlLedgerRepository:
        return self._repository(SqlLedgerRepository, scoped=True)

    @property
    def topups(self) -> SqlTopUpRepository:
        from saldo.adapters.db.repositories.movements import SqlTopUpRepository

        return self._repository(SqlTopUpRepository, scoped=True)

    @property
    def adjustments(self) -> SqlAdjustmentRepository:
        from saldo.adapters.db.repositories.movements import SqlAdjustmentRepository

        return self._repository(SqlAdjustmentRepository)

    @property
    def vouchers(self) -> SqlVoucherRepository:
        from saldo.adapters.db.repositories.vouchers import SqlVoucherRepository

        return self._repository(SqlVoucherRepository, scoped=True)

    @property
    def plan_purchases(self) -> SqlPlanPurchaseRepository:
        from saldo.adapters.db.repositories.movements import SqlPlanPurchaseRepository

        return self._repository(SqlPlanPurchaseRepository)

    @property
    def conversations(self) -> SqlConversationRepository:
        from saldo.adapters.db.repositories.conversations import SqlConversationRepository

        return self._repository(SqlConversationRepository)

    @property
    def rates(self) -> SqlRateRepository:
        from saldo.adapters.db.repositories.rates import SqlRateRepository

        return self._repository(SqlRateRepository)

    @property
    def orders(self) -> SqlOrderRepository:
        from saldo.adapters.db.repositories.orders import SqlOrderRepository

        return self._repository(SqlOrderRepository, scoped=True)

    @property
    def payments(self) -> SqlPaymentRepository:
        from saldo.adapters.db.repositories.payments import SqlPaymentRepository

        return self._repository(SqlPaymentRepository, scoped=True)

    @property
    def auto_renewals(self) -> SqlAutoRenewalRepository:
        from saldo.adapters.db.repositories.orders import SqlAutoRenewalRepository

        return self._repository(SqlAutoRenewalRepository, scoped=True)

    @property
    def outbox(self) -> SqlOutboxRepository:
        from saldo.adapters.db.repositories.outbox import SqlOutboxRepository

        return self._repository(SqlOutboxRepository)

    @property
    def auto_topups(self) -> SqlAutoTopUpRepository:
        from saldo.adapters.db.repositories.worker import SqlAutoTopUpRepository

        return self._repository(SqlAutoTopUpRepository, scoped=True)

    @property
    def charging(self) -> SqlChargingRepository:
        from saldo.adapters.db.repositories.charging import SqlChargingRepository

        return self._repository(SqlChargingRepository, scoped=True)

    @property
    def usage(self) -> SqlUsageRepository:
        from saldo.adapters.db.repositories.usage import SqlUsageRepository

        return self._repository(SqlUsageRepository, scoped=True)

    @property
    def history(self) -> SqlHistoryRepository:
        from saldo.adapters.db.repositories.history import SqlHistoryRepository

        return self._repository(SqlHistoryRepository, scoped=True)

    @property
    def job_runs(self) -> SqlJobRunRepository:
        from saldo.adapters.db.repositories.worker import SqlJobRunRepository

        return self._repository(SqlJobRunRepository)

    @property
    def access(self) -> SqlAccessRepository:
        from saldo.adapters.db.repositories.access import SqlAccessRepository

        return self._repository(SqlAccessRepository)

    @property
    def subscribers(self) -> SqlSubscriberRepository:
        from saldo.adapters.db.repositories.subscribers import SqlSubscriberRepository

        return self._repository(SqlSubscriberRepository)

    def __enter__(self) -> SqlUnitOfWork:
        self._open(write=True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._close()

    def reading(self, *, may_lag: bool = False) -> _Reading:
        """A read-only transaction; ``may_lag``: one a read replica may serve, whose rows may
        be behind the primary's by the replica's lag (never a read that must see what the
        caller has just written, nor a token or session check)."""
        return _Reading(self, may_lag=may_lag)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        learned = dict(self._learned_accounts)
        try:
            with self.connection.begin_nested():
                yield
        except BaseException:
            # What the savepoint opened is gone: so is what this unit of work learned in it.
            self._learned_accounts.clear()
            self._learned_accounts.update(learned)
            raise

    def commit(self) -> None:
        self.connection.commit()
        self._committed = True
        if self._learned_accounts:
            self._operator_accounts.update(self._learned_accounts)
            self._learned_accounts.clear()

    def rollback(self) -> None:
        self._learned_accounts.clear()
        if self._connection is not None and self._connection.in_transaction():
            self._connection.rollback()


class _Reading:
    """``with uow.reading():`` (a class, not a generator: it runs on every balance read)."""

    __slots__ = ("_may_lag", "_uow")

    def __init__(self, uow: SqlUnitOfWork, *, may_lag: bool = False) -> None:
        self._uow = uow
        self._may_lag = may_lag

    def __enter__(self) -> SqlUnitOfWork:
        self._uow._open(write=False, may_lag=self._may_lag)
        return self._uow

    def __exit__(self, *exc_info: object) -> None:
        self._uow._close()


def _left_in_transaction(connection: Connection) -> bool:
    """True when the SQLite driver still has a transaction open on ``connection`` after its
    unit of work ended (PostgreSQL's pool rolls back every connection it takes back)."""
    if connection.invalidated or connection.closed or connection.dialect.name != "sqlite":
        return False
    return bool(connection.connection.dbapi_connection.in_transaction)  # type: ignore[union-attr]
