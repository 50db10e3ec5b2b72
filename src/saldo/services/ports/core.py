"""Ports of the core: the clock, operators, lines, accounts, the ledger, top-ups and
adjustments."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from saldo.domain.buckets import Bucket, BucketKind
from saldo.domain.ledger import OperatorAccount, Posting
from saldo.domain.lifecycle import LineState
from saldo.domain.lines import Line
from saldo.domain.operator import Operator, SimKind


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...


class DuplicateIdempotencyKey(Exception):
    """Another command already holds this idempotency key (raised by a repository's add)."""


class NumberTaken(Exception):
    """A live line already has this MSISDN or ICCID."""


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


@dataclass(frozen=True, slots=True)
class ValidityWindow:
    """Lines of one operator with ``after < valid_until <= up_to`` (None: unbounded)."""

    operator_id: int
    after: datetime | None
    up_to: datetime | None


@dataclass(frozen=True, slots=True)
class LineRecord:
    """A line with its operator's rules and the id of its main money bucket."""

    line: Line
    operator: Operator
    main_bucket_id: int
    # Asked with ``topup_key``: the top-up the line's operator recorded under that key.
    earlier_topup_id: int | None = None


@dataclass(frozen=True, slots=True)
class LineWithBuckets:
    line: Line
    operator: Operator
    buckets: tuple[Bucket, ...]


class LineRepository(Protocol):
    def add(
        self,
        *,
        operator_id: int,
        msisdn: str,
        iccid: str | None,
        sim_kind: SimKind,
        language: str,
        activated_at: datetime,
        valid_until: datetime,
        now: datetime,
    ) -> Line:
        """Insert a line; raise NumberTaken if its MSISDN or ICCID is live elsewhere."""
        ...

    def get_by_msisdn(
        self, msisdn: str, *, for_update: bool = False, topup_key: str | None = None
    ) -> LineRecord | None:
        """The line with this MSISDN (the live one, else the latest recycled one), read in
        one query with its operator and main bucket. ``for_update`` locks the line's row
        until the unit of work ends. With ``topup_key`` the same query also finds the
        top-up the operator recorded under that idempotency key (``earlier_topup_id``)."""
        ...

    def get_with_buckets(self, msisdn: str) -> LineWithBuckets | None:
        """The line, its operator and all its buckets, read in one query."""
        ...

    def list(
        self,
        *,
        operator_id: int | None = None,
        windows: Sequence[ValidityWindow] | None = None,
        recycled: bool | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Line]:
        """Lines in id order. ``windows``: only lines whose ``valid_until`` falls in their
        operator's window. ``recycled``: True adds the lines the worker recycled, False
        leaves them out."""
        ...

    def set_validity(
        self, line_id: int, *, valid_until: datetime, state: LineState | None, now: datetime
    ) -> None:
        """Store a new end of validity, and a new state unless ``state`` is None."""
        ...

    def count(self, *, windows: Sequence[ValidityWindow], recycled: bool) -> dict[int, int]:
        """Number of lines per operator id, chosen as ``list`` chooses them (``windows`` with
        ``recycled``)."""
        ...

    def due(
        self,
        *,
        state: LineState,
        operator_id: int,
        up_to: datetime,
        limit: int,
        start_after: tuple[datetime, int] | None = None,
    ) -> builtins.list[Line]:
        """The operator's lines stored in ``state`` whose validity ended by ``up_to``,
        by end of validity then id, from after the ``(valid_until, id)`` of ``start_after``:
        the lifecycle sweep's work, read through an index on (state, operator, valid_until)
        so that its cost follows the lines that are due."""
        ...

    def expiring(
        self,
        *,
        operator_id: int,
        after: datetime,
        up_to: datetime,
        limit: int,
        start_after: tuple[datetime, int] | None = None,
    ) -> builtins.list[Line]:
        """The operator's active lines with ``after < valid_until <= up_to``, by end of
        validity then id, from after the ``(valid_until, id)`` of ``start_after``: the
        reminders' work, through the same index as ``due``."""
        ...

    def record_event(
        self,
        *,
        operator_id: int,
        line_id: int,
        from_state: LineState,
        to_state: LineState,
        reason: str,
        effective_at: datetime,
        now: datetime,
    ) -> None:
        """Keep a lifecycle transition: when it took effect by the rules, recorded ``now``."""
        ...

    def events(self, line_id: int) -> builtins.list[tuple[LineState, LineState, str, datetime]]:
        """The line's transitions, oldest first: (from, to, reason, effective_at)."""
        ...

    def set_email(self, line_id: int, *, email: str | None) -> None: ...

    def set_low_balance_threshold(self, line_id: int, *, threshold: int | None) -> None:
        """The line's own alert threshold (minor units); None returns it to the operator's."""
        ...

    def last_recycled_at(self, msisdn: str) -> datetime | None:
        """When the number was last recycled (None if never): quarantine starts then."""
        ...


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
