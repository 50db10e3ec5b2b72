"""Operators: stored as their validated catalog entry, rebuilt into domain values once."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from saldo.adapters.db import tables as t
from saldo.adapters.db.operator_cache import built_operator, known_operator
from saldo.adapters.db.prepared import Prepared
from saldo.domain.operator import Operator


def spec_hash(spec: dict[str, Any]) -> str:
    """A fingerprint of a catalog entry: equal specs, equal hashes."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


_HASH = Prepared(select(t.operators.c.spec_hash).where(t.operators.c.id == bindparam("id")))
_SPEC = select(t.operators.c.spec).where(t.operators.c.id == bindparam("id"))


def operator_for(connection: Connection, operator_id: int, fingerprint: str) -> Operator:
    """The operator with this id and spec hash, built from its stored spec on first use."""
    operator = known_operator(operator_id, fingerprint)
    if operator is None:
        spec = connection.execute(_SPEC, {"id": operator_id}).scalar_one()
        operator = built_operator(operator_id, fingerprint, spec)
    return operator


class SqlOperatorRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def save(self, operator: Operator, *, spec: dict[str, Any], now: Any) -> Operator:
        fingerprint = spec_hash(spec)
        values = {
            "name": operator.name,
            "country": operator.country,
            "currency": operator.currency,
            "timezone": operator.timezone,
            "spec": spec,
            "spec_hash": fingerprint,
            "updated_at": now,
        }
        existing = self._connection.execute(
            select(t.operators.c.id).where(t.operators.c.slug == operator.slug)
        ).scalar()
        if existing is None:
            operator_id = self._connection.execute(
                insert(t.operators)
                .values(slug=operator.slug, created_at=now, **values)
                .returning(t.operators.c.id)
            ).scalar_one()
        else:
            operator_id = existing
            self._connection.execute(
                update(t.operators).where(t.operators.c.id == existing).values(**values)
            )
        return built_operator(int(operator_id), fingerprint, spec)

    def get(self, operator_id: int) -> Operator | None:
        fingerprint = _HASH.scalar(self._connection, id=operator_id)
        if fingerprint is None:
            return None
        return operator_for(self._connection, operator_id, fingerprint)

    def get_by_slug(
        self, slug: str, *, for_update: bool = False, for_share: bool = False
    ) -> Operator | None:
        query = select(t.operators.c.id).where(t.operators.c.slug == slug)
        if for_update:
            query = query.with_for_update()
        elif for_share:
            query = query.with_for_update(read=True)
        found = self._connection.execute(query).scalar()
        return None if found is None else self.get(int(found))

    def list(self) -> list[Operator]:
        rows = self._connection.execute(
            select(t.operators.c.id, t.operators.c.spec_hash, t.operators.c.spec).order_by(
                t.operators.c.slug
            )
        )
        return [built_operator(int(row.id), row.spec_hash, row.spec) for row in rows]
