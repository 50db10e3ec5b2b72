"""Ports of real-time charging: network elements and credit-control sessions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class NetworkElement:
    id: int
    operator_id: int
    name: str
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ElementKey:
    """A network element's key as an operator sees it (never the key itself)."""

    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredSession:
    id: int
    operator_id: int
    line_id: int
    element_id: int
    msisdn: str
    service: str
    destination: str | None
    on_net: bool
    state: str
    session_key: str
    reserved: int
    held: Sequence[dict[str, Any]]
    used_raw: int
    used: int
    money_units: int
    money_billed: int
    last_request: int
    last_answer: dict[str, Any] | None
    expires_at: datetime


class ChargingRepository(Protocol):
    def add_element(self, *, operator_id: int, name: str, key_hash: str, now: datetime) -> int:
        """Register a network element; raise DuplicateIdempotencyKey when the operator has
        one of this name."""
        ...

    def element_by_key(self, key_hash: str) -> NetworkElement | None:
        """The element with this key (None if unknown or revoked)."""
        ...

    def element_keys(self, operator_id: int) -> list[ElementKey]:
        """The operator's elements, revoked ones included, by name."""
        ...

    def revoke_element(self, *, operator_id: int, name: str, now: datetime) -> datetime | None:
        """Revoke the operator's element ``name`` (once: a revoked one keeps its first
        revocation); the moment it was revoked, None when the operator has no such element."""
        ...

    def note_element_use(self, element_id: int, *, now: datetime, unless_since: datetime) -> None:
        """Note ``now`` as the element's last use, unless one was noted at ``unless_since`` or
        later (so many processes noting the same element write once)."""
        ...

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
        """Open a session with nothing reserved yet; raise DuplicateIdempotencyKey when the
        operator has one with this key."""
        ...

    def get_by_key(self, *, operator_id: int, session_key: str) -> StoredSession | None: ...

    def get_session(self, session_id: int, *, for_update: bool = False) -> StoredSession | None: ...

    def save_session(self, session: StoredSession, *, now: datetime) -> None:
        """Store the session's state, reservation, cumulative use and last answer."""
        ...

    def expired(self, *, now: datetime, limit: int) -> list[int]:
        """Ids of open sessions whose reservation ran out before ``now``."""
        ...
