"""Real-time charging, in the manner of Diameter credit control.

A network element opens a session for a line and a service and asks for units (seconds of
a call, bytes of data). Saldo rates them and **reserves** them: the allowances that cover
them and the money for the rest move from the line's buckets to the operator's
``reservations`` account, in one locked, balanced transaction, so that two sessions on one
line can never spend the same money. An update reports the units used since the last one
(they are charged: held → ``usage``) and asks for more; termination charges the final use
and gives back the rest (held → the buckets they came from). A reservation that goes silent
expires after ``RESERVATION_VALIDITY`` and its units come back (``expire_sessions``, run by
the worker). A one-shot SMS is reserved and charged at once.

A grant is all or nothing: when the line cannot pay for the units asked, the request is
refused (``credit_limit_reached``) and nothing is held. Refusals carry a standard reason:

================= ==================== ===========================================
code              Diameter result code when
================= ==================== ===========================================
user_unknown      5030                 no line with that number for this operator
service_denied    4010                 the line is in grace or suspended, or recycled
credit_limit      4012                 not enough allowances and money
rating_failed     5031                 the tariff cannot rate the use
================= ==================== ===========================================
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from saldo.domain.errors import SaldoError
from saldo.domain.ledger import OperatorAccount, Posting, check_balanced
from saldo.domain.lifecycle import LineState, state_at
from saldo.domain.numbering import lookup_msisdn
from saldo.domain.periods import local_date, require_aware
from saldo.domain.rating import Rated, Service, UnableToRate, price_of, rate
from saldo.domain.usage import split_charge
from saldo.services.operators import UnknownOperator
from saldo.services.ports import (
    DuplicateIdempotencyKey,
    LineRecord,
    StoredSession,
    UnitOfWork,
    UsageRecord,
)

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


class UnknownSession(ChargingRefused):
    code = "unknown_session"
    result_code = 5002


@dataclass(frozen=True, slots=True)
class Grant:
    session_id: int
    granted: int  # units the element may use before it reports (seconds, messages, bytes)
    expires_at: datetime | None
    charged: int = 0  # units charged so far in the session (billable)


def new_api_key() -> str:
    """A network element's API key, shown once."""
    return "ne_" + secrets.token_urlsafe(32)


def start_session(
    uow: UnitOfWork,
    *,
    operator_id: int,
    element_id: int,
    msisdn: str,
    service: Service,
    destination: str | None,
    requested: int,
    now: datetime,
) -> Grant:
    """Open a session and reserve ``requested`` units. Raises ChargingRefused."""
    now = require_aware(now)
    with uow:
        record = _live_line(uow, operator_id=operator_id, msisdn=msisdn, now=now)
        on_net = _on_net(uow, record=record, destination=destination)
        rated, held = _reserve(
            uow,
            record=record,
            service=service,
            destination=destination,
            on_net=on_net,
            requested=requested,
            now=now,
        )
        assert record.operator.id is not None
        session_id = uow.charging.open_session(
            operator_id=record.operator.id,
            line_id=record.line.id,
            element_id=element_id,
            msisdn=record.line.msisdn,
            service=service.value,
            destination=destination,
            on_net=on_net,
            reserved=rated.billable,
            held=held,
            expires_at=now + RESERVATION_VALIDITY,
            now=now,
        )
        _ledger(
            uow,
            record=record,
            moves=_to_reservations(held),
            event=session_id,
            now=now,
            memo=f"reserved {rated.billable} for {service.value}",
        )
        uow.commit()
    return Grant(
        session_id=session_id, granted=rated.billable, expires_at=now + RESERVATION_VALIDITY
    )


def update_session(
    uow: UnitOfWork,
    *,
    operator_id: int,
    session_id: int,
    used: int,
    requested: int,
    now: datetime,
) -> Grant:
    """Charge the ``used`` units of the current reservation, give back its rest, and
    reserve ``requested`` more. Raises UnknownSession, ChargingRefused (the session stays
    open with nothing reserved)."""
    return _report(
        uow, operator_id=operator_id, session_id=session_id, used=used, requested=requested, now=now
    )


def end_session(
    uow: UnitOfWork, *, operator_id: int, session_id: int, used: int, now: datetime
) -> Grant:
    """Charge the final ``used`` units and give back the rest. Raises UnknownSession."""
    return _report(
        uow, operator_id=operator_id, session_id=session_id, used=used, requested=None, now=now
    )


