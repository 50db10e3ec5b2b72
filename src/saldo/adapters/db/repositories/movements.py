"""Money movements with idempotency keys: top-ups and manual adjustments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from saldo.adapters.db import tables as t
from saldo.adapters.db.prepared import IntegrityViolation, Prepared, to_utc
from saldo.domain.lifecycle import LineState
from saldo.services.ports import (
    DuplicateIdempotencyKey,
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
        bonus: int | None = None,
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
            "bonus": bonus,
        }
        try:
            created = _INSERT_TOPUP.first(self._connection, **values)
        except IntegrityViolation as error:
            raise DuplicateIdempotencyKey(idempotency_key) from error
        assert created is not None
        return int(created[0])


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
