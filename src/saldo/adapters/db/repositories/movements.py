"""Money movements with idempotency keys: top-ups and manual adjustments."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, bindparam, column, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from saldo.adapters.db import tables as t
from saldo.adapters.db.prepared import IntegrityViolation, Prepared
from saldo.domain.ledger import Posting
from saldo.domain.lifecycle import LineState
from saldo.services.ports import (
    DuplicateIdempotencyKey,
    NewTopUp,
    StoredAdjustment,
    StoredPlanPurchase,
    StoredTopUp,
    TopUpBonus,
)

_TOPUP_COLUMNS = (
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
)
_TOPUP_BY_KEY = select(*_TOPUP_COLUMNS).where(
    and_(
        t.topups.c.operator_id == bindparam("operator_id"),
        t.topups.c.idempotency_key == bindparam("key"),
    )
)
_TOPUP_BY_KEY_PREPARED = Prepared(_TOPUP_BY_KEY)
_TOPUP_BY_ID = select(*_TOPUP_COLUMNS).where(t.topups.c.id == bindparam("topup_id"))


class SqlTopUpRepository:
    """Top-ups. ``operator_id`` scopes it to one operator, as the unit of work is."""

    def __init__(self, connection: Connection, *, operator_id: int | None) -> None:
        self._connection = connection
        self._scope = operator_id

    def get_by_key(self, *, operator_id: int, idempotency_key: str) -> StoredTopUp | None:
        if self._scope is not None and operator_id != self._scope:
            return None
        row = _TOPUP_BY_KEY_PREPARED.first(
            self._connection, operator_id=operator_id, key=idempotency_key
        )
        return None if row is None else _stored_topup(row)

    def get(self, topup_id: int) -> StoredTopUp | None:
        row = self._connection.execute(_TOPUP_BY_ID, {"topup_id": topup_id}).first()
        if row is None or (self._scope is not None and row.operator_id != self._scope):
            return None
        return _stored_topup(row)

    def credit(
        self,
        topup: NewTopUp,
        *,
        main_bucket_id: int,
        bonus: TopUpBonus | None,
        postings: Sequence[Posting],
        memo: str,
        reactivate: bool,
    ) -> tuple[int, int]:
        assert topup.amount > 0, "a top-up credits"
        assert bonus is None or bonus.amount > 0, "a bonus credits"
        if self._scope is not None and topup.operator_id != self._scope:
            raise PermissionError("this unit of work is scoped to another operator")
        changes_line = topup.changes_line(reactivate=reactivate)
        roles = tuple(_role(posting, main=main_bucket_id, bonus=bonus) for posting in postings)
        params = _topup_values(topup, bonus=bonus)
        params.update(main_bucket_id=main_bucket_id, memo=memo)
        for n, posting in enumerate(postings):
            params[f"account_{n}"] = posting.account_id
            params[f"amount_{n}"] = posting.amount
        if self._connection.dialect.name == "postgresql":
            statement = _credit_statement(roles, line=changes_line, reactivate=reactivate)
            with _refused_key(topup):
                row = statement.first(self._connection, **params)
            assert row is not None and row.topup_id is not None
            return int(row.topup_id), int(row.balance)
        # SQLite runs in-process: the same writes one statement after the other cost no
        # round trips, each one's result bound into the next.
        with _refused_key(topup):
            balance = params["balance"] = _first(self._connection, _SQLITE_CREDIT_MAIN, params)
            if bonus is not None:
                params["bonus_balance"] = _first(self._connection, _SQLITE_CREDIT_BONUS, params)
            insert_topup = _SQLITE_INSERT_TOPUP[bonus is not None]
            topup_id = params["topup_id"] = _first(self._connection, insert_topup, params)
            params["transaction_id"] = _first(self._connection, _SQLITE_INSERT_TRANSACTION, params)
            _sqlite_entries(roles).execute(self._connection, **params)
            if changes_line:
                _SQLITE_SET_VALIDITY[reactivate].execute(self._connection, **params)
        assert topup_id is not None and balance is not None
        return topup_id, balance


def _first(connection: Connection, statement: Prepared, params: dict[str, Any]) -> int | None:
    """The one value the statement returns, None when it changed no row."""
    value = statement.scalar(connection, **params)
    return None if value is None else int(value)


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


def _topup_values(topup: NewTopUp, *, bonus: TopUpBonus | None) -> dict[str, Any]:
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
        "created_at": topup.now,
        "bonus": None if bonus is None else bonus.amount,
        "bonus_bucket_id": None if bonus is None else bonus.bucket_id,
    }


# What a ledger entry's balance after is: the main bucket's, the bonus bucket's, or none (an
# operator account's).
_MAIN, _BONUS, _NONE = "main", "bonus", "none"


def _role(posting: Posting, *, main: int, bonus: TopUpBonus | None) -> str:
    if posting.account_id == main:
        return _MAIN
    if bonus is not None and posting.account_id == bonus.bucket_id:
        return _BONUS
    return _NONE


# A top-up's writes, written once for both databases: each takes the values the writes
# before it returned as SQL expressions (a ``WITH`` query's result on PostgreSQL, a bound
# parameter on SQLite). A bucket is credited only if it is the top-up's line's and the line
# is the top-up's operator's; otherwise no balance comes back and the top-up row, whose
# balance after may not be NULL, is refused (see ``_insert_topup``).


def _credit_bucket(amount: str, bucket: str) -> str:
    return f"""UPDATE accounts SET balance = balance + :{amount}
            WHERE id = :{bucket} AND operator_id = :operator_id AND line_id = :line_id
            RETURNING balance"""


def _insert_topup(balance: str, *, bonus_balance: str | None) -> str:
    """``balance``: the main bucket's balance after; ``bonus_balance``, with a bonus, the bonus
    bucket's: without it the top-up has no balance after either, and is refused."""
    if bonus_balance is not None:
        balance = f"CASE WHEN {bonus_balance} IS NOT NULL THEN {balance} END"
    return f"""INSERT INTO topups (
                operator_id, line_id, idempotency_key, request_fingerprint, amount, currency,
                channel, validity_days, state_before, valid_until_before, valid_until_after,
                balance_after, created_at, bonus
            ) VALUES (
                :operator_id, :line_id, :idempotency_key, :request_fingerprint, :amount,
                :currency, :channel, :validity_days, :state_before, :valid_until_before,
                :valid_until_after, {balance}, :created_at, :bonus
            )
            RETURNING id"""