def charge_sms(
    uow: UnitOfWork,
    *,
    operator_id: int,
    element_id: int,
    msisdn: str,
    destination: str,
    now: datetime,
) -> Grant:
    """Charge one SMS at once (reserve and charge in one go). Raises ChargingRefused."""
    grant = start_session(
        uow,
        operator_id=operator_id,
        element_id=element_id,
        msisdn=msisdn,
        service=Service.SMS,
        destination=destination,
        requested=1,
        now=now,
    )
    return end_session(uow, operator_id=operator_id, session_id=grant.session_id, used=1, now=now)


def expire_sessions(uow: UnitOfWork, *, now: datetime, limit: int = 500) -> int:
    """Give back the units of sessions that went silent past their reservation; return how
    many sessions expired."""
    now = require_aware(now)
    with uow.reading():
        due = uow.charging.expired(now=now, limit=limit)
    expired = 0
    for session_id in due:
        with uow:
            session = uow.charging.get_session(session_id)
            if session is None or session.state != "open":
                continue
            record = _line_of(uow, session)
            session = uow.charging.get_session(session_id, for_update=True)
            assert session is not None
            if session.state != "open" or session.expires_at > now:
                continue
            _release(uow, record=record, session=session, used=0, now=now)
            uow.charging.save_session(
                session_id,
                state="expired",
                reserved=0,
                held=[],
                used=session.used,
                expires_at=session.expires_at,
                now=now,
            )
            uow.commit()
            expired += 1
    return expired


# -- the work ----------------------------------------------------------------------------


def _live_line(uow: UnitOfWork, *, operator_id: int, msisdn: str, now: datetime) -> LineRecord:
    try:
        number = lookup_msisdn(msisdn)
    except SaldoError:
        raise UserUnknown(f"{msisdn!r} is not a number") from None
    record = uow.lines.get_by_msisdn(number, for_update=True)
    if record is None or record.operator.id != operator_id:
        raise UserUnknown(f"no line {number} here")
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
    return record


def _on_net(uow: UnitOfWork, *, record: LineRecord, destination: str | None) -> bool:
    if destination is None:
        return False
    callee = uow.lines.get_by_msisdn(destination)
    return callee is not None and callee.operator.id == record.operator.id


def _reserve(
    uow: UnitOfWork,
    *,
    record: LineRecord,
    service: Service,
    destination: str | None,
    on_net: bool,
    requested: int,
    now: datetime,
) -> tuple[Rated, list[dict[str, Any]]]:
    """Take the units for ``requested`` from the line's buckets (all or nothing); return
    the rating and where each part was held from."""
    tariff = record.operator.tariff
    assert tariff is not None
    if requested <= 0:
        raise RatingFailed("ask for at least one unit")
    try:
        rated = rate(
            tariff=tariff,
            service=service,
            destination=destination,
            quantity=requested,
            on_net=on_net,
        )
    except UnableToRate as error:
        raise RatingFailed(error.message) from None
    found = uow.lines.get_with_buckets(record.line.msisdn)
    assert found is not None
    charge = split_charge(
        rated=rated,
        tariff=tariff,
        buckets=found.buckets,
        currency=record.operator.currency,
        now=now,
    )
    if charge.shortfall.minor:
        raise CreditLimitReached(
            f"{rated.billable} units cost {charge.money + charge.shortfall}; the line has less"
        )
    held = []
    for debit in charge.debits:
        if not debit.amount:
            continue
        after = uow.accounts.change_balance(debit.bucket_id, -debit.amount)
        assert after is not None, "the line is locked: its buckets cannot have changed"
        held.append(
            {"bucket": debit.bucket_id, "unit": debit.unit, "amount": debit.amount, "after": after}
        )
    return rated, held


