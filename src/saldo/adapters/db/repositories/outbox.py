"""The outbox: notifications queued with their cause, claimed by one sender at a time.

A claim is a lease: the message's ``next_attempt_at`` moves forward, so it is no longer due
for anyone else until the lease runs out. On PostgreSQL the due rows are read ``FOR UPDATE
SKIP LOCKED``, so two senders claiming at the same moment each get other rows instead of
waiting for each other; on SQLite the unit of work's ``BEGIN IMMEDIATE`` makes claims take
turns, and the second sees the first's leases.

A message's ``secret`` (a verification code) lives only while the message is pending: the
statement that marks it sent, dead or skipped clears it, so the code is not readable in the
database once it has been sent (or never will be).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from saldo.adapters.db import tables as t
from saldo.services.ports.outbox import OutboxMessage

_ERROR_LIMIT = 500
_COLUMNS = (*t.outbox.c, t.lines.c.msisdn)


class SqlOutboxRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(
        self,
        *,
        operator_id: int,
        line_id: int | None,
        channel: str,
        key: str,
        recipient: str,
        payload: Mapping[str, Any],
        now: datetime,
        not_before: datetime | None = None,
        secret: str | None = None,
    ) -> int | None:
        try:
            with self._connection.begin_nested():
                return int(
                    self._connection.execute(
                        insert(t.outbox)
                        .values(
                            operator_id=operator_id,
                            line_id=line_id,
                            channel=channel,
                            key=key,
                            recipient=recipient,
                            payload=dict(payload),
                            state="pending",
                            attempts=0,
                            next_attempt_at=not_before or now,
                            created_at=now,
                            secret=secret,
                        )
                        .returning(t.outbox.c.id)
                    ).scalar_one()
                )
        except IntegrityError:
            return None

    def get(self, message_id: int) -> OutboxMessage | None:
        found = self._read([message_id])
        return found[0] if found else None

    def claim_due(
        self,
        *,
        now: datetime,
        until: datetime,
        limit: int,
        channels: Sequence[str],
        keys: Sequence[str] | None = None,
    ) -> list[OutboxMessage]:
        which = [
            t.outbox.c.state == "pending",
            t.outbox.c.next_attempt_at <= now,
            t.outbox.c.channel.in_(list(channels)),
        ]
        if keys is not None:
            which.append(t.outbox.c.key.in_(list(keys)))
        due = self._connection.execute(
            select(t.outbox.c.id)
            .where(*which)
            .order_by(t.outbox.c.next_attempt_at, t.outbox.c.id)
            .limit(limit)
            # PostgreSQL: rows another sender is claiming right now are passed over, not
            # waited for. SQLite has no row locks (the clause is left out); BEGIN IMMEDIATE
            # already makes claims take turns.
            .with_for_update(skip_locked=True)
        )
        ids = [int(row.id) for row in due]
        if not ids:
            return []
        self._connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id.in_(ids))
            .values(next_attempt_at=until, attempts=t.outbox.c.attempts + 1)
        )
        order = {message_id: position for position, message_id in enumerate(ids)}
        return sorted(self._read(ids), key=lambda message: order[message.id])

    def release(self, message_id: int, *, at: datetime) -> None:
        self._connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == message_id, t.outbox.c.state == "pending")
            .values(next_attempt_at=at, attempts=t.outbox.c.attempts - 1)
        )

    def mark_sent(self, message_id: int, *, now: datetime) -> None:
        self._connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == message_id)
            .values(state="sent", sent_at=now, last_error=None, secret=None)
        )

    def mark_failed(
        self, message_id: int, *, error: str, retry_at: datetime | None, now: datetime
    ) -> None:
        values: dict[str, Any] = {"last_error": error[:_ERROR_LIMIT]}
        if retry_at is None:
            values["state"] = "dead"
            values["secret"] = None
        else:
            values["next_attempt_at"] = retry_at
        self._connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == message_id, t.outbox.c.state == "pending")
            .values(**values)
        )

    def mark_skipped(self, message_id: int, *, reason: str, now: datetime) -> None:
        self._connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == message_id, t.outbox.c.state == "pending")
            .values(state="skipped", last_error=reason[:_ERROR_LIMIT], secret=None)
        )

    def retry(self, message_id: int, *, now: datetime) -> bool:
        changed = self._connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == message_id, t.outbox.c.state == "dead")
            .values(state="pending", attempts=0, next_attempt_at=now)
        ).rowcount
        return bool(changed)

    def _select(self) -> Select[Any]:
        return select(*_COLUMNS).select_from(
            t.outbox.outerjoin(t.lines, t.lines.c.id == t.outbox.c.line_id)
        )

    def _read(self, ids: Sequence[int]) -> list[OutboxMessage]:
        rows = self._connection.execute(self._select().where(t.outbox.c.id.in_(list(ids))))
        return [_message(row) for row in rows]

    def list(self, *, state: str | None, limit: int) -> list[OutboxMessage]:
        query = self._select().order_by(t.outbox.c.id.desc()).limit(limit)
        if state is not None:
            query = query.where(t.outbox.c.state == state)
        return [_message(row) for row in self._connection.execute(query)]


def _message(row: Row[Any]) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        operator_id=row.operator_id,
        channel=row.channel,
        key=row.key,
        recipient=row.recipient,
        payload=row.payload,
        attempts=row.attempts,
        state=row.state,
        line_id=row.line_id,
        msisdn=row.msisdn,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
        secret=row.secret,
    )
