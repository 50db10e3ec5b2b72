"""Network elements (voice switches, packet gateways, SMSCs) allowed to charge one
operator's lines in real time, each known by the hash of its API key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from saldo.domain.errors import SaldoError
from saldo.services.operators import UnknownOperator
from saldo.services.ports import DuplicateIdempotencyKey, ElementKey, NetworkElement, UnitOfWork


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


class UnknownElement(SaldoError):
    code = "unknown_element"


# A key's last use is noted at most this often: a write a minute, not one per request.
USE_NOTED_EVERY: Final = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ElementKeys:
    operator: str
    timezone: str  # the operator's: when keys were made and used, as its staff reads them
    keys: list[ElementKey]


def element_keys(uow: UnitOfWork, *, operator_slug: str) -> ElementKeys:
    """The operator's network elements and the state of their keys. Raises UnknownOperator."""
    with uow.reading():
        operator = uow.operators.get_by_slug(operator_slug)
        if operator is None or operator.id is None:
            raise UnknownOperator(f"no operator {operator_slug!r}")
        return ElementKeys(
            operator=operator.slug,
            timezone=operator.timezone,
            keys=uow.charging.element_keys(operator.id),
        )


@dataclass(frozen=True, slots=True)
class Revoked:
    at: datetime
    timezone: str  # the operator's


def revoke_element(uow: UnitOfWork, *, operator_slug: str, name: str, now: datetime) -> Revoked:
    """Revoke an element's key: from the moment this commits, every server process refuses
    it (each request reads its element from the database). Revoking twice keeps the first
    moment. Raises UnknownOperator, UnknownElement."""
    with uow:
        operator = uow.operators.get_by_slug(operator_slug)
        if operator is None or operator.id is None:
            raise UnknownOperator(f"no operator {operator_slug!r}")
        revoked = uow.charging.revoke_element(operator_id=operator.id, name=name, now=now)
        if revoked is None:
            raise UnknownElement(f"{operator.name} has no network element {name!r}")
        uow.commit()
    return Revoked(at=revoked, timezone=operator.timezone)


def authenticate_element(uow: UnitOfWork, *, key_hash: str, now: datetime) -> NetworkElement | None:
    """The element whose key has this hash (None: unknown or revoked), its use noted when
    the last one noted is a minute old."""
    with uow.reading():
        element = uow.charging.element_by_key(key_hash)
    if element is not None and (
        element.last_used_at is None or element.last_used_at <= now - USE_NOTED_EVERY
    ):
        with uow:
            uow.charging.note_element_use(element.id, now=now, unless_since=now - USE_NOTED_EVERY)
            uow.commit()
    return element
