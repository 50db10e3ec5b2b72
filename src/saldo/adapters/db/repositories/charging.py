"""Network elements and credit-control sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from saldo.adapters.db import tables as t
from saldo.services.ports.charging import ElementKey, NetworkElement, StoredSession
from saldo.services.ports.ledger import DuplicateIdempotencyKey


class SqlChargingRepository:
    def __init__(self, connection: Connection, *, operator_id: int | None) -> None:
        self._connection = connection
        self._scope = operator_id

    def add_element(self, *, operator_id: int, name: str, key_hash: str, now: datetime) -> int:
        try:
            with self._connection.begin_nested():
                return int(
                    self._connection.execute(
                        insert(t.network_elements)
                        .values(
                            operator_id=operator_id, name=name, key_hash=key_hash, created_at=now
                        )
                        .returning(t.network_elements.c.id)
                    ).scalar_one()
                )
        except IntegrityError as error:
            raise DuplicateIdempotencyKey(name) from error

    def element_by_key(self, key_hash: str) -> NetworkElement | None:
        e = t.network_elements
        row = self._connection.execute(
            select(e.c.id, e.c.operator_id, e.c.name, e.c.last_used_at).where(
                e.c.key_hash == key_hash, e.c.revoked_at.is_(None)
            )
        ).first()
        return (
            None
            if row is None
            else NetworkElement(
                id=row.id, operator_id=row.operator_id, name=row.name, last_used_at=row.last_used_at
            )
        )

    def element_keys(self, operator_id: int) -> list[ElementKey]:
        e = t.network_elements
        rows = self._connection.execute(
            select(e.c.name, e.c.created_at, e.c.last_used_at, e.c.revoked_at)
            .where(e.c.operator_id == operator_id)
            .order_by(e.c.name)
        )
        return [
            ElementKey(
                name=row.name,
                created_at=row.created_at,
                last_used_at=row.last_used_at,
                revoked_at=row.revoked_at,
            )
            for row in rows
        ]

    def revoke_element(self, *, operator_id: int, name: str, now: datetime) -> datetime | None:
        e = t.network_elements
        mine = (e.c.operator_id == operator_id, e.c.name == name)
        self._connection.execute(
            update(e).where(*mine, e.c.revoked_at.is_(None)).values(revoked_at=now)
        )
        revoked: datetime | None = self._connection.execute(
            select(e.c.revoked_at).where(*mine)
        ).scalar_one_or_none()
        return revoked

    def note_element_use(self, element_id: int, *, now: datetime, unless_since: datetime) -> None:
        e = t.network_elements
        self._connection.execute(
            update(e)
            .where(
                e.c.id == element_id,
                (e.c.last_used_at.is_(None)) | (e.c.last_used_at < unless_since),
            )
            .values(last_used_at=now)
        )

    def open_session(
        self,
        *,
        operator_id: int,
        line_id: int,
        element_id: int,
        msisdn: str,
        session_key: str,
        service: str,
        destination: str | None,
        on_net: bool,
        now: datetime,
    ) -> int:
        try:
            with self._connection.begin_nested():
                return int(
                    self._connection.execute(
                        insert(t.charging_sessions)
                        .values(
                            operator_id=operator_id,
                            line_id=line_id,
                            element_id=element_id,
                            msisdn=msisdn,
                            session_key=session_key,
                            service=service,
                            destination=destination,
                            on_net=on_net,
                            state="open",
                            reserved=0,
                            held=[],
                            used_raw=0,
                            used=0,
                            money_units=0,
                            money_billed=0,
                            last_request=0,
                            expires_at=now,
                            created_at=now,
                            updated_at=now,
                        )
                        .returning(t.charging_sessions.c.id)
                    ).scalar_one()
                )
        except IntegrityError as error:
            raise DuplicateIdempotencyKey(session_key) from error

    def _one(self, query: Any) -> StoredSession | None:
        row = self._connection.execute(query).first()
        if row is None:
            return None
        return StoredSession(
            id=row.id,
            operator_id=row.operator_id,
            line_id=row.line_id,
            element_id=row.element_id,
            msisdn=row.msisdn,
            service=row.service,
            destination=row.destination,
            on_net=row.on_net,
            state=row.state,
            session_key=row.session_key,
            reserved=row.reserved,
            held=row.held,
            used_raw=row.used_raw,
            used=row.used,
            money_units=row.money_units,
            money_billed=row.money_billed,
            last_request=row.last_request,
            last_answer=row.last_answer,
            expires_at=row.expires_at,
        )

    def get_session(self, session_id: int, *, for_update: bool = False) -> StoredSession | None:
        s = t.charging_sessions
        query = select(s).where(s.c.id == session_id)
        if self._scope is not None:
            query = query.where(s.c.operator_id == self._scope)
        if for_update:
            query = query.with_for_update()
        return self._one(query)

    def get_by_key(self, *, operator_id: int, session_key: str) -> StoredSession | None:
        s = t.charging_sessions
        return self._one(
            select(s).where(s.c.operator_id == operator_id, s.c.session_key == session_key)
        )

    def save_session(self, session: StoredSession, *, now: datetime) -> None:
        self._connection.execute(
            update(t.charging_sessions)
            .where(t.charging_sessions.c.id == session.id)
            .values(
                state=session.state,
                reserved=session.reserved,
                held=list(session.held),
                used_raw=session.used_raw,
                used=session.used,
                money_units=session.money_units,
                money_billed=session.money_billed,
                last_request=session.last_request,
                last_answer=session.last_answer,
                expires_at=session.expires_at,
                updated_at=now,
            )
        )

    def expired(self, *, now: datetime, limit: int) -> list[int]:
        s = t.charging_sessions
        query = (
            select(s.c.id)
            .where(s.c.state == "open", s.c.expires_at <= now)
            .order_by(s.c.expires_at)
            .limit(limit)
        )
        if self._scope is not None:
            query = query.where(s.c.operator_id == self._scope)
        return [int(i) for i in self._connection.execute(query).scalars()]
