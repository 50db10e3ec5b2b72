"""Orders with their quote and history, and lines' auto-renewal settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, insert, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from saldo.adapters.db import tables as t
from saldo.adapters.db.prepared import Prepared
from saldo.domain.orders import OrderState
from saldo.services.ports import DuplicateIdempotencyKey
from saldo.services.ports.auto_payments import AutoRenewal
from saldo.services.ports.orders import OrderEvent, OrderTerms, StoredOrder

_TERMS = (
    "plan_code",
    "months",
    "free_months",
    "promotion",
    "currency",
    "gross",
    "discount",
    "price",
    "tax_rate",
    "net",
    "tax",
    "pay_in",
    "method",
    "market_rate",
    "rate",
    "rate_source",
    "rate_fetched_at",
    "spread",
    "converted",
    "fee",
    "total",
)
# What change_state may store beside the state.
_STATE_FIELDS = frozenset({"paid_at", "fulfilled_at", "receipt_number", "valid_until_after"})


class SqlOrderRepository:
    def __init__(self, connection: Connection, *, operator_id: int | None) -> None:
        self._connection = connection
        self._scope = operator_id

    def _select(self) -> Select[Any]:
        query = select(t.orders, t.lines.c.msisdn).join(t.lines, t.lines.c.id == t.orders.c.line_id)
        if self._scope is not None:
            query = query.where(t.orders.c.operator_id == self._scope)
        return query

    def add(
        self,
        *,
        operator_id: int,
        line_id: int,
        terms: OrderTerms,
        channel: str,
        placed_by: str,
        email: str | None,
        idempotency_key: str,
        request_fingerprint: str,
        expires_at: datetime,
        now: datetime,
    ) -> int:
        if self._scope is not None and operator_id != self._scope:
            raise PermissionError("this unit of work is scoped to another operator")
        values = {name: getattr(terms, name) for name in _TERMS}
        try:
            with self._connection.begin_nested():
                order_id = int(
                    self._connection.execute(
                        insert(t.orders)
                        .values(
                            operator_id=operator_id,
                            line_id=line_id,
                            state=OrderState.DRAFT.value,
                            addon_codes=",".join(terms.addon_codes),
                            channel=channel,
                            placed_by=placed_by,
                            email=email,
                            idempotency_key=idempotency_key,
                            request_fingerprint=request_fingerprint,
                            expires_at=expires_at,
                            created_at=now,
                            updated_at=now,
                            **values,
                        )
                        .returning(t.orders.c.id)
                    ).scalar_one()
                )
        except IntegrityError as error:
            raise DuplicateIdempotencyKey(idempotency_key) from error
        self._append(order_id, None, OrderState.DRAFT, "placed", now)
        return order_id

    def get(self, order_id: int, *, for_update: bool = False) -> StoredOrder | None:
        query = self._select().where(t.orders.c.id == order_id)
        if for_update:
            query = query.with_for_update(of=t.orders)
        row = self._connection.execute(query).first()
        return None if row is None else _order(row)

    def get_by_key(self, *, operator_id: int, idempotency_key: str) -> StoredOrder | None:
        row = self._connection.execute(
            self._select().where(
                t.orders.c.operator_id == operator_id,
                t.orders.c.idempotency_key == idempotency_key,
            )
        ).first()
        return None if row is None else _order(row)

    def recent(
        self,
        *,
        line_id: int | None = None,
        state: OrderState | None = None,
        limit: int = 50,
    ) -> list[StoredOrder]:
        query = self._select()
        if line_id is not None:
            query = query.where(t.orders.c.line_id == line_id)
        if state is not None:
            query = query.where(t.orders.c.state == state.value)
        query = query.order_by(t.orders.c.id.desc()).limit(limit)
        return [_order(row) for row in self._connection.execute(query)]

    def change_state(
        self,
        order_id: int,
        *,
        from_states: Sequence[OrderState],
        to_state: OrderState,
        reason: str,
        now: datetime,
        fields: Mapping[str, Any] | None = None,
    ) -> bool:
        extra = dict(fields or {})
        unknown = set(extra) - _STATE_FIELDS
        if unknown:
            raise ValueError(f"change_state cannot store {sorted(unknown)}")
        query = (
            update(t.orders)
            .where(
                t.orders.c.id == order_id,
                t.orders.c.state.in_([state.value for state in from_states]),
            )
            .values(state=to_state.value, updated_at=now, **extra)
            .returning(t.orders.c.state)
        )
        if self._scope is not None:
            query = query.where(t.orders.c.operator_id == self._scope)
        # The row lock makes the state read here the one the update replaces.
        previous = self._connection.execute(
            select(t.orders.c.state).where(t.orders.c.id == order_id).with_for_update()
        ).scalar_one_or_none()
        if self._connection.execute(query).first() is None:
            return False
        assert previous is not None
        self._append(order_id, OrderState(previous), to_state, reason, now)
        return True

    def _append(
        self,
        order_id: int,
        from_state: OrderState | None,
        to_state: OrderState,
        reason: str,
        now: datetime,
    ) -> None:
        self._connection.execute(
            insert(t.order_events).values(
                order_id=order_id,
                from_state=None if from_state is None else from_state.value,
                to_state=to_state.value,
                reason=reason,
                created_at=now,
            )
        )

    def history(self, order_id: int) -> list[OrderEvent]:
        rows = self._connection.execute(
            select(
                t.order_events.c.from_state,
                t.order_events.c.to_state,
                t.order_events.c.reason,
                t.order_events.c.created_at,
            )
            .where(t.order_events.c.order_id == order_id)
            .order_by(t.order_events.c.id)
        )
        return [
            OrderEvent(
                from_state=None if row.from_state is None else OrderState(row.from_state),
                to_state=OrderState(row.to_state),
                reason=row.reason,
                created_at=row.created_at,
            )
            for row in rows
        ]

    def due_expiry(self, *, now: datetime, limit: int) -> list[int]:
        query = (
            select(t.orders.c.id)
            .where(
                t.orders.c.state.in_([OrderState.DRAFT.value, OrderState.AWAITING_PAYMENT.value]),
                t.orders.c.expires_at <= now,
            )
            .order_by(t.orders.c.expires_at)
            .limit(limit)
        )
        if self._scope is not None:
            query = query.where(t.orders.c.operator_id == self._scope)
        return [int(order_id) for order_id in self._connection.execute(query).scalars()]


def _order(row: Row[Any]) -> StoredOrder:
    terms = OrderTerms(
        addon_codes=tuple(code for code in row.addon_codes.split(",") if code),
        **{name: getattr(row, name) for name in _TERMS},
    )
    return StoredOrder(
        id=row.id,
        operator_id=row.operator_id,
        line_id=row.line_id,
        msisdn=row.msisdn,
        state=OrderState(row.state),
        terms=terms,
        channel=row.channel,
        placed_by=row.placed_by,
        email=row.email,
        request_fingerprint=row.request_fingerprint,
        expires_at=row.expires_at,
        created_at=row.created_at,
        paid_at=row.paid_at,
        fulfilled_at=row.fulfilled_at,
        receipt_number=row.receipt_number,
        valid_until_after=row.valid_until_after,
    )


# A line's auto-renewal, on every line page: prepared, compiled once.
_auto_renewal = select(t.auto_renewals).where(t.auto_renewals.c.line_id == bindparam("line_id"))
_AUTO_RENEWAL = {
    False: Prepared(_auto_renewal),
    True: Prepared(_auto_renewal.where(t.auto_renewals.c.operator_id == bindparam("scope"))),
}


class SqlAutoRenewalRepository:
    def __init__(self, connection: Connection, *, operator_id: int | None) -> None:
        self._connection = connection
        self._scope = operator_id

    def put(self, setting: AutoRenewal, *, now: datetime) -> None:
        if self._scope is not None and setting.operator_id != self._scope:
            raise PermissionError("this unit of work is scoped to another operator")
        values = {
            "operator_id": setting.operator_id,
            "plan_code": setting.plan_code,
            "provider": setting.provider,
            "token": setting.token,
            "fallback_to_balance": setting.fallback_to_balance,
            "days_before": setting.days_before,
            "enabled": setting.enabled,
            "failures": setting.failures,
            "next_attempt_at": setting.next_attempt_at,
            "last_order_id": setting.last_order_id,
            "email": setting.email,
            "updated_at": now,
        }
        changed = self._connection.execute(
            update(t.auto_renewals)
            .where(t.auto_renewals.c.line_id == setting.line_id)
            .values(**values)
        ).rowcount
        if not changed:
            self._connection.execute(
                insert(t.auto_renewals).values(line_id=setting.line_id, **values)
            )

    def get(self, line_id: int) -> AutoRenewal | None:
        if self._scope is None:
            row = _AUTO_RENEWAL[False].first(self._connection, line_id=line_id)
        else:
            row = _AUTO_RENEWAL[True].first(self._connection, line_id=line_id, scope=self._scope)
        if row is None:
            return None
        return AutoRenewal(
            line_id=row.line_id,
            operator_id=row.operator_id,
            plan_code=row.plan_code,
            provider=row.provider,
            token=row.token,
            fallback_to_balance=row.fallback_to_balance,
            days_before=row.days_before,
            enabled=row.enabled,
            failures=row.failures,
            next_attempt_at=row.next_attempt_at,
            last_order_id=row.last_order_id,
            email=row.email,
        )

    def record_attempt(
        self,
        line_id: int,
        *,
        failures: int,
        next_attempt_at: datetime | None,
        last_order_id: int | None,
        now: datetime,
    ) -> None:
        self._connection.execute(
            update(t.auto_renewals)
            .where(t.auto_renewals.c.line_id == line_id)
            .values(
                failures=failures,
                next_attempt_at=next_attempt_at,
                last_order_id=last_order_id,
                updated_at=now,
            )
        )

    def due_numbers(
        self, *, now: datetime, horizon: datetime, limit: int, after_line_id: int = 0
    ) -> list[tuple[int, str]]:
        query = (
            select(t.auto_renewals.c.line_id, t.lines.c.msisdn)
            .join(t.lines, t.lines.c.id == t.auto_renewals.c.line_id)
            .where(
                t.auto_renewals.c.enabled.is_(True),
                t.auto_renewals.c.line_id > after_line_id,
                t.lines.c.state != "recycled",
                or_(
                    t.auto_renewals.c.next_attempt_at <= now,
                    and_(
                        t.auto_renewals.c.next_attempt_at.is_(None),
                        t.lines.c.valid_until <= horizon,
                    ),
                ),
            )
            .order_by(t.auto_renewals.c.line_id)
            .limit(limit)
        )
        if self._scope is not None:
            query = query.where(t.auto_renewals.c.operator_id == self._scope)
        return [(int(line_id), str(msisdn)) for line_id, msisdn in self._connection.execute(query)]
