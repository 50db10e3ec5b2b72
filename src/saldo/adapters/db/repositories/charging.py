"""Network elements and credit-control sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from saldo.adapters.db import tables as t
from saldo.adapters.db.prepared import to_utc
from saldo.services.ports.charging import NetworkElement, StoredSession
from saldo.services.ports.core import DuplicateIdempotencyKey


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
            select(e.c.id, e.c.operator_id, e.c.name).where(
                e.c.key_hash == key_hash, e.c.revoked_at.is_(None)
            )
        ).first()
        return (
            None
            if row is None
            else NetworkElement(id=row.id, operator_id=row.operator_id, name=row.name)
        )

    def open_session(
        self,
        *,
        operator_id: int,
        line_id: int,
        element_id: int,
        msisdn: str,
        service: str,
        destination: str | None,
        on_net: bool,
        reserved: int,
        held: Sequence[dict[str, Any]],
        expires_at: datetime,
        now: datetime,
    ) -> int:
        return int(
            self._connection.execute(
                insert(t.charging_sessions)
                .values(
                    operator_id=operator_id,
                    line_id=line_id,
                    element_id=element_id,
                    msisdn=msisdn,
                    service=service,
                    destination=destination,
                    on_net=on_net,
                    state="open",
                    reserved=reserved,
                    held=list(held),
                    used=0,
                    expires_at=expires_at,
                    created_at=now,
                    updated_at=now,
                )
                .returning(t.charging_sessions.c.id)
            ).scalar_one()
        )

    def get_session(self, session_id: int, *, for_update: bool = False) -> StoredSession | None:
        s = t.charging_sessions
        query = select(s).where(s.c.id == session_id)
        if self._scope is not None:
            query = query.where(s.c.operator_id == self._scope)
        if for_update:
            query = query.with_for_update()
        row = self._connection.execute(query).first()
        if row is None:
            return None
        expires_at = to_utc(row.expires_at)
        assert expires_at is not None
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
            reserved=row.reserved,
            held=row.held,
            used=row.used,
            expires_at=expires_at,
        )

    def save_session(
        self,
        session_id: int,
        *,
        state: str,
        reserved: int,
        held: Sequence[dict[str, Any]],
        used: int,
        expires_at: datetime,
        now: datetime,
    ) -> None:
        self._connection.execute(
            update(t.charging_sessions)
            .where(t.charging_sessions.c.id == session_id)
            .values(
                state=state,
                reserved=reserved,
                held=list(held),
                used=used,
                expires_at=expires_at,
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
