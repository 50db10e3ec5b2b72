"""Subscriber lines. Lookups by MSISDN read the line, its operator's spec hash and its main
bucket (or all its buckets) in one prepared statement."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    false,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Select

from saldo.adapters.db import tables as t
from saldo.adapters.db.driver import execute_many, fetch_all, stored_moment
from saldo.adapters.db.prepared import IntegrityViolation, Prepared
from saldo.adapters.db.repositories.operators import operator_for
from saldo.adapters.db.rows import buckets_of, line_of, stored_utc
from saldo.domain.buckets import BucketKind
from saldo.domain.lifecycle import LineState
from saldo.domain.lines import Line
from saldo.domain.operator import SimKind
from saldo.services.ports import LineRecord, LineWithBuckets, NumberTaken, ValidityWindow
from saldo.services.ports.lines import LineToAdd

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
    t.lines.c.email,
    t.lines.c.email_verified_at,
    t.lines.c.low_balance_threshold,
    t.lines.c.reminder_days,
)


# A line import's statements, handed to the driver with a tuple per row (``add_many``).
_ADD_LINES = (
    "INSERT INTO lines (operator_id, msisdn, iccid, sim_kind, language, state, activated_at, "
    "valid_until, state_changed_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _marks(values: Sequence[object]) -> str:
    """One placeholder per value, for ``IN (...)``."""
    return ", ".join("?" * len(values))


# The newest line with the number: the live one if any (only one may be live), else the
# latest recycled one, so that a recycled number is told apart from an unknown one.
_latest_line_id = (
    select(func.max(t.lines.c.id)).where(t.lines.c.msisdn == bindparam("msisdn")).scalar_subquery()
)


def _scoped(statement: Select[Any]) -> Select[Any]:
    return statement.where(t.lines.c.operator_id == bindparam("scope"))


_record = (
    select(*_LINE_COLUMNS, t.operators.c.spec_hash, t.accounts.c.id.label("main_bucket_id"))
    .select_from(
        t.lines.join(t.operators, t.operators.c.id == t.lines.c.operator_id).join(
            t.accounts,
            and_(t.accounts.c.line_id == t.lines.c.id, t.accounts.c.kind == BucketKind.MAIN.value),
        )
    )
    .where(t.lines.c.id == _latest_line_id)
)
# A top-up locks its line and checks its idempotency key in the same statement.
_record_with_topup = (
    _record.add_columns(t.topups.c.id.label("earlier_topup_id"))
    .outerjoin(
        t.topups,
        and_(
            t.topups.c.operator_id == t.lines.c.operator_id,
            t.topups.c.idempotency_key == bindparam("topup_key"),
        ),
    )
    .with_for_update(of=t.lines)
)
_RECORD = {
    (scoped, locked): Prepared(
        (_scoped(_record) if scoped else _record).with_for_update(of=t.lines)
        if locked
        else (_scoped(_record) if scoped else _record)
    )
    for scoped in (False, True)
    for locked in (False, True)
}
_RECORD_WITH_TOPUP = {
    scoped: Prepared(_scoped(_record_with_topup) if scoped else _record_with_topup)
    for scoped in (False, True)
}

# A line, its operator's spec hash and one of its buckets per row (NULLs when it has none):
# the rows ``lines_with_buckets`` reads.
WITH_BUCKETS_COLUMNS = (
    *_LINE_COLUMNS,
    t.operators.c.spec_hash,
    t.accounts.c.id.label("bucket_id"),
    t.accounts.c.kind.label("bucket_kind"),
    t.accounts.c.unit,
    t.accounts.c.balance,
    t.accounts.c.expires_at,
)

_with_buckets = (
    select(*WITH_BUCKETS_COLUMNS)
    .select_from(
        t.lines.join(t.operators, t.operators.c.id == t.lines.c.operator_id).outerjoin(
            t.accounts, t.accounts.c.line_id == t.lines.c.id
        )
    )
    .where(t.lines.c.id == _latest_line_id)
    .order_by(t.accounts.c.id)
)
_WITH_BUCKETS = {False: Prepared(_with_buckets), True: Prepared(_scoped(_with_buckets))}

_SET_VALIDITY = Prepared(
    update(t.lines)
    .where(t.lines.c.id == bindparam("line_id"))
    .values(
        valid_until=bindparam("valid_until"),
        state=bindparam("state"),
        state_changed_at=bindparam("now"),
    )
)

# Leaving the state column alone when it does not change spares the indexes that hold it.
_SET_VALID_UNTIL = Prepared(
    update(t.lines)
    .where(t.lines.c.id == bindparam("line_id"))
    .values(valid_until=bindparam("valid_until"))
)


def _in_window(window: ValidityWindow) -> ColumnElement[bool]:
    condition = t.lines.c.operator_id == window.operator_id
    if window.after is not None:
        condition = and_(condition, t.lines.c.valid_until > window.after)
    if window.up_to is not None:
        condition = and_(condition, t.lines.c.valid_until <= window.up_to)
    return condition


def _chosen(
    statement: Select[Any], *, windows: Sequence[ValidityWindow] | None, recycled: bool | None
) -> Select[Any]:
    """``statement`` keeping the lines in ``windows`` (and, with ``recycled`` True, those the
    worker recycled; with False, none of those)."""
    is_recycled = t.lines.c.state == LineState.RECYCLED.value
    if windows is not None:
        matching = or_(false(), *(_in_window(window) for window in windows))
        statement = statement.where(or_(matching, is_recycled) if recycled else matching)
    if recycled is False:
        statement = statement.where(~is_recycled)
    return statement


def lines_with_buckets(
    connection: Connection, rows: Sequence[Any]
) -> builtins.list[LineWithBuckets]:
    """The lines in ``rows`` (of WITH_BUCKETS_COLUMNS, each line's rows together), in the
    order they come, each with its operator and buckets."""
    grouped: dict[int, builtins.list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.id, []).append(row)
    return [_line_with_buckets(connection, group) for group in grouped.values()]


def _line_with_buckets(connection: Connection, rows: Sequence[Any]) -> LineWithBuckets:
    line = line_of(rows[0])
    return LineWithBuckets(
        line=line,
        operator=operator_for(connection, line.operator_id, rows[0].spec_hash),
        buckets=buckets_of(rows),
    )


class SqlLineRepository:
    def __init__(self, connection: Connection, *, operator_id: int | None) -> None:
        self._connection = connection
        self._scope = operator_id

    def _params(self, msisdn: str) -> dict[str, Any]:
        if self._scope is None:
            return {"msisdn": msisdn}
        return {"msisdn": msisdn, "scope": self._scope}

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

    def get_by_msisdn(
        self, msisdn: str, *, for_update: bool = False, topup_key: str | None = None
    ) -> LineRecord | None:
        params = self._params(msisdn)
        if topup_key is None:
            statement = _RECORD[(self._scope is not None, for_update)]
        else:
            assert for_update, "a top-up key is looked up only to top up, with the line locked"
            statement = _RECORD_WITH_TOPUP[self._scope is not None]
            params["topup_key"] = topup_key
        row = statement.first(self._connection, **params)
        if row is None:
            return None
        line = line_of(row)
        return LineRecord(
            line=line,
            operator=operator_for(self._connection, line.operator_id, row.spec_hash),
            main_bucket_id=row.main_bucket_id,
            earlier_topup_id=None if topup_key is None else row.earlier_topup_id,
        )

    def get_with_buckets(self, msisdn: str) -> LineWithBuckets | None:
        statement = _WITH_BUCKETS[self._scope is not None]
        rows = statement.rows(self._connection, **self._params(msisdn))
        if not rows:
            return None
        return _line_with_buckets(self._connection, rows)

    def list(
        self,
        *,
        operator_id: int | None = None,
        windows: Sequence[ValidityWindow] | None = None,
        recycled: bool | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Line]:
        statement = select(*_LINE_COLUMNS).order_by(t.lines.c.id).limit(limit).offset(offset)
        for wanted in (operator_id, self._scope):
            if wanted is not None:
                statement = statement.where(t.lines.c.operator_id == wanted)
        statement = _chosen(statement, windows=windows, recycled=recycled)
        return [line_of(row) for row in self._connection.execute(statement)]

    def set_validity(
        self, line_id: int, *, valid_until: datetime, state: LineState | None, now: datetime
    ) -> None:
        if state is None:
            _SET_VALID_UNTIL.execute(self._connection, line_id=line_id, valid_until=valid_until)
            return
        _SET_VALIDITY.execute(
            self._connection, line_id=line_id, valid_until=valid_until, state=state, now=now
        )

    def due(
        self,
        *,
        state: LineState,
        operator_id: int,
        up_to: datetime,
        limit: int,
        start_after: tuple[datetime, int] | None = None,
    ) -> builtins.list[Line]:
        statement = (
            select(*_LINE_COLUMNS)
            .where(
                t.lines.c.state == state.value,
                t.lines.c.operator_id == operator_id,
                t.lines.c.valid_until <= up_to,
            )
            .order_by(t.lines.c.valid_until, t.lines.c.id)
            .limit(limit)
        )
        if start_after is not None:
            statement = statement.where(
                tuple_(t.lines.c.valid_until, t.lines.c.id) > tuple_(*start_after)
            )
        if self._scope is not None:
            statement = statement.where(t.lines.c.operator_id == self._scope)
        return [line_of(row) for row in self._connection.execute(statement)]

    def expiring(
        self,
        *,
        operator_id: int,
        after: datetime,
        up_to: datetime,
        limit: int,
        start_after: tuple[datetime, int] | None = None,
    ) -> builtins.list[Line]:
        statement = (
            select(*_LINE_COLUMNS)
            .where(
                t.lines.c.state == LineState.ACTIVE.value,
                t.lines.c.operator_id == operator_id,
                t.lines.c.valid_until > after,
                t.lines.c.valid_until <= up_to,
            )
            .order_by(t.lines.c.valid_until, t.lines.c.id)
            .limit(limit)
        )
        if start_after is not None:
            statement = statement.where(
                tuple_(t.lines.c.valid_until, t.lines.c.id) > tuple_(*start_after)
            )
        if self._scope is not None:
            statement = statement.where(t.lines.c.operator_id == self._scope)
        return [line_of(row) for row in self._connection.execute(statement)]

    def record_event(
        self,
        *,
        operator_id: int,
        line_id: int,
        from_state: LineState,
        to_state: LineState,
        reason: str,
        effective_at: datetime,
        now: datetime,
    ) -> None:
        self._connection.execute(
            insert(t.line_events).values(
                operator_id=operator_id,
                line_id=line_id,
                from_state=from_state.value,
                to_state=to_state.value,
                reason=reason,
                effective_at=effective_at,
                recorded_at=now,
            )
        )

    def events(self, line_id: int) -> builtins.list[tuple[LineState, LineState, str, datetime]]:
        rows = self._connection.execute(
            select(
                t.line_events.c.from_state,
                t.line_events.c.to_state,
                t.line_events.c.reason,
                t.line_events.c.effective_at,
            )
            .where(t.line_events.c.line_id == line_id)
            .order_by(t.line_events.c.id)
        )
        return [(LineState(a), LineState(b), str(r), at) for a, b, r, at in rows]

    def set_low_balance_threshold(self, line_id: int, *, threshold: int | None) -> None:
        self._connection.execute(
            update(t.lines).where(t.lines.c.id == line_id).values(low_balance_threshold=threshold)
        )

    def set_email(
        self, line_id: int, *, email: str | None, verified_at: datetime | None = None
    ) -> None:
        self._connection.execute(
            update(t.lines)
            .where(t.lines.c.id == line_id)
            .values(email=email, email_verified_at=None if email is None else verified_at)
        )

    def set_reminder_days(self, line_id: int, *, days: tuple[int, ...] | None) -> None:
        stored = None if days is None else ",".join(str(day) for day in days)
        self._connection.execute(
            update(t.lines).where(t.lines.c.id == line_id).values(reminder_days=stored)
        )

    def set_language(self, line_id: int, *, language: str) -> None:
        self._connection.execute(
            update(t.lines).where(t.lines.c.id == line_id).values(language=language)
        )

    def last_recycled_at(self, msisdn: str) -> datetime | None:
        found: datetime | None = self._connection.execute(
            select(func.max(t.lines.c.state_changed_at)).where(
                t.lines.c.msisdn == msisdn, t.lines.c.state == LineState.RECYCLED.value
            )
        ).scalar_one_or_none()
        return found

    def last_recycled_at_each(self, msisdns: Sequence[str]) -> dict[str, datetime]:
        if not msisdns:
            return {}
        rows = fetch_all(
            self._connection,
            f"SELECT msisdn, max(state_changed_at) FROM lines WHERE msisdn IN ({_marks(msisdns)}) "
            "AND state = 'recycled' GROUP BY msisdn",
            msisdns,
        )
        return {msisdn: moment for msisdn, at in rows if (moment := stored_utc(at)) is not None}

    def live_taken(
        self, *, msisdns: Sequence[str], iccids: Sequence[str]
    ) -> tuple[set[str], set[str]]:
        return self._live("msisdn", msisdns), self._live("iccid", iccids)

    def _live(self, column: str, values: Sequence[str]) -> set[str]:
        if not values:
            return set()
        found = fetch_all(
            self._connection,
            f"SELECT {column} FROM lines WHERE {column} IN ({_marks(values)}) "
            "AND state <> 'recycled'",
            values,
        )
        return {value for (value,) in found}

    def add_many(self, lines: Sequence[LineToAdd], *, now: datetime) -> builtins.list[int]:
        if not lines:
            return []
        if self._scope is not None and any(line.operator_id != self._scope for line in lines):
            raise PermissionError("this unit of work is scoped to another operator")
        connection = self._connection
        moment = stored_moment(connection, now)
        # The lines of an import share a few validity ends: each converted once.
        ends = {end: stored_moment(connection, end) for end in {line.valid_until for line in lines}}
        active = LineState.ACTIVE.value
        rows = [
            (
                line.operator_id,
                line.msisdn,
                line.iccid,
                line.sim_kind.value,
                line.language,
                active,
                moment,
                ends[line.valid_until],
                moment,
                moment,
            )
            for line in lines
        ]
        savepoint = connection.begin_nested()
        try:
            # One executemany; RETURNING would make SQLite insert row by row to keep order.
            execute_many(connection, _ADD_LINES, rows)
        except IntegrityViolation:
            savepoint.rollback()
            raise NumberTaken(", ".join(line.msisdn for line in lines)) from None
        savepoint.commit()
        # A number has one live line at a time (uq_lines_live_msisdn): the one just added.
        numbers = [line.msisdn for line in lines]
        found = dict(
            fetch_all(
                connection,
                f"SELECT msisdn, id FROM lines WHERE msisdn IN ({_marks(numbers)}) "
                "AND state <> 'recycled'",
                numbers,
            )
        )
        return [int(found[number]) for number in numbers]

    def count(self, *, windows: Sequence[ValidityWindow], recycled: bool) -> dict[int, int]:
        statement = select(t.lines.c.operator_id, func.count()).group_by(t.lines.c.operator_id)
        if self._scope is not None:
            statement = statement.where(t.lines.c.operator_id == self._scope)
        statement = _chosen(statement, windows=windows, recycled=recycled)
        return {
            int(operator_id): int(count)
            for operator_id, count in self._connection.execute(statement)
        }
