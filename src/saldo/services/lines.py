"""Registering subscriber lines, one at a time or from a CSV import, and reading them."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from saldo.domain.buckets import BucketKind
from saldo.domain.email_address import check_email
from saldo.domain.errors import SaldoError
from saldo.domain.lifecycle import LineState, state_at, valid_until_window
from saldo.domain.lines import Line, check_language
from saldo.domain.money import Money, parse_money
from saldo.domain.numbering import lookup_msisdn, normalize_iccid, normalize_msisdn
from saldo.domain.operator import Operator, Presentation, SimKind
from saldo.domain.periods import end_of_local_day_after, require_aware
from saldo.services.operators import UnknownOperator
from saldo.services.ports import (
    BalanceReads,
    LineRecord,
    LineToAdd,
    LineWithBuckets,
    NumberTaken,
    UnitOfWork,
    ValidityWindow,
)


class LineNotFound(SaldoError):
    code = "line_not_found"


class LineRecycled(SaldoError):
    """The line's number has expired for good: its state at the moment asked is recycled,
    whether or not the lifecycle sweep has written that down yet. ``language`` is the
    line's, to tell its subscriber."""

    code = "line_recycled"

    def __init__(self, message: str, *, language: str) -> None:
        super().__init__(message)
        self.language = language


def line_record(
    uow: UnitOfWork, *, number: str, for_update: bool = False, topup_key: str | None = None
) -> LineRecord:
    """The line with ``number`` (already in international format) and its operator, read in
    the caller's open transaction (locked ``for_update``; with ``topup_key``, whether a
    top-up already took that key); raise LineNotFound when no line has it."""
    record = uow.lines.get_by_msisdn(number, for_update=for_update, topup_key=topup_key)
    if record is None:
        raise LineNotFound(f"no line with number {number}")
    return record


def line_with_buckets(uow: BalanceReads, *, number: str) -> LineWithBuckets:
    """The line with ``number`` (already in international format), its operator and its
    buckets, read in the caller's open transaction; raise LineNotFound when no line has it."""
    record = uow.lines.get_with_buckets(number)
    if record is None:
        raise LineNotFound(f"no line with number {number}")
    return record


def live_state(*, line: Line, operator: Operator, now: datetime) -> LineState:
    """The line's state at ``now`` (``state_at``: the one rule every use case follows);
    raise LineRecycled when that is recycled."""
    state = state_at(
        stored_state=line.state, valid_until=line.valid_until, rules=operator.lifecycle, now=now
    )
    if state is LineState.RECYCLED:
        raise LineRecycled(
            f"{line.msisdn} has expired for good and is being recycled", language=line.language
        )
    return state


class LineAlreadyExists(SaldoError):
    code = "line_exists"


class UnableToSetAlert(SaldoError):
    code = "unable_to_set_alert"


class NumberInQuarantine(SaldoError):
    """The number was recycled too recently to be given to a new line."""

    code = "number_in_quarantine"


@dataclass(frozen=True, slots=True)
class NewLine:
    """A line as an operator asks for it: text as typed, checked by ``add_line``."""

    msisdn: str
    operator: str
    iccid: str | None = None
    sim_kind: SimKind = SimKind.PHYSICAL
    language: str | None = None


def add_line(uow: UnitOfWork, *, new_line: NewLine, now: datetime) -> Line:
    """Register a line with its main money bucket (empty) and the operator's initial validity.
    A recycled number is taken again only after the operator's quarantine days.

    Raises UnknownOperator, InvalidMsisdn, ForeignMsisdn, InvalidIccid, UnsupportedLanguage,
    NumberInQuarantine or LineAlreadyExists; nothing is written then.
    """
    now = require_aware(now)
    with uow:
        line = _add(uow, new_line=new_line, now=now, terms={})
        uow.commit()
    return line


def _add(uow: UnitOfWork, *, new_line: NewLine, now: datetime, terms: dict[str, _Terms]) -> Line:
    line, operator = _checked(uow, new_line=new_line, now=now, terms=terms)
    _check_quarantine(line.msisdn, uow.lines.last_recycled_at(line.msisdn), operator, now)
    try:
        added = _keep(uow, line, now=now)
    except NumberTaken:
        raise _already_exists(line.msisdn) from None
    uow.accounts.open_bucket(
        operator_id=line.operator_id,
        line_id=added.id,
        kind=BucketKind.MAIN,
        unit=operator.currency,
        expires_at=None,
        now=now,
    )
    return added


