"""Ports of subscriber lines: their numbers, validity, lifecycle transitions and buckets."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from saldo.domain.buckets import Bucket
from saldo.domain.lifecycle import LineState
from saldo.domain.lines import Line
from saldo.domain.operator import Operator, SimKind


class NumberTaken(Exception):
    """A live line already has this MSISDN or ICCID."""


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


class LineToAdd(NamedTuple):
    """A new line of a batch (``LineRepository.add_many``): checked, normalised, not yet kept.
    A named tuple: an import makes one per row, and a tuple is made in a fraction of a frozen
    dataclass's time."""

    operator_id: int
    msisdn: str
    iccid: str | None
    sim_kind: SimKind
    language: str
    valid_until: datetime


class LineReads(Protocol):
    """The line reads of a balance inquiry."""

    def get_with_buckets(self, msisdn: str) -> LineWithBuckets | None:
        """The line, its operator and all its buckets, read in one query."""
        ...


class LineRepository(LineReads, Protocol):
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

    def set_email(
        self, line_id: int, *, email: str | None, verified_at: datetime | None = None
    ) -> None:
        """Keep ``email`` as the line's, proven at ``verified_at`` by a code sent to it
        (None: not proven)."""
        ...

    def set_reminder_days(self, line_id: int, *, days: tuple[int, ...] | None) -> None:
        """The days before expiry the line's reminders go (None: its operator's)."""
        ...

    def set_language(self, line_id: int, *, language: str) -> None:
        """The language of the line's messages (es, fr, nl, en, zh; one its operator offers)."""
        ...

    def set_low_balance_threshold(self, line_id: int, *, threshold: int | None) -> None:
        """The line's own alert threshold (minor units); None returns it to the operator's."""
        ...

    def last_recycled_at(self, msisdn: str) -> datetime | None:
        """When the number was last recycled (None if never): quarantine starts then."""
        ...

    def last_recycled_at_each(self, msisdns: Sequence[str]) -> dict[str, datetime]:
        """``last_recycled_at`` for many numbers in one query (numbers never recycled are
        left out)."""
        ...

    def live_taken(
        self, *, msisdns: Sequence[str], iccids: Sequence[str]
    ) -> tuple[set[str], set[str]]:
        """Which of these numbers and ICCIDs a live line holds already, in one query each."""
        ...

    def add_many(self, lines: Sequence[LineToAdd], *, now: datetime) -> builtins.list[int]:
        """Insert lines checked beforehand (``live_taken``), activated ``now``; their ids in
        order. Raise NumberTaken, with nothing inserted, if one is live elsewhere after all
        (another writer took it since)."""
        ...