def _report(
    uow: UnitOfWork,
    *,
    operator_id: int,
    session_id: int,
    used: int,
    requested: int | None,
    now: datetime,
) -> Grant:
    now = require_aware(now)
    if used < 0:
        raise RatingFailed("used units are not negative")
    with uow:
        session = uow.charging.get_session(session_id)
        if session is None or session.operator_id != operator_id or session.state != "open":
            raise UnknownSession(f"no open session {session_id}")
        record = _line_of(uow, session)
        session = uow.charging.get_session(session_id, for_update=True)
        assert session is not None
        if session.state != "open":
            raise UnknownSession(f"no open session {session_id}")
        charged = _release(uow, record=record, session=session, used=used, now=now)
        total = session.used + charged
        if requested is None:
            uow.charging.save_session(
                session_id,
                state="closed",
                reserved=0,
                held=[],
                used=total,
                expires_at=session.expires_at,
                now=now,
            )
            uow.commit()
            return Grant(session_id=session_id, granted=0, expires_at=None, charged=total)
        uow.charging.save_session(
            session_id,
            state="open",
            reserved=0,
            held=[],
            used=total,
            expires_at=session.expires_at,
            now=now,
        )
        uow.commit()
    # The next units are a new reservation: refused, the session stays open and empty.
    with uow:
        record = _live_line(uow, operator_id=operator_id, msisdn=record.line.msisdn, now=now)
        session = uow.charging.get_session(session_id, for_update=True)
        assert session is not None
        rated, held = _reserve(
            uow,
            record=record,
            service=Service(session.service),
            destination=session.destination,
            on_net=session.on_net,
            requested=requested,
            now=now,
        )
        uow.charging.save_session(
            session_id,
            state="open",
            reserved=rated.billable,
            held=held,
            used=session.used,
            expires_at=now + RESERVATION_VALIDITY,
            now=now,
        )
        _ledger(
            uow,
            record=record,
            moves=_to_reservations(held),
            event=session_id,
            now=now,
            memo=f"reserved {rated.billable} more",
        )
        uow.commit()
    return Grant(
        session_id=session_id,
        granted=rated.billable,
        expires_at=now + RESERVATION_VALIDITY,
        charged=session.used,
    )


def _line_of(uow: UnitOfWork, session: StoredSession) -> LineRecord:
    """The session's line, its row locked (lines before sessions, as everywhere)."""
    record = uow.lines.get_by_msisdn(session.msisdn, for_update=True)
    if record is None or record.line.id != session.line_id:
        raise UnknownSession(f"session {session.id} has no line any more")
    return record


def _release(
    uow: UnitOfWork, *, record: LineRecord, session: StoredSession, used: int, now: datetime
) -> int:
    """Charge ``used`` units of the session's reservation (held → usage) and give the rest
    back (held → its buckets); return the billable units charged. Use beyond what was
    reserved is not charged (the element was told how much it could serve)."""
    operator = record.operator
    tariff = operator.tariff
    assert tariff is not None and operator.id is not None
    service = Service(session.service)
    billable = 0
    if used:
        rated = rate(
            tariff=tariff,
            service=service,
            destination=session.destination,
            quantity=used,
            on_net=session.on_net,
        )
        billable = min(rated.billable, session.reserved)
    held = [dict(part) for part in session.held]
    units_left = billable  # taken from held allowances first, then priced in money
    charged: list[dict[str, Any]] = []
    returned: list[dict[str, Any]] = []
    money_owed = None
    for part in held:
        if part["unit"] == operator.currency:
            continue
        take = min(part["amount"], units_left)
        units_left -= take
        charged.append({**part, "amount": take})
        returned.append({**part, "amount": part["amount"] - take})
    if units_left:
        zone = rate(
            tariff=tariff,
            service=service,
            destination=session.destination,
            quantity=1,
            on_net=session.on_net,
        ).zone
        money_owed = price_of(tariff=tariff, service=service, zone=zone, billable=units_left)
    owed = 0 if money_owed is None else money_owed.minor
    for part in held:
        if part["unit"] != operator.currency:
            continue
        take = min(part["amount"], owed)
        owed -= take
        charged.append({**part, "amount": take})
        returned.append({**part, "amount": part["amount"] - take})
    moves: list[tuple[int, int, str, int]] = []  # (from, to, unit, amount)
    reservations: dict[str, int] = {}
    for part in charged + returned:
        reservations.setdefault(
            part["unit"],
            uow.accounts.operator_account(
                operator_id=operator.id,
                kind=OperatorAccount.RESERVATIONS,
                unit=part["unit"],
                now=now,
            ),
        )
    usage_accounts: dict[str, int] = {}
    for part in charged:
        if part["amount"]:
            usage = usage_accounts.setdefault(
                part["unit"],
                uow.accounts.operator_account(
                    operator_id=operator.id, kind=OperatorAccount.USAGE, unit=part["unit"], now=now
                ),
            )
            moves.append((reservations[part["unit"]], usage, part["unit"], part["amount"]))
    balances: dict[int, int] = {}
    for part in returned:
        if part["amount"]:
            after = uow.accounts.change_balance(part["bucket"], part["amount"])
            assert after is not None
            balances[part["bucket"]] = after
            moves.append((reservations[part["unit"]], part["bucket"], part["unit"], part["amount"]))
    _ledger(
        uow,
        record=record,
        moves=moves,
        event=session.id,
        now=now,
        memo=f"{service.value}: {billable} used of {session.reserved} reserved",
        balances=balances,
    )
    if billable:
        money = sum(p["amount"] for p in charged if p["unit"] == operator.currency)
        allowance = sum(p["amount"] for p in charged if p["unit"] != operator.currency)
        usage_record = UsageRecord(
            operator_id=operator.id,
            line_id=record.line.id,
            record_id=f"session-{session.id}-{session.used + billable}",
            service=service.value,
            started_at=now,
            used=used,
            billable=billable,
            zone="",
            destination=session.destination,
            allowance_used=allowance,
            money=money,
            shortfall=0,
            currency=operator.currency,
        )
        uow.usage.add_to_day(usage_record, day=local_date(now, timezone=operator.timezone))
    return billable