@dataclass(frozen=True, slots=True)
class _Terms:
    """What every new line of an operator gets at one ``now``: read (and share-locked) once
    per transaction, so an import's rows do not read it, or work it out, again."""

    operator: Operator
    operator_id: int
    languages: tuple[str, ...]
    valid_until: datetime


def _terms_of(uow: UnitOfWork, slug: str, *, now: datetime, terms: dict[str, _Terms]) -> _Terms:
    found = terms.get(slug)
    if found is not None:
        return found
    # Share-locked: an update of the operator's country or currency (which looks for its
    # lines first, under an exclusive lock) waits for this line, or this line for it.
    operator = uow.operators.get_by_slug(slug, for_share=True)
    if operator is None or operator.id is None:
        raise UnknownOperator(f"no operator {slug!r}")
    found = _Terms(
        operator=operator,
        operator_id=operator.id,
        languages=operator.languages,
        valid_until=end_of_local_day_after(
            now, operator.lifecycle.initial_validity_days, timezone=operator.timezone
        ),
    )
    terms[slug] = found
    return found


def _checked(
    uow: UnitOfWork, *, new_line: NewLine, now: datetime, terms: dict[str, _Terms]
) -> tuple[LineToAdd, Operator]:
    """The line as it would be kept (number and ICCID normalised, language, validity) and its
    operator: the rules that need no other line. Raises UnknownOperator, InvalidMsisdn,
    InvalidIccid, UnsupportedLanguage."""
    offer = _terms_of(uow, new_line.operator, now=now, terms=terms)
    operator = offer.operator
    line = LineToAdd(
        operator_id=offer.operator_id,
        msisdn=normalize_msisdn(new_line.msisdn, country=operator.country),
        iccid=normalize_iccid(new_line.iccid) if new_line.iccid else None,
        sim_kind=new_line.sim_kind,
        language=check_language(new_line.language or offer.languages[0], offered=offer.languages),
        valid_until=offer.valid_until,
    )
    return line, operator


def _check_quarantine(
    msisdn: str, recycled_at: datetime | None, operator: Operator, now: datetime
) -> None:
    quarantine = timedelta(days=operator.lifecycle.quarantine_days)
    if recycled_at is not None and now < recycled_at + quarantine:
        raise NumberInQuarantine(
            f"{msisdn} was recycled on {recycled_at:%Y-%m-%d}; it rests until "
            f"{recycled_at + quarantine:%Y-%m-%d} before a new line may take it"
        )


def _already_exists(msisdn: str) -> LineAlreadyExists:
    return LineAlreadyExists(f"{msisdn} (or its ICCID) already belongs to a live line")


@dataclass(slots=True)
class ImportReport:
    imported: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def import_lines(
    uow: UnitOfWork,
    *,
    rows: Iterable[tuple[int, NewLine | SaldoError]],
    now: datetime,
    chunk_size: int = 1000,
    on_rows: Callable[[int], None] | None = None,
) -> ImportReport:
    """Register many lines: valid rows are added, each rejected row is reported with its
    number and reason, exactly as adding them one at a time in their order would. Rows arrive
    already parsed (``NewLine``) or as the error that made them unreadable. A chunk of
    ``chunk_size`` rows is one transaction, checked with a few queries and written with one
    insert of lines and one of their buckets, so memory stays flat and the rate is the
    database's, not a round trip's per row. ``on_rows`` is told how many rows each chunk
    settled, once it is committed."""
    now = require_aware(now)
    report = ImportReport()
    pending = iter(rows)
    while chunk := list(itertools.islice(pending, chunk_size)):
        with uow:
            # Read (and share-locked) once per transaction: a lock ends with its transaction.
            _import_chunk(uow, chunk, now=now, terms={}, report=report)
            uow.commit()
        if on_rows is not None:
            on_rows(len(chunk))
    return report


