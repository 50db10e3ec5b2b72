"""Money movements with idempotency keys: top-ups and manual adjustments."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from saldo.adapters.db import tables as t
from saldo.adapters.db.prepared import IntegrityViolation, Prepared, to_utc
from saldo.adapters.db.repositories.accounts import SqlAccountRepository, SqlLedgerRepository
from saldo.adapters.db.repositories.lines import SqlLineRepository
from saldo.domain.ledger import Posting
from saldo.domain.lifecycle import LineState
from saldo.services.ports import (
    DuplicateIdempotencyKey,
    NewTopUp,
    StoredAdjustment,
    StoredPlanPurchase,
    StoredTopUp,
)

_TOPUP_BY_KEY = select(
    t.topups.c.id,
    t.topups.c.operator_id,
    t.topups.c.line_id,
    t.topups.c.request_fingerprint,
    t.topups.c.amount,
    t.topups.c.currency,
    t.topups.c.channel,
    t.topups.c.state_before,
    t.topups.c.valid_until_after,
    t.topups.c.balance_after,
    t.topups.c.created_at,
    t.topups.c.bonus,
).where(
    and_(
        t.topups.c.operator_id == bindparam("operator_id"),
        t.topups.c.idempotency_key == bindparam("key"),
    )
)
_TOPUP_BY_KEY_PREPARED = Prepared(_TOPUP_BY_KEY)
_INSERT_TOPUP = Prepared(
    insert(t.topups)
    .values({column.name: bindparam(column.name) for column in t.topups.c if column.name != "id"})
    .returning(t.topups.c.id)
)


class SqlTopUpRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get_by_key(self, *, operator_id: int, idempotency_key: str) -> StoredTopUp | None:
        row = _TOPUP_BY_KEY_PREPARED.first(
            self._connection, operator_id=operator_id, key=idempotency_key
        )
        if row is None:
            return None
        valid_until_after, created_at = to_utc(row[8]), to_utc(row[10])
        assert valid_until_after is not None and created_at is not None
        return StoredTopUp(
            id=row[0],
            operator_id=row[1],
            line_id=row[2],
            request_fingerprint=row[3],
            amount=row[4],
            currency=row[5],
            channel=row[6],
            state_before=LineState(row[7]),
            valid_until_after=valid_until_after,
            balance_after=row[9],
            created_at=created_at,
            bonus=row[11],
        )

    def add(self, topup: NewTopUp, *, balance_after: int, bonus: int | None = None) -> int:
        values = _topup_values(topup, balance_after=balance_after, bonus=bonus)
        with _refused_key(topup):
            created = _INSERT_TOPUP.first(self._connection, **values)
        assert created is not None
        return int(created[0])

    def credit(
        self,
        topup: NewTopUp,
        *,
        main_bucket_id: int,
        postings: Sequence[Posting],
        memo: str,
        reactivate: bool,
    ) -> tuple[int, int]:
        assert topup.amount > 0, "a top-up credits"
        changes_line = topup.changes_line(reactivate=reactivate)
        if self._connection.dialect.name == "postgresql":
            mains = tuple(posting.account_id == main_bucket_id for posting in postings)
            params: dict[str, Any] = _topup_values(topup, balance_after=None, bonus=None)
            params.update(main_bucket_id=main_bucket_id, memo=memo, event_type="topup")
            for n, posting in enumerate(postings):
                params[f"account_{n}"] = posting.account_id
                params[f"amount_{n}"] = posting.amount
            statement = _credit_statement(mains, line=changes_line, reactivate=reactivate)
            with _refused_key(topup):
                row = statement.first(self._connection, **params)
            assert row is not None and row[0] is not None
            return int(row[0]), int(row[1])
        # SQLite runs in-process: five statements cost no round trips.
        balance = SqlAccountRepository(self._connection).change_balance(
            main_bucket_id, topup.amount
        )
        assert balance is not None, "a credit cannot overdraw"
        topup_id = self.add(topup, balance_after=balance)
        SqlLedgerRepository(self._connection, operator_id=None).record(
            operator_id=topup.operator_id,
            line_id=topup.line_id,
            event_type="topup",
            event_id=topup_id,
            postings=postings,
            balances_after={main_bucket_id: balance},
            memo=memo,
            now=topup.now,
        )
        if changes_line:
            SqlLineRepository(self._connection, operator_id=None).set_validity(
                topup.line_id,
                valid_until=topup.valid_until_after,
                state=LineState.ACTIVE if reactivate else None,
                now=topup.now,
            )
        return topup_id, balance


@contextmanager
def _refused_key(topup: NewTopUp) -> Iterator[None]:
    """DuplicateIdempotencyKey when the database refuses the top-up's key as taken; any
    other refusal (a foreign key, a missing balance) is a fault, not a replay, and is
    raised as it is."""
    try:
        yield
    except IntegrityViolation as error:
        if error.refuses("topups", "operator_id", "idempotency_key"):
            raise DuplicateIdempotencyKey(topup.idempotency_key) from error
        raise


def _topup_values(
    topup: NewTopUp, *, balance_after: int | None, bonus: int | None
) -> dict[str, Any]:
    return {
        "operator_id": topup.operator_id,
        "line_id": topup.line_id,
        "idempotency_key": topup.idempotency_key,
        "request_fingerprint": topup.request_fingerprint,
        "amount": topup.amount,
        "currency": topup.currency,
        "channel": topup.channel,
        "validity_days": topup.validity_days,
        "state_before": topup.state_before.value,
        "valid_until_before": topup.valid_until_before,
        "valid_until_after": topup.valid_until_after,
        "balance_after": balance_after,
        "created_at": topup.now,
        "bonus": bonus,
    }


@functools.cache
def _credit_statement(mains: tuple[bool, ...], *, line: bool, reactivate: bool) -> Prepared:
    """A top-up's writes in one PostgreSQL statement: data-modifying ``WITH`` queries pass
    the new balance and the new ids along through their ``RETURNING``, and every one of them
    runs to completion whether the final ``SELECT`` reads it or not. ``mains`` tells which
    postings are the main bucket's (their entry carries the balance after); ``line`` whether
    the line's validity (and with ``reactivate``, its state) is written."""
    entries = ",\n            ".join(
        f"((SELECT id FROM txn), :account_{n}, :amount_{n}, "
        + ("(SELECT balance FROM balance))" if main else "NULL)")
        for n, main in enumerate(mains)
    )
    state = ", state = 'active', state_changed_at = :created_at" if reactivate else ""
    validity = (
        f""", validity AS (
            UPDATE lines SET valid_until = :valid_until_after{state}
            WHERE id = :line_id
        )"""
        if line
        else ""
    )
    return Prepared(
        text(
            f"""
        WITH balance AS (
            UPDATE accounts SET balance = balance + :amount
            WHERE id = :main_bucket_id
            RETURNING balance
        ), topup AS (
            INSERT INTO topups (
                operator_id, line_id, idempotency_key, request_fingerprint, amount, currency,
                channel, validity_days, state_before, valid_until_before, valid_until_after,
                balance_after, created_at, bonus
            ) VALUES (
                :operator_id, :line_id, :idempotency_key, :request_fingerprint, :amount,
                :currency, :channel, :validity_days, :state_before, :valid_until_before,
                :valid_until_after, (SELECT balance FROM balance), :created_at, :bonus
            )
            RETURNING id
        ), txn AS (
            INSERT INTO ledger_transactions (
                operator_id, line_id, event_type, event_id, memo, created_at
            ) VALUES (
                :operator_id, :line_id, :event_type, (SELECT id FROM topup), :memo, :created_at
            )
            RETURNING id
        ), entries AS (
            INSERT INTO ledger_entries (transaction_id, account_id, amount, balance_after)
            VALUES {entries}
        ){validity}
        SELECT (SELECT id FROM topup), (SELECT balance FROM balance)
        """
        )
    )


class SqlAdjustmentRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get_by_key(self, *, operator_id: int, idempotency_key: str) -> StoredAdjustment | None:
        c = t.adjustments.c
        row = self._connection.execute(
            select(
                c.id,
                c.line_id,
                c.account_id,
                c.request_fingerprint,
                c.amount,
                c.unit,
                c.balance_after,
                c.created_at,
            ).where(c.operator_id == operator_id, c.idempotency_key == idempotency_key)
        ).first()
        if row is None:
            return None
        return StoredAdjustment(
            id=row.id,
            line_id=row.line_id,
            account_id=row.account_id,
            request_fingerprint=row.request_fingerprint,
            amount=row.amount,
            unit=row.unit,
            balance_after=row.balance_after,
            created_at=row.created_at,
        )

    def add(
        self,
        *,
        operator_id: int,
        line_id: int,
        account_id: int,
        idempotency_key: str,
        request_fingerprint: str,
        amount: int,
        unit: str,
        reason: str,
        actor: str,
        balance_after: int,
        now: datetime,
    ) -> int:
        try:
            return int(
                self._connection.execute(
                    insert(t.adjustments)
                    .values(
                        operator_id=operator_id,
                        line_id=line_id,
                        account_id=account_id,
                        idempotency_key=idempotency_key,
                        request_fingerprint=request_fingerprint,
                        amount=amount,
                        unit=unit,
                        reason=reason,
                        actor=actor,
                        balance_after=balance_after,
                        created_at=now,
                    )
                    .returning(t.adjustments.c.id)
                ).scalar_one()
            )
        except IntegrityError as error:
            raise DuplicateIdempotencyKey(idempotency_key) from error


class SqlPlanPurchaseRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get_by_key(self, *, operator_id: int, idempotency_key: str) -> StoredPlanPurchase | None:
        c = t.plan_purchases.c
        row = self._connection.execute(
            select(
                c.id,
                c.request_fingerprint,
                c.plan_code,
                c.price,
                c.currency,
                c.valid_until_after,
                c.balance_after,
                c.created_at,
                c.promotion,
            ).where(c.operator_id == operator_id, c.idempotency_key == idempotency_key)
        ).first()
        if row is None:
            return None
        return StoredPlanPurchase(
            id=row.id,
            request_fingerprint=row.request_fingerprint,
            plan_code=row.plan_code,
            price=row.price,
            currency=row.currency,
            valid_until_after=row.valid_until_after,
            balance_after=row.balance_after,
            created_at=row.created_at,
            promotion=row.promotion,
        )

    def has_purchases(self, line_id: int) -> bool:
        c = t.plan_purchases.c
        found = self._connection.execute(select(c.id).where(c.line_id == line_id).limit(1))
        return found.first() is not None

    def add(
        self,
        *,
        operator_id: int,
        line_id: int,
        plan_code: str,
        months: int,
        price: int,
        currency: str,
        channel: str,
        idempotency_key: str,
        request_fingerprint: str,
        valid_until_before: datetime,
        valid_until_after: datetime,
        balance_after: int,
        now: datetime,
        promotion: str | None = None,
    ) -> int:
        try:
            return int(
                self._connection.execute(
                    insert(t.plan_purchases)
                    .values(
                        operator_id=operator_id,
                        line_id=line_id,
                        plan_code=plan_code,
                        months=months,
                        price=price,
                        currency=currency,
                        channel=channel,
                        idempotency_key=idempotency_key,
                        request_fingerprint=request_fingerprint,
                        valid_until_before=valid_until_before,
                        valid_until_after=valid_until_after,
                        balance_after=balance_after,
                        created_at=now,
                        promotion=promotion,
                    )
                    .returning(t.plan_purchases.c.id)
                ).scalar_one()
            )
        except IntegrityError as error:
            raise DuplicateIdempotencyKey(idempotency_key) from error