def _insert_transaction(topup: str) -> str:
    return f"""INSERT INTO ledger_transactions (
                operator_id, line_id, event_type, event_id, memo, created_at
            ) VALUES (:operator_id, :line_id, 'topup', {topup}, :memo, :created_at)
            RETURNING id"""


def _insert_entries(transaction: str, balances: Sequence[str]) -> str:
    rows = ",\n            ".join(
        f"({transaction}, :account_{n}, :amount_{n}, {balance})"
        for n, balance in enumerate(balances)
    )
    return f"""INSERT INTO ledger_entries (transaction_id, account_id, amount, balance_after)
            VALUES {rows}"""


def _set_validity(*, reactivate: bool) -> str:
    state = ", state = 'active', state_changed_at = :created_at" if reactivate else ""
    return f"""UPDATE lines SET valid_until = :valid_until_after{state}
            WHERE id = :line_id AND operator_id = :operator_id"""


_SQLITE_CREDIT_MAIN = Prepared(text(_credit_bucket("amount", "main_bucket_id")))
_SQLITE_CREDIT_BONUS = Prepared(text(_credit_bucket("bonus", "bonus_bucket_id")))
_SQLITE_INSERT_TOPUP = {
    with_bonus: Prepared(
        text(_insert_topup(":balance", bonus_balance=":bonus_balance" if with_bonus else None))
    )
    for with_bonus in (False, True)
}
_SQLITE_INSERT_TRANSACTION = Prepared(text(_insert_transaction(":topup_id")))
_SQLITE_SET_VALIDITY = {
    reactivate: Prepared(text(_set_validity(reactivate=reactivate))) for reactivate in (False, True)
}


@functools.cache
def _sqlite_entries(roles: tuple[str, ...]) -> Prepared:
    """A top-up's ledger entries on SQLite, one row per posting, in one statement."""
    balances = {_MAIN: ":balance", _BONUS: ":bonus_balance", _NONE: "NULL"}
    return Prepared(text(_insert_entries(":transaction_id", [balances[r] for r in roles])))


@functools.cache
def _credit_statement(roles: tuple[str, ...], *, line: bool, reactivate: bool) -> Prepared:
    """A top-up's writes in one PostgreSQL statement: data-modifying ``WITH`` queries pass
    the new balances and the new ids along through their ``RETURNING``, and every one of
    them runs to completion whether the final ``SELECT`` reads it or not. ``roles`` tells
    whose balance after each posting's entry carries; ``line`` whether the line's validity
    (and with ``reactivate``, its state) is written."""
    balances = {
        _MAIN: "(SELECT balance FROM balance)",
        _BONUS: "(SELECT balance FROM bonus_balance)",
        _NONE: "NULL",
    }
    credited_bonus = "(SELECT balance FROM bonus_balance)" if _BONUS in roles else None
    bonus = (
        f""", bonus_balance AS (
            {_credit_bucket("bonus", "bonus_bucket_id")}
        )"""
        if _BONUS in roles
        else ""
    )
    validity = (
        f""", validity AS (
            {_set_validity(reactivate=reactivate)}
        )"""
        if line
        else ""
    )
    return Prepared(
        text(
            f"""
        WITH balance AS (
            {_credit_bucket("amount", "main_bucket_id")}
        ){bonus}, topup AS (
            {_insert_topup("(SELECT balance FROM balance)", bonus_balance=credited_bonus)}
        ), txn AS (
            {_insert_transaction("(SELECT id FROM topup)")}
        ), entries AS (
            {_insert_entries("(SELECT id FROM txn)", [balances[r] for r in roles])}
        ){validity}
        SELECT (SELECT id FROM topup) AS topup_id, (SELECT balance FROM balance) AS balance
        """
        ).columns(column("topup_id", Integer), column("balance", Integer))
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


def _stored_topup(row: Any) -> StoredTopUp:
    return StoredTopUp(
        id=row.id,
        operator_id=row.operator_id,
        line_id=row.line_id,
        request_fingerprint=row.request_fingerprint,
        amount=row.amount,
        currency=row.currency,
        channel=row.channel,
        state_before=LineState(row.state_before),
        valid_until_after=row.valid_until_after,
        balance_after=row.balance_after,
        created_at=row.created_at,
        bonus=row.bonus,
    )
