"""Balance inquiry: everything a subscriber asks when they text SALDO, in one read."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from saldo.domain.buckets import BucketKind
from saldo.domain.lifecycle import LineState, state_at
from saldo.domain.money import Money
from saldo.domain.numbering import lookup_msisdn
from saldo.domain.periods import require_aware, whole_days_between
from saldo.services.lines import line_with_buckets
from saldo.services.ports import BalanceReads, LineWithBuckets


class BucketView(NamedTuple):
    kind: BucketKind
    unit: str
    amount: int
    expires_at: datetime | None


class BalanceView(NamedTuple):
    """A plain view of a line, ready to render in any channel. The views are named tuples:
    as immutable as frozen dataclasses and made in half the time, on the path that answers
    every SALDO."""

    msisdn: str
    operator: str
    operator_name: str
    locale: str
    timezone: str
    state: LineState
    valid_until: datetime
    recycles_at: datetime
    days_until_recycling: int
    main: Money
    bonus: Money
    voice_seconds: int
    sms: int
    data_bytes: int
    buckets: tuple[BucketView, ...]


def inquire_balance(uow: BalanceReads, *, msisdn: str, now: datetime) -> BalanceView:
    """Every usable bucket of the line, its validity, its state at ``now`` and the days left
    before the number would be recycled. Expired buckets count for nothing and are not shown.
    Raises InvalidMsisdn or LineNotFound."""
    number = lookup_msisdn(msisdn)
    with uow.reading():
        found = line_with_buckets(uow, number=number)
    return balance_view(found, now=now)


def balance_view(found: LineWithBuckets, *, now: datetime) -> BalanceView:
    """The balance view of a line already read with its buckets (no further reads)."""
    now = require_aware(now)
    line, operator = found.line, found.operator
    rules = operator.lifecycle
    totals = _NOTHING.copy()
    shown = []
    for bucket in found.buckets:
        if bucket.expires_at is None or now < bucket.expires_at:
            totals[bucket.kind] += bucket.balance
            if bucket.balance or bucket.kind is BucketKind.MAIN:
                shown.append(
                    BucketView(
                        kind=bucket.kind,
                        unit=bucket.unit,
                        amount=bucket.balance,
                        expires_at=bucket.expires_at,
                    )
                )
    recycles_at = rules.recycles_at(line.valid_until)
    state = state_at(stored_state=line.state, valid_until=line.valid_until, rules=rules, now=now)
    return BalanceView(
        msisdn=line.msisdn,
        operator=operator.slug,
        operator_name=operator.name,
        locale=operator.locale_for(line.language),
        timezone=operator.timezone,
        state=state,
        valid_until=line.valid_until,
        recycles_at=recycles_at,
        days_until_recycling=(
            0 if state is LineState.RECYCLED else whole_days_between(now, recycles_at)
        ),
        main=Money(totals[BucketKind.MAIN], operator.currency),
        bonus=Money(totals[BucketKind.BONUS], operator.currency),
        voice_seconds=totals[BucketKind.VOICE],
        sms=totals[BucketKind.SMS],
        data_bytes=totals[BucketKind.DATA],
        buckets=tuple(shown),
    )


_NOTHING = dict.fromkeys(BucketKind, 0)
