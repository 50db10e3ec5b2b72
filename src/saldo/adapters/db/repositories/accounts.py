"""Accounts (a line's buckets and the operator's own accounts) and the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, literal, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from saldo.adapters.db import tables as t
from saldo.adapters.db.driver import execute_many, stored_moment
from saldo.adapters.db.prepared import Prepared
from saldo.domain.buckets import BucketKind
from saldo.domain.ledger import OperatorAccount, Posting

_CHANGE_BALANCE = Prepared(
    update(t.accounts)
    .where(
        t.accounts.c.id == bindparam("account_id"),
        t.accounts.c.balance + bindparam("amount") >= 0,
    )
    .values(balance=t.accounts.c.balance + bindparam("amount"))
    .returning(t.accounts.c.balance)
)
_OPERATOR_ACCOUNT = Prepared(
    select(t.accounts.c.id).where(
        t.accounts.c.operator_id == bindparam("operator_id"),
        t.accounts.c.line_id.is_(None),
        t.accounts.c.kind == bindparam("kind"),
        t.accounts.c.unit == bindparam("unit"),
    )
)


# (operator id, account kind, unit) → account id
OperatorAccountIds = dict[tuple[int, str, str], int]


class SqlAccountRepository:
    """Buckets and operator accounts. An operator account, once committed, keeps its id for
    ever: ``known`` holds the ids committed so far (shared by the units of work of one
    engine), ``learned`` the ones this unit of work found or opened, which its commit adds to
    ``known``. So a top-up does not look its operator's account up every time."""

    def __init__(
        self,
        connection: Connection,
        *,
        known: OperatorAccountIds | None = None,
        learned: OperatorAccountIds | None = None,
    ) -> None:
        self._connection = connection
        self._known: OperatorAccountIds = {} if known is None else known
        self._learned: OperatorAccountIds = {} if learned is None else learned

    def open_bucket(
        self,
        *,
        operator_id: int,
        line_id: int,
        kind: BucketKind,
        unit: str,
        expires_at: datetime | None,
        now: datetime,
    ) -> int:
        expiry = (
            t.accounts.c.expires_at.is_(None)
            if expires_at is None
            else t.accounts.c.expires_at == expires_at
        )
        found = self._connection.execute(
            select(t.accounts.c.id)
            .where(
                t.accounts.c.line_id == line_id,
                t.accounts.c.kind == kind.value,
                t.accounts.c.unit == unit,
                expiry,
            )
            .order_by(t.accounts.c.id)
            .limit(1)
        ).scalar()
        if found is not None:
            return int(found)
        return int(
            self._connection.execute(
                insert(t.accounts)
                .values(
                    operator_id=operator_id,
                    line_id=line_id,
                    kind=kind.value,
                    unit=unit,
                    balance=0,
                    expires_at=expires_at,
                    created_at=now,
                )
                .returning(t.accounts.c.id)
            ).scalar_one()
        )

    def open_main_buckets(self, lines: Sequence[tuple[int, int, str]], *, now: datetime) -> None:
        moment = stored_moment(self._connection, now)
        main = BucketKind.MAIN.value
        execute_many(
            self._connection,
            "INSERT INTO accounts (operator_id, line_id, kind, unit, balance, expires_at, "
            "created_at) VALUES (?, ?, ?, ?, 0, NULL, ?)",
            [(operator_id, line_id, main, unit, moment) for operator_id, line_id, unit in lines],
        )

    def operator_account(
        self, *, operator_id: int, kind: OperatorAccount, unit: str, now: datetime
    ) -> int:
        cache_key = (operator_id, kind.value, unit)
        known = self._known.get(cache_key)
        if known is None:
            known = self._learned.get(cache_key)
        if known is not None:
            return known
        account_id = self._find_or_open_operator_account(
            operator_id=operator_id, kind=kind, unit=unit, now=now
        )
        self._learned[cache_key] = account_id
        return account_id

    def _find_or_open_operator_account(
        self, *, operator_id: int, kind: OperatorAccount, unit: str, now: datetime
    ) -> int:
        params = {"operator_id": operator_id, "kind": kind.value, "unit": unit}
        found = _OPERATOR_ACCOUNT.scalar(self._connection, **params)
        if found is not None:
            return int(found)
        # Two first movements of an operator may race to open the account: the unique index
        # decides, and the loser reads the winner's row.
        savepoint = self._connection.begin_nested()
        try:
            created = self._connection.execute(
                insert(t.accounts)
                .values(line_id=None, balance=0, created_at=now, **params)
                .returning(t.accounts.c.id)
            ).scalar_one()
        except IntegrityError:
            savepoint.rollback()
            again = _OPERATOR_ACCOUNT.scalar(self._connection, **params)
            assert again is not None
            return int(again)
        savepoint.commit()
        return int(created)

    def change_balance(self, account_id: int, amount: int) -> int | None:
        balance = _CHANGE_BALANCE.scalar(self._connection, account_id=account_id, amount=amount)
        return None if balance is None else int(balance)