def _import_chunk(
    uow: UnitOfWork,
    chunk: list[tuple[int, NewLine | SaldoError]],
    *,
    now: datetime,
    terms: dict[str, _Terms],
    report: ImportReport,
) -> None:
    rejected: list[tuple[int, str]] = []
    checked: list[tuple[int, LineToAdd, Operator]] = []
    for number, row in chunk:
        try:
            if isinstance(row, SaldoError):
                raise row
            line, operator = _checked(uow, new_line=row, now=now, terms=terms)
            checked.append((number, line, operator))
        except SaldoError as error:
            rejected.append((number, error.message))
    recycled = uow.lines.last_recycled_at_each([line.msisdn for _, line, _ in checked])
    taken_numbers, taken_cards = uow.lines.live_taken(
        msisdns=[line.msisdn for _, line, _ in checked],
        iccids=[line.iccid for _, line, _ in checked if line.iccid],
    )
    chosen: list[tuple[int, LineToAdd, Operator]] = []
    for one in checked:
        number, line, operator = one
        try:
            if recycled:
                _check_quarantine(line.msisdn, recycled.get(line.msisdn), operator, now)
            if line.msisdn in taken_numbers or (line.iccid and line.iccid in taken_cards):
                raise _already_exists(line.msisdn)
        except SaldoError as error:
            rejected.append((number, error.message))
            continue
        # A later row of the chunk with the same number or ICCID finds this one taken.
        taken_numbers.add(line.msisdn)
        if line.iccid:
            taken_cards.add(line.iccid)
        chosen.append(one)
    kept: list[tuple[tuple[int, LineToAdd, Operator], int]]
    try:
        ids = uow.lines.add_many([line for _, line, _ in chosen], now=now)
        kept = list(zip(chosen, ids, strict=True))
    except NumberTaken:
        # Another writer took one of these numbers since they were read: one at a time, so
        # that only that row is refused.
        kept = []
        for one in chosen:
            try:
                kept.append((one, _keep(uow, one[1], now=now).id))
            except NumberTaken:
                rejected.append((one[0], _already_exists(one[1].msisdn).message))
    uow.accounts.open_main_buckets(
        [(line.operator_id, line_id, operator.currency) for (_, line, operator), line_id in kept],
        now=now,
    )
    report.imported += len(kept)
    report.rejected.extend(sorted(rejected))


def _keep(uow: UnitOfWork, line: LineToAdd, *, now: datetime) -> Line:
    return uow.lines.add(
        operator_id=line.operator_id,
        msisdn=line.msisdn,
        iccid=line.iccid,
        sim_kind=line.sim_kind,
        language=line.language,
        activated_at=now,
        valid_until=line.valid_until,
        now=now,
    )


def find_line(uow: UnitOfWork, *, msisdn: str) -> Line:
    """The line with this number (international format); raise LineNotFound otherwise."""
    number = lookup_msisdn(msisdn)
    with uow.reading():
        record = line_record(uow, number=number)
    return record.line


def line_and_operator(uow: UnitOfWork, *, msisdn: str) -> LineRecord:
    """The line with this number and its operator, read at once: for a use case that needs
    the operator's currency, locale or time zone to read what a person typed before it acts.
    Raises InvalidMsisdn or LineNotFound."""
    number = lookup_msisdn(msisdn)
    with uow.reading():
        return line_record(uow, number=number)


def identify_line(uow: UnitOfWork, *, msisdn: str, now: datetime) -> LineWithBuckets:
    """The line with this number, its operator and its buckets, read at once; raise
    InvalidMsisdn or LineNotFound, and LineRecycled when the line's state at ``now`` is
    recycled (written down by the sweep or not: every use case answers it alike)."""
    number = lookup_msisdn(msisdn)
    with uow.reading():
        return live_line_with_buckets(uow, number=number, now=now)


def live_line_with_buckets(uow: UnitOfWork, *, number: str, now: datetime) -> LineWithBuckets:
    """``identify_line`` for a number already in international format, read in the caller's
    open transaction (beside what else the caller reads there); raises what it raises."""
    record = line_with_buckets(uow, number=number)
    live_state(line=record.line, operator=record.operator, now=require_aware(now))
    return record


@dataclass(frozen=True, slots=True)
class LineView:
    """A line as an operator looks it up: its operator, and its state at the moment asked."""

    msisdn: str
    operator: str
    iccid: str | None
    sim_kind: SimKind
    language: str
    state: LineState
    activated_at: datetime
    valid_until: datetime


def _view(line: Line, operator: Operator, *, now: datetime) -> LineView:
    return LineView(
        msisdn=line.msisdn,
        operator=operator.slug,
        iccid=line.iccid,
        sim_kind=line.sim_kind,
        language=line.language,
        state=state_at(
            stored_state=line.state,
            valid_until=line.valid_until,
            rules=operator.lifecycle,
            now=now,
        ),
        activated_at=line.activated_at,
        valid_until=line.valid_until,
    )


