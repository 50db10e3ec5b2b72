"""Holding units for real-time charging: what a reservation takes from a line's buckets,
what a report charges out of it, what goes back, and the ledger transactions of each.

A reservation moves the covering allowances and the money for the rest from the line's
buckets into the operator's ``reservations`` account; a report moves what was used from
there to ``usage`` and the rest back to the buckets it came from. Billing increments and
money rounding apply to a session's whole use: each report is priced as the difference
between the session's total before and after it. The line's row is locked by the caller.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Final

from saldo.domain.buckets import consumption_order, unit_of
from saldo.domain.errors import SaldoError
from saldo.domain.ledger import OperatorAccount, Posting, check_balanced
from saldo.domain.lifecycle import LineState, state_at
from saldo.domain.periods import local_date
from saldo.domain.rating import Rated, Service, UnableToRate, price_of, rate
from saldo.services.ports import LineRecord, StoredSession, UnitOfWork, UsageRecord

log = logging.getLogger(__name__)

RESERVATION_VALIDITY: Final = timedelta(minutes=5)


class ChargingRefused(SaldoError):
    """A request the network element must not serve; ``result_code`` is Diameter's."""

    code = "charging_refused"
    result_code = 5012

    def __init__(self, message: str) -> None:
        super().__init__(message)


class UserUnknown(ChargingRefused):
    code = "user_unknown"
    result_code = 5030


class ServiceDenied(ChargingRefused):
    code = "service_denied"
    result_code = 4010


class CreditLimitReached(ChargingRefused):
    code = "credit_limit"
    result_code = 4012


class RatingFailed(ChargingRefused):
    code = "rating_failed"
    result_code = 5031


class StaleRequest(ChargingRefused):
    """A report older than the session's last one."""

    code = "stale_request"
    result_code = 5017


class UnknownSession(ChargingRefused):
    code = "unknown_session"
    result_code = 5002


class SessionKeyReused(ChargingRefused):
    """An element's session (or SMS event) id sent again for another line, service or
    destination: answering with the first session would bill the wrong line."""

    code = "session_id_reused"
    result_code = 5012


def check_active(record: LineRecord, *, now: datetime) -> None:
    state = state_at(
        stored_state=record.line.state,
        valid_until=record.line.valid_until,
        rules=record.operator.lifecycle,
        now=now,
    )
    if state is not LineState.ACTIVE:
        raise ServiceDenied(f"the line is {state}: it cannot spend")
    if record.operator.tariff is None:
        raise RatingFailed(f"{record.operator.name} has no tariff")


def rated_use(record: LineRecord, session: StoredSession, raw: int) -> Rated:
    tariff = record.operator.tariff
    assert tariff is not None
    try:
        return rate(
            tariff=tariff,
            service=Service(session.service),
            destination=session.destination,
            quantity=raw,
            on_net=session.on_net,
        )
    except UnableToRate as error:
        raise RatingFailed(error.message) from None


def money_for(record: LineRecord, session: StoredSession, *, zone: str, units: int) -> int:
    """Minor units owed for ``units`` billable units paid with money over the whole session
    (rounded once, for the session's total)."""
    tariff = record.operator.tariff
    assert tariff is not None
    if not units:
        return 0
    return price_of(
        tariff=tariff, service=Service(session.service), zone=zone, billable=units
    ).minor


def reserve(
    uow: UnitOfWork,
    *,
    record: LineRecord,
    session: StoredSession,
    requested: int,
    now: datetime,
) -> StoredSession:
    """Hold what ``requested`` more units would cost on top of the session's use so far:
    covering allowances first, then money (bonus before main), all or nothing, from the
    line's buckets into the operator's reservations account."""
    if requested <= 0:
        raise RatingFailed("ask for at least one unit")
    currency = record.operator.currency
    so_far = rated_use(record, session, session.used_raw) if session.used_raw else None
    then = rated_use(record, session, session.used_raw + requested)
    grant = then.billable - (so_far.billable if so_far else 0)
    found = uow.lines.get_with_buckets(record.line.msisdn)
    assert found is not None
    held: list[dict[str, Any]] = []
    units = grant
    if then.allowance is not None:
        unit = unit_of(then.allowance, currency=currency)
        for bucket in consumption_order(found.buckets, unit=unit, now=now):
            if bucket.kind is not then.allowance or not units:
                continue
            take = min(bucket.balance, units)
            held.append({"bucket": bucket.id, "unit": unit, "amount": take})
            units -= take
    money_buckets = consumption_order(found.buckets, unit=currency, now=now)
    owed = money_for(record, session, zone=then.zone, units=session.money_units + units)
    owed -= session.money_billed
    if units and (owed > sum(b.balance for b in money_buckets) or not money_buckets):
        raise CreditLimitReached(f"{grant} more units cost more than the line has")
    for bucket in money_buckets:
        if owed <= 0:
            break
        take = min(bucket.balance, owed)
        held.append({"bucket": bucket.id, "unit": currency, "amount": take})
        owed -= take
    balances: dict[int, int] = {}
    for part in held:
        after = uow.accounts.change_balance(part["bucket"], -part["amount"])
        assert after is not None, "the line is locked: its buckets cannot have changed"
        balances[part["bucket"]] = after
    reservation_ledger(
        uow,
        record=record,
        moves=to_reservations(held),
        event=session.id,
        now=now,
        memo=f"reserved {grant} for {session.service}",
        balances=balances,
    )
    return replace(session, reserved=grant, held=held, expires_at=now + RESERVATION_VALIDITY)


