"""What self-service channels remember between messages."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from saldo.adapters.db import tables as t
from saldo.adapters.db.prepared import IntegrityViolation, Prepared
from saldo.services.ports import PendingConfirmation

_RECALL = Prepared(
    select(t.inbound_messages.c.reply).where(
        t.inbound_messages.c.channel == bindparam("channel"),
        t.inbound_messages.c.message_id == bindparam("message_id"),
    )
)
_REMEMBER = Prepared(
    insert(t.inbound_messages).values(
        channel=bindparam("channel"),
        message_id=bindparam("message_id"),
        reply=bindparam("reply"),
        created_at=bindparam("now"),
    )
)
_OPEN = t.pending_confirmations.c.resolved_at.is_(None)


class SqlConversationRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def recall_reply(self, *, channel: str, message_id: str) -> str | None:
        reply = _RECALL.scalar(self._connection, channel=channel, message_id=message_id)
        return None if reply is None else str(reply)

    def remember_reply(self, *, channel: str, message_id: str, reply: str, now: datetime) -> None:
        savepoint = self._connection.begin_nested()
        try:
            _REMEMBER.execute(
                self._connection, channel=channel, message_id=message_id, reply=reply, now=now
            )
        except IntegrityViolation:
            # The same message was handled meanwhile; its first reply stays.
            savepoint.rollback()
            return
        savepoint.commit()

    def ask_confirmation(
        self, *, line_id: int, action: str, argument: str, expires_at: datetime, now: datetime
    ) -> None:
        self._connection.execute(
            update(t.pending_confirmations)
            .where(t.pending_confirmations.c.line_id == line_id, _OPEN)
            .values(resolved_at=now)
        )
        self._connection.execute(
            insert(t.pending_confirmations).values(
                line_id=line_id,
                action=action,
                argument=argument,
                expires_at=expires_at,
                created_at=now,
            )
        )

    def take_confirmation(self, *, line_id: int, now: datetime) -> PendingConfirmation | None:
        c = t.pending_confirmations.c
        row = self._connection.execute(
            select(c.id, c.action, c.argument)
            .where(c.line_id == line_id, _OPEN, c.expires_at > now)
            .order_by(c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        resolved = self._connection.execute(
            update(t.pending_confirmations).where(c.id == row.id, _OPEN).values(resolved_at=now)
        ).rowcount
        if not resolved:
            return None
        return PendingConfirmation(id=row.id, action=row.action, argument=row.argument)

    def touch_ussd_session(
        self, *, session_id: str, msisdn: str, now: datetime, idle: timedelta, restart: bool
    ) -> datetime | None:
        c = t.ussd_sessions.c
        found = self._connection.execute(
            select(c.started_at, c.last_seen_at).where(
                c.session_id == session_id, c.msisdn == msisdn
            )
        ).first()
        if found is None:
            self._connection.execute(
                insert(t.ussd_sessions).values(
                    session_id=session_id, msisdn=msisdn, started_at=now, last_seen_at=now
                )
            )
            return now
        started: datetime = found.started_at
        last_seen: datetime = found.last_seen_at
        mine = and_(c.session_id == session_id, c.msisdn == msisdn)
        if now - last_seen <= idle:
            self._connection.execute(update(t.ussd_sessions).where(mine).values(last_seen_at=now))
            return started
        if restart:  # a new dialog under an id the gateway used before
            self._connection.execute(
                update(t.ussd_sessions).where(mine).values(started_at=now, last_seen_at=now)
            )
            return now
        return None  # expired; it keeps its last activity, so it stays expired