def show_line(uow: UnitOfWork, *, msisdn: str, now: datetime) -> LineView:
    """The line with this number as it stands at ``now``; raise LineNotFound otherwise."""
    number = lookup_msisdn(msisdn)
    with uow.reading():
        record = line_record(uow, number=number)
    return _view(record.line, record.operator, now=require_aware(now))


def register_line(uow: UnitOfWork, *, new_line: NewLine, now: datetime) -> LineView:
    """``add_line``, answered with the new line as ``show_line`` shows it; raises what
    ``add_line`` raises."""
    line = add_line(uow, new_line=new_line, now=now)
    return show_line(uow, msisdn=line.msisdn, now=now)


def list_lines(
    uow: UnitOfWork,
    *,
    now: datetime,
    operator: str | None = None,
    state: LineState | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[LineView]:
    """Lines in registration order, with their state at ``now``; ``state`` keeps those in
    that state at ``now`` (computed from each operator's rules, so it is right even before
    the lifecycle worker has written the state down)."""
    now = require_aware(now)
    with uow.reading():
        operators = {op.id: op for op in uow.operators.list() if op.id is not None}
        chosen = list(operators.values())
        if operator is not None:
            chosen = [op for op in chosen if op.slug == operator]
            if not chosen:
                raise UnknownOperator(f"no operator {operator!r}")
        windows = None
        if state is not None:
            windows = [
                ValidityWindow(op.id, *valid_until_window(state, rules=op.lifecycle, now=now))
                for op in chosen
                if op.id is not None
            ]
        lines = uow.lines.list(
            operator_id=chosen[0].id if operator is not None else None,
            windows=windows,
            recycled=None if state is None else state is LineState.RECYCLED,
            limit=limit,
            offset=offset,
        )
    return [_view(line, operators[line.operator_id], now=now) for line in lines]


def set_line_email(uow: UnitOfWork, *, msisdn: str, email: str | None) -> Line:
    """Keep (or, with None, forget) the address where the line's reminders and receipts go
    by email, not proven (no sign-in code goes to it). Raises LineNotFound, InvalidEmail."""
    number = lookup_msisdn(msisdn)
    address = None if email is None else check_email(email)
    with uow:
        record = line_record(uow, number=number, for_update=True)
        uow.lines.set_email(record.line.id, email=address)
        uow.commit()
    return replace(record.line, email=address, email_verified_at=None)


@dataclass(frozen=True, slots=True)
class LowBalanceAlert:
    """When a line is told its main money runs low: below ``threshold`` (None: never),
    the line's ``own`` threshold or its operator's."""

    msisdn: str
    threshold: Money | None
    own: bool
    presentation: Presentation


def check_threshold(threshold: Money, *, currency: str) -> Money:
    """``threshold`` when it can be a line's low-balance threshold: an amount above zero in
    the line's ``currency``. Raises UnableToSetAlert."""
    if threshold.currency != currency or threshold.minor <= 0:
        # Zero would never alert (a balance does not go below it): the operator's
        # threshold is taken back with no threshold (None), not with zero.
        raise UnableToSetAlert(f"a threshold for this line is an amount above zero in {currency}")
    return threshold


def set_low_balance_alert(
    uow: UnitOfWork, *, msisdn: str, threshold: Money | str | None
) -> LowBalanceAlert:
    """Alert the line when its main money falls below ``threshold`` (None: the operator's
    threshold again), an amount or one as a person typed it (read in the operator's currency
    and locale: "5.000" in Colombia); return the alert now in force. Raises LineNotFound,
    an amount that cannot be read, UnableToSetAlert (another currency, zero or a negative
    amount)."""
    number = lookup_msisdn(msisdn)
    with uow:
        record = line_record(uow, number=number, for_update=True)
        operator = record.operator
        if isinstance(threshold, str):
            threshold = parse_money(
                threshold, currency=operator.currency, locale=operator.default_locale
            )
        if threshold is not None:
            check_threshold(threshold, currency=operator.currency)
        minor = None if threshold is None else threshold.minor
        uow.lines.set_low_balance_threshold(record.line.id, threshold=minor)
        uow.commit()
    return LowBalanceAlert(
        msisdn=record.line.msisdn,
        threshold=threshold if threshold is not None else operator.low_balance_threshold,
        own=threshold is not None,
        presentation=operator.presentation_for(record.line.language),
    )
