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

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from saldo.domain.buckets import consumption_order, unit_of
from saldo.domain.errors import SaldoError
from saldo.domain.ledger import OperatorAccount, Posting, check_balanced
from saldo.domain.lifecycle import LineState, state_at
from saldo.domain.numbering import lookup_msisdn
from saldo.domain.periods import local_date, require_aware
from saldo.domain.rating import Rated, Service, UnableToRate, price_of, rate
from saldo.services.operators import UnknownOperator
from saldo.services.ports import (
    DuplicateIdempotencyKey,
    LineRecord,
    StoredSession,
    UnitOfWork,
    UsageRecord,
)

RESERVATION_VALIDITY: Final = timedelta(minutes=5)
# A silent session expires this long after its reservation ran out (a report in flight
# still arrives).
EXPIRY_GRACE: Final = timedelta(minutes=1)

log = logging.getLogger(__name__)


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
    session_key: str,
    msisdn: str,
    service: Service,
    destination: str | None,
    requested: int,
    now: datetime,
) -> Grant:
    """Open a session (``session_key``: the element's own id for it) and reserve
    ``requested`` units. The same key again returns the session as it stands. Raises
    ChargingRefused (nothing is written then)."""
    now = require_aware(now)
    if not 1 <= len(session_key) <= 128:
        raise RatingFailed("a session key is 1 to 128 characters")
    with uow.reading():
        existing = uow.charging.get_by_key(operator_id=operator_id, session_key=session_key)
    if existing is not None:
        return _grant(existing)
    with uow:
        record = _live_line(uow, operator_id=operator_id, msisdn=msisdn, now=now)
        assert record.operator.id is not None
        try:
            session_id = uow.charging.open_session(
                operator_id=record.operator.id,
                line_id=record.line.id,
                element_id=element_id,
                msisdn=record.line.msisdn,
                session_key=session_key,
                service=service.value,
                destination=destination,
                on_net=_on_net(uow, record=record, destination=destination),
                now=now,
            )
        except DuplicateIdempotencyKey:
            uow.rollback()
            found = uow.charging.get_by_key(operator_id=operator_id, session_key=session_key)
            assert found is not None
            return _grant(found)
        session = uow.charging.get_session(session_id, for_update=True)
        assert session is not None
        session = _reserve(uow, record=record, session=session, requested=requested, now=now)
        uow.charging.save_session(session, now=now)
        uow.commit()
    return _grant(session)


def update_session(
    uow: UnitOfWork,
    *,
    operator_id: int,
    session_id: int,
    request_number: int,
    used: int,
    requested: int,
    now: datetime,
) -> Grant:
    """Charge the units ``used`` since the last report, give back the rest of the
    reservation and reserve ``requested`` more, in one transaction. ``request_number``
    grows with every report: a repeated number gets the first answer and changes nothing.
    Raises UnknownSession, StaleRequest, ChargingRefused (the use is still charged and the
    session stays open with nothing reserved)."""
    return _report(
        uow,
        operator_id=operator_id,
        session_id=session_id,
        request_number=request_number,
        used=used,
        requested=requested,
        now=now,
    )


def end_session(
    uow: UnitOfWork,
    *,
    operator_id: int,
    session_id: int,
    request_number: int,
    used: int,
    now: datetime,
) -> Grant:
    """Charge the final ``used`` units and give back the rest. Raises UnknownSession,
    StaleRequest."""
    return _report(
        uow,
        operator_id=operator_id,
        session_id=session_id,
        request_number=request_number,
        used=used,
        requested=None,
        now=now,
    )


def charge_sms(
    uow: UnitOfWork,
    *,
    operator_id: int,
    element_id: int,
    event_key: str,
    msisdn: str,
    destination: str,
    now: datetime,
) -> Grant:
    """Charge one SMS at once; ``event_key`` (the SMSC's message id) makes a retry free.
    Raises ChargingRefused."""
    grant = start_session(
        uow,
        operator_id=operator_id,
        element_id=element_id,
        session_key=event_key,
        msisdn=msisdn,
        service=Service.SMS,
        destination=destination,
        requested=1,
        now=now,
    )
    if grant.granted == 0 and grant.charged:
        return grant  # charged before
    return end_session(
        uow, operator_id=operator_id, session_id=grant.session_id, request_number=1, used=1, now=now
    )


def expire_sessions(uow: UnitOfWork, *, now: datetime, limit: int = 500) -> int:
    """Give back the units of sessions silent for longer than their reservation (and a
    minute's grace); return how many sessions expired. One bad session is logged and does
    not stop the others."""
    now = require_aware(now)
    with uow.reading():
        due = uow.charging.expired(now=now - EXPIRY_GRACE, limit=limit)
    expired = 0
    for session_id in due:
        try:
            with uow:
                found = uow.charging.get_session(session_id)
                if found is None or found.state != "open":
                    continue
                record = _line_of(uow, found)
                session = uow.charging.get_session(session_id, for_update=True)
                assert session is not None
                if session.state != "open" or session.expires_at > now - EXPIRY_GRACE:
                    continue
                session = _give_back(uow, record=record, session=session, now=now)
                uow.charging.save_session(replace(session, state="expired"), now=now)
                uow.commit()
                expired += 1
        except Exception:  # logged; the next pass tries again
            log.exception("charging session %s could not expire", session_id)
    return expired


# -- the work ----------------------------------------------------------------------------


def _grant(session: StoredSession) -> Grant:
    return Grant(
        session_id=session.id,
        granted=session.reserved,
        expires_at=session.expires_at if session.state == "open" and session.reserved else None,
        charged=session.used,
    )


