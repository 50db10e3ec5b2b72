"""Network elements (voice switches, packet gateways, SMSCs) allowed to charge one
operator's lines in real time, each known by the hash of its API key."""

from __future__ import annotations

import secrets
from datetime import datetime

from saldo.domain.errors import SaldoError
from saldo.services.operators import UnknownOperator
from saldo.services.ports import DuplicateIdempotencyKey, UnitOfWork


def new_api_key() -> str:
    """A network element's API key, shown once."""
    return "ne_" + secrets.token_urlsafe(32)


class UnableToRegisterElement(SaldoError):
    code = "unable_to_register_element"


def register_element(
    uow: UnitOfWork, *, operator_slug: str, name: str, key_hash: str, now: datetime
) -> int:
    """Register a network element of the operator, known by the hash of its API key.
    Raises UnknownOperator, UnableToRegisterElement (a name taken or empty)."""
    if not name.strip() or len(name) > 64:
        raise UnableToRegisterElement("a network element's name is 1 to 64 characters")
    with uow:
        operator = uow.operators.get_by_slug(operator_slug)
        if operator is None or operator.id is None:
            raise UnknownOperator(f"no operator {operator_slug!r}")
        try:
            element_id = uow.charging.add_element(
                operator_id=operator.id, name=name.strip(), key_hash=key_hash, now=now
            )
        except DuplicateIdempotencyKey:
            raise UnableToRegisterElement(f"{operator.name} has an element {name!r}") from None
        uow.commit()
    return element_id