def _to_reservations(held: list[dict[str, Any]]) -> list[tuple[int, int, str, int]]:
    """Ledger moves of a new reservation: each held part from its bucket to the operator's
    reservations (the reservations account id is filled in by ``_ledger``)."""
    return [(part["bucket"], -1, part["unit"], part["amount"]) for part in held]


def _ledger(
    uow: UnitOfWork,
    *,
    record: LineRecord,
    moves: list[tuple[int, int, str, int]],
    event: int,
    now: datetime,
    memo: str,
    balances: dict[int, int] | None = None,
) -> None:
    """One balanced transaction of ``moves`` (from account, to account, unit, amount); a
    ``to`` of -1 is the operator's reservations account in that unit."""
    operator = record.operator
    assert operator.id is not None
    postings: list[Posting] = []
    after = dict(balances or {})
    for source, target, unit, amount in moves:
        if not amount:
            continue
        if target == -1:
            target = uow.accounts.operator_account(
                operator_id=operator.id, kind=OperatorAccount.RESERVATIONS, unit=unit, now=now
            )
        postings += [
            Posting(account_id=source, unit=unit, amount=-amount),
            Posting(account_id=target, unit=unit, amount=amount),
        ]
    if not postings:
        return
    check_balanced(postings)
    found = uow.lines.get_with_buckets(record.line.msisdn)
    assert found is not None
    for bucket in found.buckets:
        if any(p.account_id == bucket.id for p in postings):
            after.setdefault(bucket.id, bucket.balance)
    uow.ledger.record(
        operator_id=operator.id,
        line_id=record.line.id,
        event_type="charging",
        event_id=event,
        postings=postings,
        balances_after=after,
        memo=memo,
        now=now,
    )


class UnableToRegisterElement(SaldoError):
    code = "unable_to_register_element"


def register_element(
    uow: UnitOfWork, *, operator_slug: str, name: str, key_hash: str, now: datetime
) -> int:
    """Register a network element of the operator, known by the hash of its API key.
    Raises UnknownOperator, UnableToRegisterElement (a name taken or empty)."""
    if not name.strip() or len(name) > 64:
        raise UnableToRegisterElement("a network element's name is 1 to 64 characters")
    with uow:
        operator = uow.operators.get_by_slug(operator_slug)
        if operator is None or operator.id is None:
            raise UnknownOperator(f"no operator {operator_slug!r}")
        try:
            element_id = uow.charging.add_element(
                operator_id=operator.id, name=name.strip(), key_hash=key_hash, now=now
            )
        except DuplicateIdempotencyKey:
            raise UnableToRegisterElement(f"{operator.name} has an element {name!r}") from None
        uow.commit()
    return element_id