def _live_line(uow: UnitOfWork, *, operator_id: int, msisdn: str, now: datetime) -> LineRecord:
    try:
        number = lookup_msisdn(msisdn)
    except SaldoError:
        raise UserUnknown(f"{msisdn!r} is not a number") from None
    record = uow.lines.get_by_msisdn(number, for_update=True)
    if record is None or record.operator.id != operator_id:
        raise UserUnknown(f"no line {number} here")
    _check_active(record, now=now)
    return record


def _check_active(record: LineRecord, *, now: datetime) -> None:
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


def _on_net(uow: UnitOfWork, *, record: LineRecord, destination: str | None) -> bool:
    if destination is None:
        return False
    callee = uow.lines.get_by_msisdn(destination)
    return callee is not None and callee.operator.id == record.operator.id


def _rated(record: LineRecord, session: StoredSession, raw: int) -> Rated:
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


def _money_for(record: LineRecord, session: StoredSession, *, zone: str, units: int) -> int:
    """Minor units owed for ``units`` billable units paid with money over the whole session
    (rounded once, for the session's total)."""
    tariff = record.operator.tariff
    assert tariff is not None
    if not units:
        return 0
    return price_of(
        tariff=tariff, service=Service(session.service), zone=zone, billable=units
    ).minor


def _reserve(
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
    so_far = _rated(record, session, session.used_raw) if session.used_raw else None
    then = _rated(record, session, session.used_raw + requested)
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
    owed = _money_for(record, session, zone=then.zone, units=session.money_units + units)
    owed -= session.money_billed
    if units and (owed > sum(b.balance for b in money_buckets) or not money_buckets):
        raise CreditLimitReached(f"{grant} more units cost more than the line has")
    for bucket in money_buckets:
        if owed <= 0:
            break
        take = min(bucket.balance, owed)
        held.append({"bucket": bucket.id, "unit": currency, "amount": take})
        owed -= take
    for part in held:
        after = uow.accounts.change_balance(part["bucket"], -part["amount"])
        assert after is not None, "the line is locked: its buckets cannot have changed"
    _ledger(
        uow,
        record=record,
        moves=_to_reservations(held),
        event=session.id,
        now=now,
        memo=f"reserved {grant} for {session.service}",
    )
    return replace(session, reserved=grant, held=held, expires_at=now + RESERVATION_VALIDITY)


def _report(
    uow: UnitOfWork,
    *,
    operator_id: int,
    session_id: int,
    request_number: int,
    used: int,
    requested: int | None,
    now: datetime,
) -> Grant:
    now = require_aware(now)
    if used < 0:
        raise RatingFailed("used units are not negative")
    with uow:
        found = uow.charging.get_session(session_id)
        if found is None or found.operator_id != operator_id:
            raise UnknownSession(f"no session {session_id}")
        record = _line_of(uow, found)
        session = uow.charging.get_session(session_id, for_update=True)
        assert session is not None
        if request_number == session.last_request and session.last_answer is not None:
            return _grant(session)  # a retried report: the first answer, nothing charged
        if request_number <= session.last_request:
            raise StaleRequest(f"report {request_number} of session {session_id} is old")
        if session.state != "open":
            raise UnknownSession(f"session {session_id} is {session.state}")
        session = _charge(uow, record=record, session=session, used=used, now=now)
        session = _give_back(uow, record=record, session=session, now=now)
        session = replace(session, last_request=request_number)
        refusal: ChargingRefused | None = None
        if requested is None:
            session = replace(session, state="closed")
        else:
            try:
                _check_active(record, now=now)
                session = _reserve(
                    uow, record=record, session=session, requested=requested, now=now
                )
            except ChargingRefused as refused:
                refusal = refused
        session = replace(session, last_answer={"granted": session.reserved})
        uow.charging.save_session(session, now=now)
        uow.commit()
    if refusal is not None:
        raise refusal
    return _grant(session)


def _line_of(uow: UnitOfWork, session: StoredSession) -> LineRecord:
    """The session's line, its row locked (lines before sessions, as everywhere)."""
    record = uow.lines.get_by_msisdn(session.msisdn, for_update=True)
    if record is None or record.line.id != session.line_id:
        raise UnknownSession(f"session {session.id} has no line any more")
    return record


def _charge(
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
    rated = _rated(record, session, session.used_raw + used)
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
    due = _money_for(record, session, zone=rated.zone, units=money_units) - session.money_billed
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
    _ledger(
        uow,
        record=record,
        moves=moves,
        event=session.id,
        now=now,
        memo=f"{session.service}: {billable} used",
        from_reservations=True,
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


def _give_back(
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
    _ledger(
        uow,
        record=record,
        moves=moves,
        event=session.id,
        now=now,
        memo="reservation given back",
        from_reservations=True,
    )
    return replace(session, held=[], reserved=0)


def _to_reservations(held: list[dict[str, Any]]) -> list[tuple[int, int, str, int]]:
    """Ledger moves of a new reservation: each held part from its bucket to the operator's
    reservations account (-1)."""
    return [(part["bucket"], -1, part["unit"], part["amount"]) for part in held]


def _ledger(
    uow: UnitOfWork,
    *,
    record: LineRecord,
    moves: list[tuple[int, int, str, int]],
    event: int,
    now: datetime,
    memo: str,
    from_reservations: bool = False,
) -> None:
    """One balanced transaction of ``moves`` (from account, to account, unit, amount); -1
    stands for the operator's reservations account in that unit."""
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
    found = uow.lines.get_with_buckets(record.line.msisdn)
    assert found is not None
    touched = {p.account_id for p in postings}
    after = {b.id: b.balance for b in found.buckets if b.id in touched}
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
