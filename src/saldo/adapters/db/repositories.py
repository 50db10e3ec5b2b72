"""Repositories over SQLAlchemy Core. Statements are built once at import and reused, so the
compiled-statement cache serves the hot paths (top-up, balance inquiry)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, func, insert, literal, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from saldo.adapters.db import tables as t
from saldo.catalog.schema import OperatorSpec
from saldo.domain.buckets import Bucket, BucketKind
from saldo.domain.ledger import OperatorAccount, Posting
from saldo.domain.lifecycle import LineState
from saldo.domain.lines import Line
from saldo.domain.operator import Operator, SimKind
from saldo.services.ports import (
    DuplicateIdempotencyKey,
    LineWithBuckets,
    NumberTaken,
    StoredAdjustment,
    StoredTopUp,
)


def spec_hash(spec: dict[str, Any]) -> str:
    """A fingerprint of a catalog entry: equal specs, equal hashes."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# Rebuilding an Operator validates its whole catalog entry again. A spec changes only with
# `operators load`, so each (id, spec hash) is built once per process and then looked up.
_operators_built: dict[tuple[int, str], Operator] = {}

_OPERATOR_HASH = select(t.operators.c.spec_hash).where(t.operators.c.id == bindparam("id"))
_OPERATOR_SPEC = select(t.operators.c.spec).where(t.operators.c.id == bindparam("id"))


class SqlOperatorRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def save(self, operator: Operator, *, spec: dict[str, Any], now: datetime) -> Operator:
        values = {
            "name": operator.name,
            "country": operator.country,
            "currency": operator.currency,
            "timezone": operator.timezone,
            "spec": spec,
            "spec_hash": spec_hash(spec),
            "updated_at": now,
        }
        existing = self._connection.execute(
            select(t.operators.c.id).where(t.operators.c.slug == operator.slug)
        ).scalar()
        if existing is None:
            operator_id = self._connection.execute(
                insert(t.operators)
                .values(slug=operator.slug, created_at=now, **values)
                .returning(t.operators.c.id)
            ).scalar_one()
        else:
            operator_id = existing
            self._connection.execute(
                update(t.operators).where(t.operators.c.id == existing).values(**values)
            )
        return self._build(int(operator_id), spec_hash(spec), spec)

    def get(self, operator_id: int) -> Operator | None:
        fingerprint = self._connection.execute(_OPERATOR_HASH, {"id": operator_id}).scalar()
        if fingerprint is None:
            return None
        operator = _operators_built.get((operator_id, fingerprint))
        if operator is not None:
            return operator
        spec = self._connection.execute(_OPERATOR_SPEC, {"id": operator_id}).scalar_one()
        return self._build(operator_id, fingerprint, spec)

    def get_by_slug(self, slug: str) -> Operator | None:
        found = self._connection.execute(
            select(t.operators.c.id).where(t.operators.c.slug == slug)
        ).scalar()
        return None if found is None else self.get(int(found))

    def list(self) -> list[Operator]:
        rows = self._connection.execute(
            select(t.operators.c.id, t.operators.c.spec_hash, t.operators.c.spec).order_by(
                t.operators.c.slug
            )
        )
        return [self._build(int(row.id), row.spec_hash, row.spec) for row in rows]

    @staticmethod
    def _build(operator_id: int, fingerprint: str, spec: dict[str, Any]) -> Operator:
        operator = _operators_built.get((operator_id, fingerprint))
        if operator is None:
            operator = OperatorSpec.model_validate(spec).to_operator(operator_id=operator_id)
            _operators_built[(operator_id, fingerprint)] = operator
        return operator


_LINE_COLUMNS = (
    t.lines.c.id,
    t.lines.c.operator_id,
    t.lines.c.msisdn,
    t.lines.c.iccid,
    t.lines.c.sim_kind,
    t.lines.c.language,
    t.lines.c.state,
    t.lines.c.activated_at,
    t.lines.c.valid_until,
)


def _line(row: Row[Any, *tuple[Any, ...]]) -> Line:
    return Line(
        id=row.id,
        operator_id=row.operator_id,
        msisdn=row.msisdn,
        iccid=row.iccid,
        sim_kind=SimKind(row.sim_kind),
        language=row.language,
        state=LineState(row.state),
        activated_at=row.activated_at,
        valid_until=row.valid_until,
    )


_latest_line_id = (
    select(func.max(t.lines.c.id)).where(t.lines.c.msisdn == bindparam("msisdn")).scalar_subquery()
)
_LINE_BY_MSISDN = select(*_LINE_COLUMNS).where(t.lines.c.id == _latest_line_id)
_LINE_BY_MSISDN_SCOPED = _LINE_BY_MSISDN.where(t.lines.c.operator_id == bindparam("scope"))
_LINE_BY_MSISDN_LOCKED = _LINE_BY_MSISDN.with_for_update()
_LINE_BY_MSISDN_SCOPED_LOCKED = _LINE_BY_MSISDN_SCOPED.with_for_update()

