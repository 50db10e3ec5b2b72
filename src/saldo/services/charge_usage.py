"""Charging recorded use: call detail records (CDRs) rated at the operator's tariff and taken
from the line's buckets.

A record names the line, the service (voice, sms, data), when it started, how much was used
(seconds, messages, bytes) and, for voice and SMS, the destination. It is rated
(``domain.rating``: zone by longest prefix, on-net when the destination is a line of the
same operator, billing increments), its billable units are taken from the allowances that
cover them and the rest from money (``domain.usage``), in one balanced ledger transaction to
the operator's ``usage`` account, and added to the line's daily use. Each record id is
charged once per operator: importing a file again changes nothing. An import charges its
records in batches (``cdr_import``). Use that happened while the line was not active
(grace, suspension) is refused; money that is not there is reported as a shortfall, never
taken below zero.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from saldo.domain.buckets import Bucket
from saldo.domain.errors import SaldoError
from saldo.domain.ledger import OperatorAccount, Posting, check_balanced
from saldo.domain.lifecycle import LineState, state_at
from saldo.domain.lines import Line
from saldo.domain.numbering import lookup_msisdn
from saldo.domain.operator import Operator, Presentation
from saldo.domain.periods import local_date, require_aware
from saldo.domain.rating import Service, rate
from saldo.domain.usage import UsageCharge, split_charge
from saldo.services.lines import line_record
from saldo.services.ports import (
    DailyUsage,
    DuplicateIdempotencyKey,
    UnitOfWork,
    UsageRecord,
)

_DESTINATION: Final = re.compile(r"\+[1-9][0-9]{5,14}")
MAX_QUANTITY: Final = 10**12  # a terabyte, or 31,000 years of talk
# A switch's clock may run a little ahead of Saldo's; a record further ahead is refused.
CLOCK_LEEWAY: Final = timedelta(minutes=5)


class UnableToCharge(SaldoError):
    code = "unable_to_charge"


class NoTariff(UnableToCharge):
    code = "no_tariff"


class LineNotActive(UnableToCharge):
    code = "line_not_active"


class UsageInTheFuture(UnableToCharge):
    code = "usage_in_the_future"


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """One use of the network, as a CDR states it."""

    record_id: str
    msisdn: str
    service: Service
    started_at: datetime
    quantity: int
    destination: str | None = None


@dataclass(frozen=True, slots=True)
class ChargedUsage:
    record_id: str
    charge: UsageCharge


def charge_usage(uow: UnitOfWork, *, event: UsageEvent, now: datetime) -> ChargedUsage | None:
    """Rate and charge one record, in one transaction; None when this record id was charged
    before (nothing changes). Raises LineNotFound, NoTariff, UsageInTheFuture (a record that
    starts more than CLOCK_LEEWAY after ``now``), LineNotActive, UnableToRate."""
    now = require_aware(now)
    number, started_at = check_event(event, now=now)
    with uow:
        charged = charge_in(uow, event=event, number=number, started_at=started_at, now=now)
        uow.commit()
    return charged


def check_event(event: UsageEvent, *, now: datetime) -> tuple[str, datetime]:
    """The record's number and start, if its values can be charged at all."""
    number = lookup_msisdn(event.msisdn)
    started_at = require_aware(event.started_at)
    if started_at > now + CLOCK_LEEWAY:
        raise UsageInTheFuture(
            f"the record starts at {started_at:%Y-%m-%d %H:%M} UTC, which is in the future"
        )
    if not 0 <= event.quantity <= MAX_QUANTITY:
        raise UnableToCharge(f"a quantity is from 0 to {MAX_QUANTITY:,}")
    if event.destination is not None and not _DESTINATION.fullmatch(event.destination):
        raise UnableToCharge(f"destination {event.destination!r} is not an E.164 number")
    return number, started_at


def charge_in(
    uow: UnitOfWork, *, event: UsageEvent, number: str, started_at: datetime, now: datetime
) -> ChargedUsage | None:
    """``charge_usage`` inside an open unit of work (an import's rows, one at a time)."""
    record = line_record(uow, number=number, for_update=True)
    line, operator = record.line, record.operator
    assert operator.id is not None
    charged = uow.usage.get(operator_id=operator.id, record_id=event.record_id)
    if charged is not None:
        check_same_record(charged, event=event, line_id=line.id, started_at=started_at)
        return None
    check_chargeable(line, operator, number=number, started_at=started_at)
    on_net = False
    if event.destination is not None:
        callee = uow.lines.get_by_msisdn(event.destination)
        on_net = callee is not None and callee.operator.id == operator.id
    found = uow.lines.get_with_buckets(number)
    assert found is not None
    charge, usage = priced(
        event,
        line=line,
        operator=operator,
        buckets=found.buckets,
        on_net=on_net,
        started_at=started_at,
    )
    try:
        usage_id = uow.usage.add(usage, now=now)
    except DuplicateIdempotencyKey:
        return None
    _write_ledger(uow, operator_id=operator.id, line_id=line.id, usage_id=usage_id,
                  charge=charge, now=now)  # fmt: skip
    uow.usage.add_to_day(usage, day=local_date(started_at, timezone=operator.timezone))
    return ChargedUsage(record_id=event.record_id, charge=charge)


