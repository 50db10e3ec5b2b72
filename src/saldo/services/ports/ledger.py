"""Ports of money on a line: the buckets and operator accounts, the double-entry ledger, and
the two ways money is put on or taken off a line directly, top-ups and staff adjustments.
``DuplicateIdempotencyKey`` is what any repository raises when a command's key is taken."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from saldo.domain.buckets import BucketKind
from saldo.domain.ledger import OperatorAccount, Posting
from saldo.domain.lifecycle import LineState


class DuplicateIdempotencyKey(Exception):
    """Another command already holds this idempotency key (raised by a repository's add)."""


class AccountRepository(Protocol):
    def open_bucket(
        self,
        *,
        operator_id: int,
        line_id: int,
        kind: BucketKind,
        unit: str,
        expires_at: datetime | None,
        now: datetime,
    ) -> int:
        """The id of the line's bucket of this kind, unit and expiry, opened if missing."""
        ...

    def open_main_buckets(self, lines: Sequence[tuple[int, int, str]], *, now: datetime) -> None:
        """Open the main bucket of lines just added, each given as (operator id, line id,
        currency), in one statement."""
        ...

    def operator_account(
        self, *, operator_id: int, kind: OperatorAccount, unit: str, now: datetime
    ) -> int:
        """The id of the operator's account of this kind and unit, opened if missing."""
        ...

    def change_balance(self, account_id: int, amount: int) -> int | None:
        """Add ``amount`` (negative to debit) to a line bucket in one conditional update and
        return the new balance; None, changing nothing, if it would go below zero."""
        ...


class LedgerRepository(Protocol):
    def record(
        self,
        *,
        operator_id: int,
        line_id: int | None,
        event_type: str,
        event_id: int,
        postings: Sequence[Posting],
        balances_after: dict[int, int],
        memo: str | None,
        now: datetime,
    ) -> int:
        """Append one balanced transaction and its entries; return its id."""
        ...

    def unbalanced_transactions(self, *, limit: int) -> list[tuple[int, str, int]]:
        """(transaction id, unit, sum) of transactions whose postings do not sum to zero,
        or that have fewer than two entries (unit '*')."""
        ...

    def drifted_buckets(self, *, limit: int) -> list[tuple[int, str, str, int, int]]:
        """(account id, msisdn, kind, cached balance, ledger sum) of line buckets whose
        cached balance differs from the sum of their entries."""
        ...

    def counts(self) -> tuple[int, int, int]:
        """(transactions, entries, line buckets)."""
        ...


@dataclass(frozen=True, slots=True)
class StoredTopUp:
    id: int
    operator_id: int
    line_id: int
    request_fingerprint: str
    amount: int
    currency: str
    channel: str
    state_before: LineState
    valid_until_after: datetime
    balance_after: int
    created_at: datetime
    bonus: int | None = None


@dataclass(frozen=True, slots=True)
class NewTopUp:
    """A top-up about to be stored (its balance after and bonus come with it)."""

    operator_id: int
    line_id: int
    idempotency_key: str
    request_fingerprint: str
    amount: int
    currency: str
    channel: str
    validity_days: int
    state_before: LineState
    valid_until_before: datetime
    valid_until_after: datetime
    now: datetime

    def changes_line(self, *, reactivate: bool) -> bool:
        """Whether the line's row is written. A top-up that neither extends the validity
        nor reactivates the line (a small amount on a line valid for longer) leaves it
        alone: rewriting it unchanged would still write and sync its page and indexes."""
        return reactivate or self.valid_until_after != self.valid_until_before


@dataclass(frozen=True, slots=True)
class TopUpBonus:
    """A top-up promotion's bonus: ``amount`` (minor units) credited to the line's BONUS
    bucket ``bucket_id``, already open."""

    bucket_id: int
    amount: int


class TopUpRepository(Protocol):
    def get_by_key(self, *, operator_id: int, idempotency_key: str) -> StoredTopUp | None: ...

    def credit(
        self,
        topup: NewTopUp,
        *,
        main_bucket_id: int,
        bonus: TopUpBonus | None,
        postings: Sequence[Posting],
        memo: str,
        reactivate: bool,
    ) -> tuple[int, int]:
        """Every write of a top-up, at once, the one way a top-up is written:
        ``topup.amount`` credited to the main bucket (and ``bonus.amount`` to its BONUS
        bucket), the top-up stored with the balance after and its bonus, its balanced
        ledger transaction (``postings``, each bucket's entry carrying its balance after),
        and the line's new validity (and state ACTIVE, with ``reactivate``) when
        ``topup.changes_line``. Return the top-up's id and the main bucket's balance after.
        On PostgreSQL this is one statement, one round trip.

        Every write is confined to ``topup.operator_id``: a bucket or line of another
        operator is not written (the database refuses the top-up), and a unit of work
        scoped to another operator raises PermissionError before writing. Raise
        DuplicateIdempotencyKey if the key is taken."""
        ...


@dataclass(frozen=True, slots=True)
class StoredAdjustment:
    id: int
    line_id: int
    account_id: int
    request_fingerprint: str
    amount: int
    unit: str
    balance_after: int
    created_at: datetime


class AdjustmentRepository(Protocol):
    def get_by_key(self, *, operator_id: int, idempotency_key: str) -> StoredAdjustment | None: ...

    def add(
        self,
        *,
        operator_id: int,
        line_id: int,
        account_id: int,
        idempotency_key: str,
        request_fingerprint: str,
        amount: int,
        unit: str,
        reason: str,
        actor: str,
        balance_after: int,
        now: datetime,
    ) -> int:
        """Insert an adjustment; raise DuplicateIdempotencyKey if the key is taken."""
        ...
