"""A line's history read back: its buckets' ledger entries in a window, grouped by
transaction, with what each event's own table says about it; its payments' refunds; its
main balance at a moment; the last plan it bought.

The ledger is read through the line's buckets (``accounts.line_id``, then the entries'
``account_id``, both indexed), never by ``ledger_transactions.line_id``, which has no index
(migration 0009). The details of each kind of event are read in one query per kind, by id."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.engine import Connection, Row

from saldo.adapters.db import tables as t
from saldo.adapters.db.prepared import Prepared
from saldo.services.ports.history import (
    BucketChange,
    EventDetail,
    LedgerMovement,
    PlanBought,
)

_E, _T, _A = t.ledger_entries, t.ledger_transactions, t.accounts
_VOUCHER_KEY = "~voucher:"


def _scoped_to(query: Select[Any], column: Any, *, scoped: bool) -> Select[Any]:
    return query.where(column == bindparam("scope")) if scoped else query


# The last plan bought, on every line page: prepared, compiled once (adapters/db/prepared.py).
_last_purchase = (
    select(
        t.plan_purchases.c.plan_code,
        t.plan_purchases.c.price,
        t.plan_purchases.c.currency,
        t.plan_purchases.c.months,
        t.plan_purchases.c.created_at,
    )
    .where(
        t.plan_purchases.c.line_id == bindparam("line_id"),
        t.plan_purchases.c.created_at <= bindparam("at"),
    )
    .order_by(t.plan_purchases.c.created_at.desc(), t.plan_purchases.c.id.desc())
    .limit(1)
)
_LAST_PURCHASE = {
    scoped: Prepared(_scoped_to(_last_purchase, t.plan_purchases.c.operator_id, scoped=scoped))
    for scoped in (False, True)
}
_last_order = (
    select(
        t.orders.c.plan_code,
        t.orders.c.addon_codes,
        t.orders.c.price,
        t.orders.c.currency,
        t.orders.c.months,
        t.orders.c.fulfilled_at,
    )
    .where(
        t.orders.c.line_id == bindparam("line_id"),
        t.orders.c.fulfilled_at.is_not(None),
        t.orders.c.fulfilled_at <= bindparam("at"),
    )
    .order_by(t.orders.c.fulfilled_at.desc(), t.orders.c.id.desc())
    .limit(1)
)
_LAST_ORDER = {
    scoped: Prepared(_scoped_to(_last_order, t.orders.c.operator_id, scoped=scoped))
    for scoped in (False, True)
}


class SqlHistoryRepository:
    """A line's history. ``operator_id`` scopes it to one operator, as the unit of work is."""

    def __init__(self, connection: Connection, *, operator_id: int | None) -> None:
        self._connection = connection
        self._scope = operator_id

    def _scoped(self, query: Select[Any], column: Any) -> Select[Any]:
        return query if self._scope is None else query.where(column == self._scope)

    def movements(self, *, line_id: int, since: datetime, until: datetime) -> list[LedgerMovement]:
        query = self._scoped(
            select(
                _T.c.id,
                _T.c.event_type,
                _T.c.event_id,
                _T.c.created_at,
                _T.c.memo,
                _A.c.kind,
                _A.c.unit,
                _E.c.amount,
                _E.c.balance_after,
            )
            .select_from(
                _A.join(_E, _E.c.account_id == _A.c.id).join(_T, _T.c.id == _E.c.transaction_id)
            )
            .where(_A.c.line_id == line_id, _T.c.created_at >= since, _T.c.created_at < until)
            .order_by(_T.c.created_at, _T.c.id, _E.c.id),
            _A.c.operator_id,
        )
        heads: dict[int, tuple[str, int, datetime, str | None]] = {}
        changes: dict[int, list[BucketChange]] = defaultdict(list)
        for row in self._connection.execute(query):
            heads.setdefault(row.id, (row.event_type, row.event_id, row.created_at, row.memo))
            changes[row.id].append(
                BucketChange(
                    kind=row.kind, unit=row.unit, amount=row.amount, balance_after=row.balance_after
                )
            )
        ids: dict[str, set[int]] = defaultdict(set)
        for event_type, event_id, _, _ in heads.values():
            ids[event_type].add(event_id)
        details = self._details(ids)
        found = [
            LedgerMovement(
                transaction_id=transaction_id,
                event_type=event_type,
                event_id=event_id,
                created_at=created_at,
                memo=memo,
                changes=tuple(changes[transaction_id]),
                detail=details.get((event_type, event_id), EventDetail()),
            )
            for transaction_id, (event_type, event_id, created_at, memo) in heads.items()
        ]
        found += self._refunds(line_id=line_id, since=since, until=until)
        found.sort(key=lambda movement: (movement.created_at, movement.transaction_id))
        return found

    def _details(self, ids: dict[str, set[int]]) -> dict[tuple[str, int], EventDetail]:
        details: dict[tuple[str, int], EventDetail] = {}
        topups, vouchers = t.topups, t.vouchers
        voucher_topups: dict[int, int] = {}
        for row in self._fetch(
            ids["topup"],
            select(
                topups.c.id,
                topups.c.amount,
                topups.c.currency,
                topups.c.channel,
                topups.c.idempotency_key,
            ).where(topups.c.id.in_(sorted(ids["topup"]))),
        ):
            details["topup", row.id] = EventDetail(
                price=row.amount, currency=row.currency, channel=row.channel
            )
            # A voucher's top-up carries Saldo's own key for it (services.idempotency).
            if row.idempotency_key.startswith(_VOUCHER_KEY):
                voucher_topups[int(row.idempotency_key.removeprefix(_VOUCHER_KEY))] = row.id
        for row in self._fetch(
            set(voucher_topups),
            select(vouchers.c.id, vouchers.c.serial).where(
                vouchers.c.id.in_(sorted(voucher_topups))
            ),
        ):
            key = ("topup", voucher_topups[row.id])
            details[key] = replace(details[key], code=row.serial)
        purchases = t.plan_purchases
        for row in self._fetch(
            ids["plan_purchase"],
            select(
                purchases.c.id,
                purchases.c.plan_code,
                purchases.c.price,
                purchases.c.currency,
                purchases.c.channel,
            ).where(purchases.c.id.in_(sorted(ids["plan_purchase"]))),
        ):
            details["plan_purchase", row.id] = EventDetail(
                price=row.price, currency=row.currency, channel=row.channel, code=row.plan_code
            )
        orders = t.orders
        for row in self._fetch(
            ids["order"],
            select(
                orders.c.id,
                orders.c.plan_code,
                orders.c.addon_codes,
                orders.c.price,
                orders.c.currency,
                orders.c.channel,
                orders.c.receipt_number,
            ).where(orders.c.id.in_(sorted(ids["order"]))),
        ):
            details["order", row.id] = EventDetail(
                price=row.price,
                currency=row.currency,
                channel=row.channel,
                code=row.plan_code,
                receipt_number=row.receipt_number,
                note=row.addon_codes or None,
            )
        adjustments = t.adjustments
        for row in self._fetch(
            ids["adjustment"],
            select(adjustments.c.id, adjustments.c.reason, adjustments.c.actor).where(
                adjustments.c.id.in_(sorted(ids["adjustment"]))
            ),
        ):
            details["adjustment", row.id] = EventDetail(channel="staff", note=row.reason)
        usage = t.usage_records
        for row in self._fetch(
            ids["usage"],
            select(
                usage.c.id,
                usage.c.service,
                usage.c.billable,
                usage.c.money,
                usage.c.currency,
                usage.c.zone,
            ).where(usage.c.id.in_(sorted(ids["usage"]))),
        ):
            details["usage", row.id] = EventDetail(
                price=row.money,
                currency=row.currency,
                channel="network",
                code=row.service,
                note=row.zone,
                quantity=row.billable,
            )
        sessions = t.charging_sessions
        for row in self._fetch(
            ids["charging"],
            select(sessions.c.id, sessions.c.service, sessions.c.used).where(
                sessions.c.id.in_(sorted(ids["charging"]))
            ),
        ):
            details["charging", row.id] = EventDetail(
                channel="network", code=row.service, quantity=row.used
            )
        return details

    def _fetch(self, wanted: set[int], query: Select[Any]) -> Iterable[Row[Any]]:
        """The rows of ``query`` (the details of the events ``wanted``); none asked, none read."""
        return self._connection.execute(query) if wanted else ()

    def _refunds(self, *, line_id: int, since: datetime, until: datetime) -> list[LedgerMovement]:
        payments, orders = t.payments, t.orders
        query = self._scoped(
            select(
                payments.c.id,
                payments.c.amount,
                payments.c.currency,
                payments.c.provider,
                payments.c.refunded_at,
                orders.c.plan_code,
            )
            .select_from(payments.outerjoin(orders, orders.c.id == payments.c.order_id))
            .where(
                payments.c.line_id == line_id,
                payments.c.refunded_at >= since,
                payments.c.refunded_at < until,
            ),
            payments.c.operator_id,
        )
        return [
            LedgerMovement(
                # Not a ledger transaction: ordered after any transaction of the same moment.
                transaction_id=1 << 62 | row.id,
                event_type="refund",
                event_id=row.id,
                created_at=row.refunded_at,
                memo=None,
                changes=(),
                detail=EventDetail(
                    price=row.amount,
                    currency=row.currency,
                    channel=row.provider,
                    code=row.plan_code,
                ),
            )
            for row in self._connection.execute(query)
        ]

    def main_balance_at(self, *, line_id: int, at: datetime) -> int:
        query = self._scoped(
            select(func.coalesce(func.sum(_E.c.amount), 0))
            .select_from(
                _A.join(_E, _E.c.account_id == _A.c.id).join(_T, _T.c.id == _E.c.transaction_id)
            )
            .where(_A.c.line_id == line_id, _A.c.kind == "main", _T.c.created_at < at),
            _A.c.operator_id,
        )
        return int(self._connection.execute(query).scalar_one())

    def last_plan(self, *, line_id: int, at: datetime) -> PlanBought | None:
        scoped = self._scope is not None
        params: dict[str, Any] = {"line_id": line_id, "at": at}
        if scoped:
            params["scope"] = self._scope
        bought = _LAST_PURCHASE[scoped].first(self._connection, **params)
        ordered = _LAST_ORDER[scoped].first(self._connection, **params)
        found = []
        if bought is not None:
            found.append(
                PlanBought(
                    plan_code=bought.plan_code,
                    price=bought.price,
                    currency=bought.currency,
                    months=bought.months,
                    addon_codes=(),
                    bought_at=bought.created_at,
                )
            )
        if ordered is not None:
            found.append(
                PlanBought(
                    plan_code=ordered.plan_code,
                    price=ordered.price,
                    currency=ordered.currency,
                    months=ordered.months,
                    addon_codes=tuple(code for code in ordered.addon_codes.split(",") if code),
                    bought_at=ordered.fulfilled_at,
                )
            )
        return max(found, key=lambda plan: plan.bought_at, default=None)

    def spent_on_plans(self, *, line_id: int, since: datetime, until: datetime) -> int:
        purchases, orders = t.plan_purchases, t.orders
        bought = self._scoped(
            select(func.coalesce(func.sum(purchases.c.price), 0)).where(
                purchases.c.line_id == line_id,
                purchases.c.created_at >= since,
                purchases.c.created_at < until,
            ),
            purchases.c.operator_id,
        )
        ordered = self._scoped(
            select(func.coalesce(func.sum(orders.c.price), 0)).where(
                orders.c.line_id == line_id,
                orders.c.fulfilled_at >= since,
                orders.c.fulfilled_at < until,
            ),
            orders.c.operator_id,
        )
        return sum(int(self._connection.execute(query).scalar_one()) for query in (bought, ordered))