class RecordIdReused(UnableToCharge):
    code = "record_id_reused"


def check_chargeable(line: Line, operator: Operator, *, number: str, started_at: datetime) -> None:
    """Whether usage that started at ``started_at`` can be charged to ``line``: its operator
    rates usage, and the line was active then. Raises NoTariff, LineNotActive."""
    if operator.tariff is None:
        raise NoTariff(f"{operator.name} has no tariff in its catalog")
    then = state_at(
        stored_state=line.state,
        valid_until=line.valid_until,
        rules=operator.lifecycle,
        now=started_at,
    )
    if then is not LineState.ACTIVE or line.activated_at > started_at:
        raise LineNotActive(f"{number} was not active at {started_at:%Y-%m-%d %H:%M} UTC")


def priced(
    event: UsageEvent,
    *,
    line: Line,
    operator: Operator,
    buckets: Sequence[Bucket],
    on_net: bool,
    started_at: datetime,
) -> tuple[UsageCharge, UsageRecord]:
    """``event`` rated by the operator's tariff, split between the allowances of ``buckets``
    that cover it and money, and the usage record that keeps it (after
    ``check_chargeable``)."""
    tariff = operator.tariff
    assert tariff is not None and operator.id is not None  # check_chargeable; a stored one
    rated = rate(
        tariff=tariff,
        service=event.service,
        destination=event.destination,
        quantity=event.quantity,
        on_net=on_net,
    )
    charge = split_charge(
        rated=rated, tariff=tariff, buckets=buckets, currency=operator.currency, now=started_at
    )
    usage = UsageRecord(
        operator_id=operator.id,
        line_id=line.id,
        record_id=event.record_id,
        service=event.service.value,
        started_at=started_at,
        used=rated.used,
        billable=rated.billable,
        zone=rated.zone,
        destination=event.destination,
        allowance_used=charge.allowance_used,
        money=charge.money.minor,
        shortfall=charge.shortfall.minor,
        currency=operator.currency,
    )
    return charge, usage


def usage_memo(charge: UsageCharge) -> str:
    """What a usage charge's ledger transaction says: service, zone and billable units."""
    return f"{charge.rated.service} {charge.rated.zone} {charge.rated.billable}"


def check_same_record(
    charged: UsageRecord, *, event: UsageEvent, line_id: int, started_at: datetime
) -> None:
    """A record id seen before must be the same record (a re-import), not another one."""
    same = (
        charged.line_id == line_id
        and charged.service == event.service.value
        and charged.started_at == started_at
        and charged.used == event.quantity
        and charged.destination == event.destination
    )
    if not same:
        raise RecordIdReused(f"record {event.record_id} was charged before with other values")


def _write_ledger(
    uow: UnitOfWork,
    *,
    operator_id: int,
    line_id: int,
    usage_id: int,
    charge: UsageCharge,
    now: datetime,
) -> None:
    postings: list[Posting] = []
    after: dict[int, int] = {}
    for debit in charge.debits:
        if not debit.amount:
            continue
        balance = uow.accounts.change_balance(debit.bucket_id, -debit.amount)
        assert balance is not None, "the line is locked: its buckets cannot have changed"
        after[debit.bucket_id] = balance
        usage = uow.accounts.operator_account(
            operator_id=operator_id, kind=OperatorAccount.USAGE, unit=debit.unit, now=now
        )
        postings += [
            Posting(account_id=debit.bucket_id, unit=debit.unit, amount=-debit.amount),
            Posting(account_id=usage, unit=debit.unit, amount=debit.amount),
        ]
    if not postings:
        return
    check_balanced(postings)
    uow.ledger.record(
        operator_id=operator_id,
        line_id=line_id,
        event_type="usage",
        event_id=usage_id,
        postings=postings,
        balances_after=after,
        memo=usage_memo(charge),
        now=now,
    )


def line_usage(uow: UnitOfWork, *, msisdn: str, days: int, now: datetime) -> list[DailyUsage]:
    """The line's use per day and service over the last ``days`` days (the operator's local
    days, today included). Raises LineNotFound."""
    return usage_report(uow, msisdn=msisdn, days=days, now=now).days


@dataclass(frozen=True, slots=True)
class UsageReport:
    """A line's use per day and service, and how to show it to the line."""

    days: list[DailyUsage]
    shown: Presentation


def usage_report(uow: UnitOfWork, *, msisdn: str, days: int, now: datetime) -> UsageReport:
    """``line_usage`` with the line's presentation, read at once. Raises LineNotFound."""
    number = lookup_msisdn(msisdn)
    with uow.reading():
        record = line_record(uow, number=number)
        operator = record.operator
        today = local_date(require_aware(now), timezone=operator.timezone)
        found = uow.usage.daily(line_id=record.line.id, since=today - timedelta(days=days - 1))
    return UsageReport(days=found, shown=operator.presentation_for(record.line.language))