def charge_held(
    uow: UnitOfWork, *, record: LineRecord, session: StoredSession, used: int, now: datetime
) -> StoredSession:
    """Charge ``used`` more units out of what the session holds: the session's whole use is
    rated again (increments and rounding apply once per session), and the difference from
    what was billed before is taken, allowances first, then money. Use beyond the
    reservation is not charged (the element was told how much it could serve)."""
    if not used:
        return session
    operator = record.operator
    assert operator.id is not None
    rated = rated_use(record, session, session.used_raw + used)
    billable = min(rated.billable - session.used, session.reserved)
    if rated.billable - session.used > session.reserved:
        log.warning("session %s reported more than it was granted; the excess is free", session.id)
    held = [dict(part) for part in session.held]
    units = billable
    charged: list[tuple[int, int, str, int]] = []
    usage_account: dict[str, int] = {}
    for part in held:
        if part["unit"] == operator.currency or not units:
            continue
        take = min(part["amount"], units)
        part["amount"] -= take
        units -= take
        charged.append((part["bucket"], 0, part["unit"], take))
    money_units = session.money_units + units
    due = money_for(record, session, zone=rated.zone, units=money_units) - session.money_billed
    money = 0
    for part in held:
        if part["unit"] != operator.currency or due <= 0:
            continue
        take = min(part["amount"], due)
        part["amount"] -= take
        due -= take
        money += take
        charged.append((part["bucket"], 0, part["unit"], take))
    moves = []
    for _bucket, _zero, unit, amount in charged:
        if unit not in usage_account:
            usage_account[unit] = uow.accounts.operator_account(
                operator_id=operator.id, kind=OperatorAccount.USAGE, unit=unit, now=now
            )
        moves.append((-1, usage_account[unit], unit, amount))
    reservation_ledger(
        uow,
        record=record,
        moves=moves,
        event=session.id,
        now=now,
        memo=f"{session.service}: {billable} used",
        balances={},  # from reservations to usage: no line bucket moves
    )
    uow.usage.add_to_day(
        UsageRecord(
            operator_id=operator.id,
            line_id=record.line.id,
            record_id=f"session-{session.id}",
            service=session.service,
            started_at=now,
            used=used,
            billable=billable,
            zone=rated.zone,
            destination=session.destination,
            allowance_used=billable - units,
            money=money,
            shortfall=0,
            currency=operator.currency,
        ),
        day=local_date(now, timezone=operator.timezone),
    )
    return replace(
        session,
        held=held,
        used_raw=session.used_raw + used,
        used=session.used + billable,
        money_units=money_units,
        money_billed=session.money_billed + money,
    )


def give_back(
    uow: UnitOfWork, *, record: LineRecord, session: StoredSession, now: datetime
) -> StoredSession:
    """Return what the session still holds to the buckets it came from."""
    balances: dict[int, int] = {}
    moves = []
    for part in session.held:
        if not part["amount"]:
            continue
        after = uow.accounts.change_balance(part["bucket"], part["amount"])
        assert after is not None
        balances[part["bucket"]] = after
        moves.append((-1, part["bucket"], part["unit"], part["amount"]))
    reservation_ledger(
        uow,
        record=record,
        moves=moves,
        event=session.id,
        now=now,
        memo="reservation given back",
        balances=balances,
    )
    return replace(session, held=[], reserved=0)


def to_reservations(held: list[dict[str, Any]]) -> list[tuple[int, int, str, int]]:
    """Ledger moves of a new reservation: each held part from its bucket to the operator's
    reservations account (-1)."""
    return [(part["bucket"], -1, part["unit"], part["amount"]) for part in held]


def reservation_ledger(
    uow: UnitOfWork,
    *,
    record: LineRecord,
    moves: list[tuple[int, int, str, int]],
    event: int,
    now: datetime,
    memo: str,
    balances: dict[int, int],
) -> None:
    """One balanced transaction of ``moves`` (from account, to account, unit, amount); -1
    stands for the operator's reservations account in that unit. ``balances``: the line
    buckets' balances after the moves, as the caller's conditional updates returned them."""
    operator = record.operator
    assert operator.id is not None
    postings: list[Posting] = []
    for source, target, unit, amount in moves:
        if not amount:
            continue
        reservations = 0
        if -1 in (source, target):
            reservations = uow.accounts.operator_account(
                operator_id=operator.id, kind=OperatorAccount.RESERVATIONS, unit=unit, now=now
            )
        postings += [
            Posting(account_id=reservations if source == -1 else source, unit=unit, amount=-amount),
            Posting(account_id=reservations if target == -1 else target, unit=unit, amount=amount),
        ]
    if not postings:
        return
    check_balanced(postings)
    uow.ledger.record(
        operator_id=operator.id,
        line_id=record.line.id,
        event_type="charging",
        event_id=event,
        postings=postings,
        balances_after=balances,
        memo=memo,
        now=now,
    )