_LINE_AND_BUCKETS = (
    select(
        *_LINE_COLUMNS,
        t.accounts.c.id.label("bucket_id"),
        t.accounts.c.kind,
        t.accounts.c.unit,
        t.accounts.c.balance,
        t.accounts.c.expires_at,
    )
    .select_from(t.lines.outerjoin(t.accounts, t.accounts.c.line_id == t.lines.c.id))
    .where(t.lines.c.id == _latest_line_id)
    .order_by(t.accounts.c.id)
)
_LINE_AND_BUCKETS_SCOPED = _LINE_AND_BUCKETS.where(t.lines.c.operator_id == bindparam("scope"))

_SET_VALIDITY = (
    update(t.lines)
    .where(t.lines.c.id == bindparam("line_id"))
    .values(
        valid_until=bindparam("valid_until"),
        state=bindparam("state"),
        state_changed_at=bindparam("now"),
    )
)


class SqlLineRepository:
    def __init__(self, connection: Connection, *, operator_id: int | None) -> None:
        self._connection = connection
        self._scope = operator_id

    def add(
        self,
        *,
        operator_id: int,
        msisdn: str,
        iccid: str | None,
        sim_kind: SimKind,
        language: str,
        activated_at: datetime,
        valid_until: datetime,
        now: datetime,
    ) -> Line:
        if self._scope is not None and operator_id != self._scope:
            raise PermissionError("this unit of work is scoped to another operator")
        savepoint = self._connection.begin_nested()
        try:
            line_id = self._connection.execute(
                insert(t.lines)
                .values(
                    operator_id=operator_id,
                    msisdn=msisdn,
                    iccid=iccid,
                    sim_kind=sim_kind.value,
                    language=language,
                    state=LineState.ACTIVE.value,
                    activated_at=activated_at,
                    valid_until=valid_until,
                    state_changed_at=now,
                    created_at=now,
                )
                .returning(t.lines.c.id)
            ).scalar_one()
        except IntegrityError:
            savepoint.rollback()
            raise NumberTaken(msisdn) from None
        savepoint.commit()
        return Line(
            id=line_id,
            operator_id=operator_id,
            msisdn=msisdn,
            iccid=iccid,
            sim_kind=sim_kind,
            language=language,
            state=LineState.ACTIVE,
            activated_at=activated_at,
            valid_until=valid_until,
        )

    def get_by_msisdn(self, msisdn: str, *, for_update: bool = False) -> Line | None:
        params: dict[str, Any] = {"msisdn": msisdn}
        if self._scope is None:
            statement = _LINE_BY_MSISDN_LOCKED if for_update else _LINE_BY_MSISDN
        else:
            statement = _LINE_BY_MSISDN_SCOPED_LOCKED if for_update else _LINE_BY_MSISDN_SCOPED
            params["scope"] = self._scope
        row = self._connection.execute(statement, params).first()
        return _line(row) if row else None

    def get_with_buckets(self, msisdn: str) -> LineWithBuckets | None:
        if self._scope is None:
            rows = self._connection.execute(_LINE_AND_BUCKETS, {"msisdn": msisdn}).all()
        else:
            rows = self._connection.execute(
                _LINE_AND_BUCKETS_SCOPED, {"msisdn": msisdn, "scope": self._scope}
            ).all()
        if not rows:
            return None
        buckets = tuple(
            Bucket(
                id=row.bucket_id,
                kind=BucketKind(row.kind),
                unit=row.unit,
                balance=row.balance,
                expires_at=row.expires_at,
            )
            for row in rows
            if row.bucket_id is not None
        )
        return LineWithBuckets(line=_line(rows[0]), buckets=buckets)

    def list(
        self,
        *,
        operator_id: int | None = None,
        state: LineState | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Line]:
        statement = select(*_LINE_COLUMNS).order_by(t.lines.c.id).limit(limit).offset(offset)
        for wanted in (operator_id, self._scope):
            if wanted is not None:
                statement = statement.where(t.lines.c.operator_id == wanted)
        if state is not None:
            statement = statement.where(t.lines.c.state == state.value)
        return [_line(row) for row in self._connection.execute(statement)]

    def set_validity(
        self, line_id: int, *, valid_until: datetime, state: LineState, now: datetime
    ) -> None:
        self._connection.execute(
            _SET_VALIDITY,
            {"line_id": line_id, "valid_until": valid_until, "state": state.value, "now": now},
        )

    def count_by_state(self) -> dict[tuple[int, LineState], int]:
        statement = _COUNT_BY_STATE
        if self._scope is not None:
            statement = statement.where(t.lines.c.operator_id == self._scope)
        return {
            (int(operator_id), LineState(state)): int(count)
            for operator_id, state, count in self._connection.execute(statement)
        }


