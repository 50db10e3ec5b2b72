"""Exchange rates, kept as plain decimal text so that every digit comes back as loaded."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from saldo.adapters.db import tables as t
from saldo.domain.fx import RATE_TEXT_MAX, ExchangeRate, InvalidRate, rate_text

_r = t.exchange_rates.c
_COLUMNS = (_r.base, _r.quote, _r.rate, _r.source, _r.fetched_at)


class SqlRateRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, rate: ExchangeRate, *, now: datetime) -> Decimal | None:
        text = rate_text(rate.rate)
        if len(text) > RATE_TEXT_MAX:
            raise InvalidRate(f"{rate.pair} {text} has more than {RATE_TEXT_MAX} characters")
        values = {
            "base": rate.base,
            "quote": rate.quote,
            "rate": text,
            "source": rate.source,
            "fetched_at": rate.fetched_at,
            "loaded_at": now,
        }
        # ON CONFLICT DO NOTHING rather than look-then-insert: two loads of the same file at
        # once store it once, and neither fails.
        dialect = postgresql if self._connection.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(t.exchange_rates)
            .values(values)
            .on_conflict_do_nothing(index_elements=["base", "quote", "source", "fetched_at"])
            .returning(_r.id)
        )
        if self._connection.execute(statement).first() is not None:
            return None
        stored = self._connection.execute(
            select(_r.rate).where(
                _r.base == rate.base,
                _r.quote == rate.quote,
                _r.source == rate.source,
                _r.fetched_at == rate.fetched_at,
            )
        ).scalar_one()
        return Decimal(stored)

    def latest(self, *, base: str, quote: str) -> ExchangeRate | None:
        row = self._connection.execute(
            select(*_COLUMNS)
            .where(_r.base == base, _r.quote == quote)
            .order_by(_r.fetched_at.desc(), _r.id.desc())
            .limit(1)
        ).first()
        return None if row is None else _rate(row)

    def latest_per_pair(self) -> list[ExchangeRate]:
        newest_first = func.row_number().over(
            partition_by=(_r.base, _r.quote), order_by=(_r.fetched_at.desc(), _r.id.desc())
        )
        ranked = select(*_COLUMNS, newest_first.label("rank")).subquery()
        rows = self._connection.execute(
            select(
                ranked.c.base, ranked.c.quote, ranked.c.rate, ranked.c.source, ranked.c.fetched_at
            )
            .where(ranked.c.rank == 1)
            .order_by(ranked.c.base, ranked.c.quote)
        )
        return [_rate(row) for row in rows]


def _rate(row: Any) -> ExchangeRate:
    return ExchangeRate(
        base=row.base,
        quote=row.quote,
        rate=Decimal(row.rate),
        source=row.source,
        fetched_at=row.fetched_at,
    )
