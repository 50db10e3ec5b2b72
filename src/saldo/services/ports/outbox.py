"""Ports of the outbox: notifications (SMS, email, operator webhooks) queued in the
transaction of the change that causes them, for the worker to deliver."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One queued notification. ``attempts`` counts the times a sender claimed it (a claim
    that ended without an outcome, because its worker died, counts too); ``msisdn`` is the
    number of its line as it is now (None without a line); ``secret`` a value it carries
    only until it leaves pending (a verification code), never shown."""

    id: int
    operator_id: int
    channel: str
    key: str
    recipient: str
    payload: Mapping[str, Any]
    attempts: int
    state: str
    line_id: int | None = None
    msisdn: str | None = None
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None
    secret: str | None = field(default=None, repr=False)


class OutboxRepository(Protocol):
    def add(
        self,
        *,
        operator_id: int,
        line_id: int | None,
        channel: str,
        key: str,
        recipient: str,
        payload: Mapping[str, Any],
        now: datetime,
        not_before: datetime | None = None,
        secret: str | None = None,
    ) -> int | None:
        """Queue a message in the current transaction, due at ``not_before`` (default: now);
        None when one with this ``key`` exists already (each notification is queued
        once). ``secret`` (a verification code) is kept only while the message is pending:
        sent, dead or skipped, it is gone."""
        ...

    def get(self, message_id: int) -> OutboxMessage | None: ...

    def claim_due(
        self,
        *,
        now: datetime,
        until: datetime,
        limit: int,
        channels: Sequence[str],
        keys: Sequence[str] | None = None,
    ) -> list[OutboxMessage]:
        """Take up to ``limit`` pending messages of ``channels`` due by ``now`` (only those
        with one of ``keys``, when given), oldest first, for one sender: each one's next
        attempt moves to ``until`` (the lease) and its attempts go up by one, in the current
        transaction. Concurrent senders never take the same message while its lease runs
        (PostgreSQL skips the rows another transaction has locked; SQLite's write
        transactions take turns)."""
        ...

    def release(self, message_id: int, *, at: datetime) -> None:
        """Give back a claimed message untried, due again ``at`` (the claim does not count
        as an attempt)."""
        ...

    def mark_sent(self, message_id: int, *, now: datetime) -> None: ...

    def mark_failed(
        self, message_id: int, *, error: str, retry_at: datetime | None, now: datetime
    ) -> None:
        """Note a failed attempt; ``retry_at`` None marks the message dead. A message sent
        meanwhile (by a sender whose lease ran out) stays sent."""
        ...

    def mark_skipped(self, message_id: int, *, reason: str, now: datetime) -> None:
        """Drop a pending message that is no longer true (a reminder for a line renewed
        meanwhile), keeping ``reason``."""
        ...

    def list(self, *, state: str | None, limit: int) -> list[OutboxMessage]:
        """Messages newest first, only those in ``state`` when it is given."""
        ...

    def retry(self, message_id: int, *, now: datetime) -> bool:
        """Put a dead message back to pending, due ``now``, with its attempts counted
        afresh; False when there is no dead message with this id."""
        ...
