"""Ports of exchange rates, as their sources quoted them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from saldo.domain.fx import ExchangeRate


class RateRepository(Protocol):
    """Exchange rates as their sources quoted them."""

    def add(self, rate: ExchangeRate, *, now: datetime) -> Decimal | None:
        """Store a quoted rate and return None; when its source already gave this pair at
        this moment, store nothing and return the rate stored then."""
        ...

    def latest(self, *, base: str, quote: str) -> ExchangeRate | None:
        """The most recently fetched ``base``/``quote`` rate (that pair only, not its
        inverse); of two fetched at the same moment, the one loaded last."""
        ...

    def latest_per_pair(self) -> list[ExchangeRate]:
        """The latest rate of every stored pair, by base then quote."""
        ...
