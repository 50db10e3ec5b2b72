"""What buying a plan does to a line, however it was paid: the validity extended by the
plan's calendar months (and any free ones) in the operator's time zone, the plan's and the
add-ons' minutes, SMS and data granted as buckets, the money moved from whoever paid to the
operator's sales, all in one balanced ledger transaction. Purchases from the balance
(``buy_plan``) and paid orders (``orders``) both go through ``fulfil_plan``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from saldo.domain.buckets import BucketKind, unit_of
from saldo.domain.ledger import OperatorAccount, Posting, check_balanced
from saldo.domain.lifecycle import LineState
from saldo.domain.lines import Line
from saldo.domain.money import Money
from saldo.domain.operator import Allowances, Operator
from saldo.domain.periods import renewed_until
from saldo.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Grant:
    """Allowances granted with a purchase, expiring at ``expires_at`` (None: with the new
    validity)."""

    allowances: Allowances
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Fulfilled:
    valid_until: datetime
    balances_after: dict[int, int]


def addon_grant(allowances: Allowances, *, validity_days: int, now: datetime) -> Grant:
    """An add-on's allowances, which last their own days from the purchase."""
    return Grant(allowances, expires_at=now + timedelta(days=validity_days))


def fulfil_plan(
    uow: UnitOfWork,
    *,
    operator: Operator,
    line: Line,
    months: int,
    grants: Sequence[Grant],
    price: Money,
    paid_from: int,
    event_type: str,
    event_id: int,
    memo: str,
    now: datetime,
    balances_after: dict[int, int] | None = None,
) -> Fulfilled:
    """Extend the line by ``months`` (from its current end of validity, or from now when
    that has passed), grant ``grants``, move ``price`` from account ``paid_from`` (the line's
    main bucket, already debited by the caller, or the operator's payments account) to
    sales, write the ledger and bring a lapsing line back to active. The line's row is
    locked by the caller. ``balances_after`` carries the caller's new balance of
    ``paid_from`` when it is a line bucket."""
    assert operator.id is not None
    valid_until = renewed_until(line.valid_until, months, timezone=operator.timezone, now=now)
    sales = uow.accounts.operator_account(
        operator_id=operator.id, kind=OperatorAccount.SALES, unit=operator.currency, now=now
    )
    postings = []
    if price.minor:
        postings += [
            Posting(account_id=paid_from, unit=price.currency, amount=-price.minor),
            Posting(account_id=sales, unit=price.currency, amount=price.minor),
        ]
    after = dict(balances_after or {})
    for grant in grants:
        granted = (
            (BucketKind.VOICE, grant.allowances.voice_seconds),
            (BucketKind.SMS, grant.allowances.sms),
            (BucketKind.DATA, grant.allowances.data_bytes),
        )
        for kind, quantity in granted:
            if quantity <= 0:
                continue
            unit = unit_of(kind, currency=operator.currency)
            bucket = uow.accounts.open_bucket(
                operator_id=operator.id,
                line_id=line.id,
                kind=kind,
                unit=unit,
                expires_at=grant.expires_at or valid_until,
                now=now,
            )
            balance = uow.accounts.change_balance(bucket, quantity)
            assert balance is not None
            after[bucket] = balance
            source = uow.accounts.operator_account(
                operator_id=operator.id, kind=OperatorAccount.ALLOWANCES, unit=unit, now=now
            )
            postings += [
                Posting(account_id=source, unit=unit, amount=-quantity),
                Posting(account_id=bucket, unit=unit, amount=quantity),
            ]
    if postings:
        check_balanced(postings)
        uow.ledger.record(
            operator_id=operator.id,
            line_id=line.id,
            event_type=event_type,
            event_id=event_id,
            postings=postings,
            balances_after=after,
            memo=memo,
            now=now,
        )
    reactivated = None if line.state is LineState.ACTIVE else LineState.ACTIVE
    uow.lines.set_validity(line.id, valid_until=valid_until, state=reactivated, now=now)
    return Fulfilled(valid_until=valid_until, balances_after=after)
