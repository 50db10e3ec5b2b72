"""Payments taken at processors (for orders and auto top-ups) and processors' webhook
events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from saldo.adapters.db import tables as t
from saldo.services.ports import DuplicateIdempotencyKey
from saldo.services.ports.payments import PaymentPurpose, PaymentStatus, StoredPayment

_P = t.payments

# A payment is first asked about again a minute after it was recorded, whatever becomes of
# the request that recorded it.
FIRST_CHECK = timedelta(minutes=1)


class SqlPaymentRepository:
    def __init__(self, connection: Connection, *, operator_id: int | None) -> None:
        self._connection = connection
        self._scope = operator_id

    def installation_id(self) -> str | None:
        return self._connection.execute(select(t.installation.c.installation_id)).scalar()

    def keep_installation_id(self, candidate: str) -> None:
        # ON CONFLICT DO NOTHING: of two processes starting at once, the first id stays.
        dialect = postgresql if self._connection.dialect.name == "postgresql" else sqlite
        self._connection.execute(
            dialect.insert(t.installation)
            .values(one=1, installation_id=candidate)
            .on_conflict_do_nothing(index_elements=["one"])
        )

    def _select(self) -> Select[Any]:
        query = select(_P, t.lines.c.msisdn).join(t.lines, t.lines.c.id == _P.c.line_id)
        if self._scope is not None:
            query = query.where(_P.c.operator_id == self._scope)
        return query

    def add(
        self,
        *,
        operator_id: int,
        line_id: int,
        purpose: PaymentPurpose,
        order_id: int | None,
        provider: str,
        idempotency_key: str,
        amount: int,
        currency: str,
        now: datetime,
    ) -> int:
        try:
            with self._connection.begin_nested():
                return int(
                    self._connection.execute(
                        insert(_P)
                        .values(
                            operator_id=operator_id,
                            line_id=line_id,
                            purpose=purpose.value,
                            order_id=order_id,
                            provider=provider,
                            idempotency_key=idempotency_key,
                            status=PaymentStatus.PENDING.value,
                            amount=amount,
                            currency=currency,
                            checks=0,
                            next_check_at=now + FIRST_CHECK,
                            created_at=now,
                            updated_at=now,
                        )
                        .returning(_P.c.id)
                    ).scalar_one()
                )
        except IntegrityError as error:
            raise DuplicateIdempotencyKey(idempotency_key) from error

    def get(self, payment_id: int) -> StoredPayment | None:
        return self._one(self._select().where(_P.c.id == payment_id))

    def get_by_key(
        self, *, operator_id: int, provider: str, idempotency_key: str
    ) -> StoredPayment | None:
        return self._one(
            self._select().where(
                _P.c.operator_id == operator_id,
                _P.c.provider == provider,
                _P.c.idempotency_key == idempotency_key,
            )
        )

    def get_by_reference(self, *, provider: str, reference: str) -> StoredPayment | None:
        return self._one(
            self._select().where(
                _P.c.provider == provider,
                _P.c.reference == reference,
            )
        )

    def _one(self, query: Select[Any]) -> StoredPayment | None:
        row = self._connection.execute(query).first()
        return None if row is None else _payment(row)

    def for_order(self, order_id: int) -> list[StoredPayment]:
        rows = self._connection.execute(
            self._select().where(_P.c.order_id == order_id).order_by(_P.c.id)
        )
        return [_payment(row) for row in rows]

    def pending(self, *, purpose: PaymentPurpose, limit: int) -> list[StoredPayment]:
        rows = self._connection.execute(
            self._select()
            .where(_P.c.purpose == purpose.value, _P.c.status == PaymentStatus.PENDING.value)
            .order_by(_P.c.id)
            .limit(limit)
        )
        return [_payment(row) for row in rows]

    def pending_auto_topup(self, line_id: int) -> StoredPayment | None:
        return self._one(
            self._select().where(
                _P.c.line_id == line_id,
                _P.c.purpose == PaymentPurpose.AUTO_TOPUP.value,
                _P.c.status == PaymentStatus.PENDING.value,
            )
        )

    def link_topup(self, payment_id: int, *, topup_id: int, now: datetime) -> None:
        self._connection.execute(
            update(_P).where(_P.c.id == payment_id).values(topup_id=topup_id, updated_at=now)
        )

    def attach_reference(
        self, payment_id: int, *, reference: str, card_last4: str | None, now: datetime
    ) -> None:
        self._connection.execute(
            update(_P)
            .where(_P.c.id == payment_id)
            .values(reference=reference, card_last4=card_last4, updated_at=now)
        )

    def finish(
        self,
        payment_id: int,
        *,
        status: PaymentStatus,
        decline_code: str | None,
        now: datetime,
    ) -> bool:
        if not status.finished:
            raise ValueError("finish records a succeeded or failed payment")
        changed = self._connection.execute(
            update(_P)
            .where(
                _P.c.id == payment_id,
                _P.c.status == PaymentStatus.PENDING.value,
            )
            .values(
                status=status.value, decline_code=decline_code, next_check_at=None, updated_at=now
            )
        ).rowcount
        return bool(changed)

    def schedule_check(self, payment_id: int, *, at: datetime | None, checks: int) -> None:
        self._connection.execute(
            update(_P).where(_P.c.id == payment_id).values(next_check_at=at, checks=checks)
        )

    def due_checks(
        self, *, purpose: PaymentPurpose, now: datetime, limit: int
    ) -> list[StoredPayment]:
        rows = self._connection.execute(
            self._select()
            .where(
                _P.c.purpose == purpose.value,
                _P.c.status == PaymentStatus.PENDING.value,
                _P.c.next_check_at <= now,
            )
            .order_by(_P.c.next_check_at, _P.c.id)
            .limit(limit)
        )
        return [_payment(row) for row in rows]

    def flag_refund(self, payment_id: int, *, now: datetime) -> None:
        self._connection.execute(
            update(_P).where(_P.c.id == payment_id).values(refund_due=True, updated_at=now)
        )

    def refunds_due(self, *, limit: int, line_id: int | None = None) -> list[StoredPayment]:
        query = self._select().where(
            _P.c.refund_due.is_(True),
            _P.c.refunded_at.is_(None),
        )
        if line_id is not None:
            query = query.where(_P.c.line_id == line_id)
        rows = self._connection.execute(query.order_by(_P.c.id).limit(limit))
        return [_payment(row) for row in rows]

    def mark_refunded(self, payment_id: int, *, now: datetime) -> bool:
        changed = self._connection.execute(
            update(_P)
            .where(_P.c.id == payment_id, _P.c.refunded_at.is_(None))
            .values(refunded_at=now, updated_at=now)
        ).rowcount
        return bool(changed)

    def record_event(
        self,
        *,
        provider: str,
        event_id: str,
        reference: str,
        status: PaymentStatus | None,
        now: datetime,
    ) -> bool:
        try:
            with self._connection.begin_nested():
                self._connection.execute(
                    insert(t.payment_events).values(
                        provider=provider,
                        event_id=event_id,
                        reference=reference,
                        status=None if status is None else status.value,
                        received_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True


def _payment(row: Row[Any]) -> StoredPayment:
    return StoredPayment(
        id=row.id,
        operator_id=row.operator_id,
        line_id=row.line_id,
        msisdn=row.msisdn,
        purpose=PaymentPurpose(row.purpose),
        order_id=row.order_id,
        topup_id=row.topup_id,
        provider=row.provider,
        idempotency_key=row.idempotency_key,
        processor_key=row.processor_key,
        reference=row.reference,
        status=PaymentStatus(row.status),
        amount=row.amount,
        currency=row.currency,
        decline_code=row.decline_code,
        card_last4=row.card_last4,
        checks=row.checks,
        next_check_at=row.next_check_at,
        refund_due=row.refund_due,
        refunded_at=row.refunded_at,
        created_at=row.created_at,
    )
