"""Ports of operators: each operator's rules, stored from the catalog."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from saldo.domain.operator import Operator


class OperatorRepository(Protocol):
    def save(self, operator: Operator, *, spec: dict[str, Any], now: datetime) -> Operator:
        """Insert or update by slug; return the operator with its id."""
        ...

    def get(self, operator_id: int) -> Operator | None: ...

    def get_by_slug(
        self, slug: str, *, for_update: bool = False, for_share: bool = False
    ) -> Operator | None:
        """The operator with this slug. On PostgreSQL ``for_update`` locks its row until the
        transaction ends (no line can be added meanwhile) and ``for_share`` share-locks it
        (as adding a line does: its country and currency cannot change meanwhile)."""
        ...

    def list(self) -> list[Operator]: ...
