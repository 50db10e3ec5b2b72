"""Adding and updating operators from the catalog, and reading them back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from saldo.domain.errors import SaldoError
from saldo.domain.operator import Operator
from saldo.domain.periods import require_aware
from saldo.services.ports import UnitOfWork


class UnknownOperator(SaldoError):
    code = "unknown_operator"


def register_operator(
    uow: UnitOfWork, *, operator: Operator, spec: dict[str, Any], now: datetime
) -> Operator:
    """Add the operator, or update it when its slug exists; return it with its id."""
    with uow:
        saved = uow.operators.save(operator, spec=spec, now=require_aware(now))
        uow.commit()
    return saved


def list_operators(uow: UnitOfWork) -> list[Operator]:
    with uow.reading():
        return uow.operators.list()


def get_operator(uow: UnitOfWork, *, slug: str) -> Operator:
    """The operator with this slug; raise UnknownOperator otherwise."""
    with uow.reading():
        operator = uow.operators.get_by_slug(slug)
    if operator is None:
        raise UnknownOperator(f"no operator {slug!r}")
    return operator