_INSERT_TRANSACTION = Prepared(
    insert(t.ledger_transactions)
    .values(
        operator_id=bindparam("operator_id"),
        line_id=bindparam("line_id"),
        event_type=bindparam("event_type"),
        event_id=bindparam("event_id"),
        memo=bindparam("memo"),
        created_at=bindparam("created_at"),
    )
    .returning(t.ledger_transactions.c.id)
)
_INSERT_ENTRY = Prepared(
    insert(t.ledger_entries).values(
        transaction_id=bindparam("transaction_id"),
        account_id=bindparam("account_id"),
        amount=bindparam("amount"),
        balance_after=bindparam("balance_after"),
    )
)


class SqlLedgerRepository:
    def __init__(self, connection: Connection, *, operator_id: int | None) -> None:
        self._connection = connection
        self._scope = operator_id

    def record(
        self,
        *,
        operator_id: int,
        line_id: int | None,
        event_type: str,
        event_id: int,
        postings: Sequence[Posting],
        balances_after: dict[int, int],
        memo: str | None,
        now: datetime,
    ) -> int:
        created = _INSERT_TRANSACTION.scalar(
            self._connection,
            operator_id=operator_id,
            line_id=line_id,
            event_type=event_type,
            event_id=event_id,
            memo=memo,
            created_at=now,
        )
        assert created is not None
        transaction_id = int(created)
        _INSERT_ENTRY.execute_many(
            self._connection,
            [
                {
                    "transaction_id": transaction_id,
                    "account_id": posting.account_id,
                    "amount": posting.amount,
                    "balance_after": balances_after.get(posting.account_id),
                }
                for posting in postings
            ],
        )
        return transaction_id

    def _scoped(self, statement: Any, operator_column: Any) -> Any:
        return statement if self._scope is None else statement.where(operator_column == self._scope)

    def unbalanced_transactions(self, *, limit: int) -> list[tuple[int, str, int]]:
        per_unit = self._scoped(
            select(
                t.ledger_entries.c.transaction_id,
                t.accounts.c.unit,
                func.sum(t.ledger_entries.c.amount).label("total"),
            )
            .select_from(t.ledger_entries.join(t.accounts))
            .group_by(t.ledger_entries.c.transaction_id, t.accounts.c.unit)
            .having(func.sum(t.ledger_entries.c.amount) != 0)
            .order_by(t.ledger_entries.c.transaction_id)
            .limit(limit),
            t.accounts.c.operator_id,
        )
        found = [
            (int(transaction_id), str(unit), int(total))
            for transaction_id, unit, total in self._connection.execute(per_unit)
        ]
        entry_count = (
            select(func.count())
            .where(t.ledger_entries.c.transaction_id == t.ledger_transactions.c.id)
            .scalar_subquery()
        )
        thin = self._scoped(
            select(t.ledger_transactions.c.id, literal("*"), entry_count)
            .where(entry_count < 2)
            .order_by(t.ledger_transactions.c.id)
            .limit(limit),
            t.ledger_transactions.c.operator_id,
        )
        found += [
            (int(transaction_id), str(unit), int(entries))
            for transaction_id, unit, entries in self._connection.execute(thin)
        ]
        return sorted(found)[:limit]

    def drifted_buckets(self, *, limit: int) -> list[tuple[int, str, str, int, int]]:
        ledger_sum = func.coalesce(func.sum(t.ledger_entries.c.amount), 0)
        statement = self._scoped(
            select(
                t.accounts.c.id,
                t.lines.c.msisdn,
                t.accounts.c.kind,
                t.accounts.c.balance,
                ledger_sum.label("ledger_sum"),
            )
            .select_from(
                t.accounts.join(t.lines, t.lines.c.id == t.accounts.c.line_id).outerjoin(
                    t.ledger_entries, t.ledger_entries.c.account_id == t.accounts.c.id
                )
            )
            .group_by(t.accounts.c.id, t.lines.c.msisdn, t.accounts.c.kind, t.accounts.c.balance)
            .having(ledger_sum != t.accounts.c.balance)
            .order_by(t.accounts.c.id)
            .limit(limit),
            t.accounts.c.operator_id,
        )
        return [
            (int(account_id), str(msisdn), str(kind), int(balance), int(ledger))
            for account_id, msisdn, kind, balance, ledger in self._connection.execute(statement)
        ]

    def counts(self) -> tuple[int, int, int]:
        transactions = self._scoped(
            select(func.count()).select_from(t.ledger_transactions),
            t.ledger_transactions.c.operator_id,
        )
        entries = self._scoped(
            select(func.count()).select_from(t.ledger_entries.join(t.accounts)),
            t.accounts.c.operator_id,
        )
        buckets = self._scoped(
            select(func.count()).select_from(t.accounts).where(t.accounts.c.line_id.isnot(None)),
            t.accounts.c.operator_id,
        )
        run = self._connection.execute
        return (
            int(run(transactions).scalar_one()),
            int(run(entries).scalar_one()),
            int(run(buckets).scalar_one()),
        )