_COUNT_BY_STATE = select(t.lines.c.operator_id, t.lines.c.state, func.count()).group_by(
    t.lines.c.operator_id, t.lines.c.state
)

_MAIN_BUCKET = select(t.accounts.c.id).where(
    t.accounts.c.line_id == bindparam("line_id"), t.accounts.c.kind == BucketKind.MAIN.value
)
_CHANGE_BALANCE = (
    update(t.accounts)
    .where(
        t.accounts.c.id == bindparam("account_id"),
        t.accounts.c.balance + bindparam("amount") >= 0,
    )
    .values(balance=t.accounts.c.balance + bindparam("amount"))
    .returning(t.accounts.c.balance)
)
_OPERATOR_ACCOUNT = select(t.accounts.c.id).where(
    t.accounts.c.operator_id == bindparam("operator_id"),
    t.accounts.c.line_id.is_(None),
    t.accounts.c.kind == bindparam("kind"),
    t.accounts.c.unit == bindparam("unit"),
)


class SqlAccountRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

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

    def operator_account(
        self, *, operator_id: int, kind: OperatorAccount, unit: str, now: datetime
    ) -> int:
        params = {"operator_id": operator_id, "kind": kind.value, "unit": unit}
        found = self._connection.execute(_OPERATOR_ACCOUNT, params).scalar()
        if found is not None:
            return int(found)
        return int(
            self._connection.execute(
                insert(t.accounts)
                .values(line_id=None, balance=0, created_at=now, **params)
                .returning(t.accounts.c.id)
            ).scalar_one()
        )

    def main_bucket_id(self, line_id: int) -> int:
        return int(self._connection.execute(_MAIN_BUCKET, {"line_id": line_id}).scalar_one())

    def change_balance(self, account_id: int, amount: int) -> int | None:
        balance = self._connection.execute(
            _CHANGE_BALANCE, {"account_id": account_id, "amount": amount}
        ).scalar()
        return None if balance is None else int(balance)


_INSERT_TRANSACTION = insert(t.ledger_transactions).returning(t.ledger_transactions.c.id)
_INSERT_ENTRY = insert(t.ledger_entries)


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
        transaction_id = int(
            self._connection.execute(
                _INSERT_TRANSACTION,
                {
                    "operator_id": operator_id,
                    "line_id": line_id,
                    "event_type": event_type,
                    "event_id": event_id,
                    "memo": memo,
                    "created_at": now,
                },
            ).scalar_one()
        )
        self._connection.execute(
            _INSERT_ENTRY,
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
        found = [(int(r[0]), str(r[1]), int(r[2])) for r in self._connection.execute(per_unit)]
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
        found += [(int(r[0]), str(r[1]), int(r[2])) for r in self._connection.execute(thin)]
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
            (int(r[0]), str(r[1]), str(r[2]), int(r[3]), int(r[4]))
            for r in self._connection.execute(statement)
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
).where(
    and_(
        t.topups.c.operator_id == bindparam("operator_id"),
        t.topups.c.idempotency_key == bindparam("key"),
    )
)
_INSERT_TOPUP = insert(t.topups).returning(t.topups.c.id)


class SqlTopUpRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get_by_key(self, *, operator_id: int, idempotency_key: str) -> StoredTopUp | None:
        row = self._connection.execute(
            _TOPUP_BY_KEY, {"operator_id": operator_id, "key": idempotency_key}
        ).first()
        if row is None:
            return None
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
        )

    def add(
        self,
        *,
        operator_id: int,
        line_id: int,
        idempotency_key: str,
        request_fingerprint: str,
        amount: int,
        currency: str,
        channel: str,
        validity_days: int,
        state_before: LineState,
        valid_until_before: datetime,
        valid_until_after: datetime,
        balance_after: int,
        now: datetime,
    ) -> int:
        values = {
            "operator_id": operator_id,
            "line_id": line_id,
            "idempotency_key": idempotency_key,
            "request_fingerprint": request_fingerprint,
            "amount": amount,
            "currency": currency,
            "channel": channel,
            "validity_days": validity_days,
            "state_before": state_before.value,
            "valid_until_before": valid_until_before,
            "valid_until_after": valid_until_after,
            "balance_after": balance_after,
            "created_at": now,
        }
        try:
            return int(self._connection.execute(_INSERT_TOPUP, values).scalar_one())
        except IntegrityError as error:
            raise DuplicateIdempotencyKey(idempotency_key) from error


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
