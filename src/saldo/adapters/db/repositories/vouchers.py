"""Voucher batches, vouchers (PINs kept as keyed hashes) and PIN attempts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, literal, or_, select, update
from sqlalchemy.engine import Connection

from saldo.adapters.db import tables as t
from saldo.adapters.db.driver import execute_many, stored_moment
from saldo.adapters.db.prepared import Prepared
from saldo.adapters.db.types import TZDateTime
from saldo.domain.vouchers import VoucherState
from saldo.services.ports import ClaimedVoucher, VoucherBatch, VoucherStatus

_CLAIM = Prepared(
    update(t.vouchers)
    .where(
        t.vouchers.c.pin_hash == bindparam("pin_hash"),
        t.vouchers.c.operator_id == bindparam("operator_id"),
        t.vouchers.c.state == VoucherState.ACTIVE.value,
        t.vouchers.c.expires_at > bindparam("now"),
    )
    .values(
        state=VoucherState.REDEEMED.value,
        redeemed_at=bindparam("now"),
        redeemed_line_id=bindparam("line_id"),
    )
    .returning(t.vouchers.c.id, t.vouchers.c.serial, t.vouchers.c.value, t.vouchers.c.currency)
)
_STATUS = Prepared(
    select(
        t.vouchers.c.id, t.vouchers.c.operator_id, t.vouchers.c.state, t.vouchers.c.expires_at
    ).where(t.vouchers.c.pin_hash == bindparam("pin_hash"))
)
_LINK = Prepared(
    update(t.vouchers)
    .where(t.vouchers.c.id == bindparam("voucher_id"))
    .values(topup_id=bindparam("topup_id"))
)
_ATTEMPT = Prepared(
    insert(t.pin_attempts).values(
        operator_id=bindparam("operator_id"),
        line_id=bindparam("line_id"),
        succeeded=bindparam("succeeded"),
        created_at=bindparam("now"),
    )
)
_WRONG_SINCE = Prepared(
    select(t.pin_attempts.c.created_at).where(
        t.pin_attempts.c.line_id == bindparam("line_id"),
        t.pin_attempts.c.succeeded.is_(False),
        t.pin_attempts.c.created_at >= bindparam("since"),
    )
)


class SqlVoucherRepository:
    def __init__(self, connection: Connection, *, operator_id: int | None) -> None:
        self._connection = connection
        self._scope = operator_id

    def add_batch(
        self,
        *,
        operator_id: int,
        value: int,
        currency: str,
        expires_at: datetime,
        pin_hashes: Sequence[str],
        created_by: str,
        now: datetime,
    ) -> tuple[int, list[str]]:
        if self._scope is not None and operator_id != self._scope:
            raise PermissionError("this unit of work is scoped to another operator")
        batch_id = int(
            self._connection.execute(
                insert(t.voucher_batches)
                .values(
                    operator_id=operator_id,
                    value=value,
                    currency=currency,
                    count=len(pin_hashes),
                    expires_at=expires_at,
                    created_by=created_by,
                    created_at=now,
                )
                .returning(t.voucher_batches.c.id)
            ).scalar_one()
        )
        serials = [f"{batch_id:06d}-{number:07d}" for number in range(1, len(pin_hashes) + 1)]
        ends, moment = (
            stored_moment(self._connection, expires_at),
            stored_moment(self._connection, now),
        )
        active = VoucherState.ACTIVE.value
        execute_many(
            self._connection,
            "INSERT INTO vouchers (operator_id, batch_id, serial, pin_hash, value, currency, "
            "state, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (operator_id, batch_id, serial, pin_hash, value, currency, active, ends, moment)
                for serial, pin_hash in zip(serials, pin_hashes, strict=True)
            ],
        )
        return batch_id, serials

    def taken_pin_hashes(self, pin_hashes: Sequence[str]) -> set[str]:
        taken: set[str] = set()
        for start in range(0, len(pin_hashes), 500):
            chunk = pin_hashes[start : start + 500]
            rows = self._connection.execute(
                select(t.vouchers.c.pin_hash).where(t.vouchers.c.pin_hash.in_(chunk))
            )
            taken.update(row.pin_hash for row in rows)
        return taken

    def claim(
        self, *, pin_hash: str, operator_id: int, line_id: int, now: datetime
    ) -> ClaimedVoucher | None:
        row = _CLAIM.first(
            self._connection, pin_hash=pin_hash, operator_id=operator_id, line_id=line_id, now=now
        )
        if row is None:
            return None
        return ClaimedVoucher(id=row.id, serial=row.serial, value=row.value, currency=row.currency)

    def status(self, *, pin_hash: str) -> VoucherStatus | None:
        row = _STATUS.first(self._connection, pin_hash=pin_hash)
        if row is None:
            return None
        return VoucherStatus(
            id=row.id,
            operator_id=row.operator_id,
            state=VoucherState(row.state),
            expires_at=row.expires_at,
        )

    def link_topup(self, voucher_id: int, *, topup_id: int) -> None:
        _LINK.execute(self._connection, voucher_id=voucher_id, topup_id=topup_id)

    def mark_expired(self, voucher_id: int, *, now: datetime) -> None:
        self._connection.execute(
            update(t.vouchers)
            .where(
                t.vouchers.c.id == voucher_id,
                t.vouchers.c.state == VoucherState.ACTIVE.value,
                t.vouchers.c.expires_at <= now,
            )
            .values(state=VoucherState.EXPIRED.value)
        )

    def void_batch(self, batch_id: int, *, operator_id: int | None, now: datetime) -> int:
        batch = update(t.voucher_batches).where(t.voucher_batches.c.id == batch_id)
        first_time = func.coalesce(t.voucher_batches.c.voided_at, literal(now, TZDateTime()))
        voucher = update(t.vouchers).where(
            t.vouchers.c.batch_id == batch_id,
            t.vouchers.c.state == VoucherState.ACTIVE.value,
        )
        # The caller's operator narrows the unit of work's scope; it never widens it.
        for scope in (operator_id, self._scope):
            if scope is not None:
                batch = batch.where(t.voucher_batches.c.operator_id == scope)
                voucher = voucher.where(t.vouchers.c.operator_id == scope)
        found = self._connection.execute(batch.values(voided_at=first_time)).rowcount
        if not found:
            return -1
        return int(self._connection.execute(voucher.values(state=VoucherState.VOID.value)).rowcount)

    def batches(self, *, operator_id: int | None, now: datetime) -> list[VoucherBatch]:
        in_batch = t.vouchers.c.batch_id == t.voucher_batches.c.id
        redeemed = (
            select(func.count())
            .where(in_batch, t.vouchers.c.state == VoucherState.REDEEMED.value)
            .scalar_subquery()
        )
        expired = (
            select(func.count())
            .where(
                in_batch,
                or_(
                    t.vouchers.c.state == VoucherState.EXPIRED.value,
                    and_(
                        t.vouchers.c.state == VoucherState.ACTIVE.value,
                        t.vouchers.c.expires_at <= now,
                    ),
                ),
            )
            .scalar_subquery()
        )
        statement = select(
            t.voucher_batches.c.id,
            t.voucher_batches.c.operator_id,
            t.voucher_batches.c.value,
            t.voucher_batches.c.currency,
            t.voucher_batches.c.count.label("vouchers"),  # a row's own count() is a method
            t.voucher_batches.c.expires_at,
            t.voucher_batches.c.created_at,
            t.voucher_batches.c.voided_at,
            redeemed.label("redeemed"),
            expired.label("expired"),
        ).order_by(t.voucher_batches.c.id)
        for scope in (operator_id, self._scope):
            if scope is not None:
                statement = statement.where(t.voucher_batches.c.operator_id == scope)
        return [
            VoucherBatch(
                id=row.id,
                operator_id=row.operator_id,
                value=row.value,
                currency=row.currency,
                count=row.vouchers,
                expires_at=row.expires_at,
                created_at=row.created_at,
                voided_at=row.voided_at,
                redeemed=int(row.redeemed),
                expired=int(row.expired),
            )
            for row in self._connection.execute(statement)
        ]

    def record_attempt(
        self, *, operator_id: int, line_id: int, succeeded: bool, now: datetime
    ) -> None:
        _ATTEMPT.execute(
            self._connection,
            operator_id=operator_id,
            line_id=line_id,
            succeeded=succeeded,
            now=now,
        )

    def wrong_attempts_since(self, *, line_id: int, since: datetime) -> list[datetime]:
        rows = _WRONG_SINCE.rows(self._connection, line_id=line_id, since=since)
        return [row.created_at for row in rows]
