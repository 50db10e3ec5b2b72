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
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from saldo.domain.errors import SaldoError
from saldo.domain.numbering import lookup_msisdn, same_number
from saldo.domain.periods import require_aware
from saldo.domain.rating import Service
from saldo.services.ports import (
    DuplicateIdempotencyKey,
    LineRecord,
    StoredSession,
    UnitOfWork,
)
from saldo.services.reservations import (
    RESERVATION_VALIDITY,
    ChargingRefused,
    CreditLimitReached,
    RatingFailed,
    ServiceDenied,
    SessionKeyReused,
    StaleRequest,
    UnknownSession,
    UserUnknown,
    charge_held,
    check_active,
    give_back,
    reserve,
)

__all__ = [
    "RESERVATION_VALIDITY",
    "ChargingRefused",
    "CreditLimitReached",
    "Grant",
    "RatingFailed",
    "ServiceDenied",
    "SessionKeyReused",
    "StaleRequest",
    "UnknownSession",
    "UserUnknown",
    "charge_sms",
    "end_session",
    "expire_sessions",
    "start_session",
    "update_session",
]

# A silent session expires this long after its reservation ran out (a report in flight
# still arrives).
EXPIRY_GRACE: Final = timedelta(minutes=1)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Grant:
    session_id: int
    granted: int  # units the element may use before it reports (seconds, messages, bytes)
    expires_at: datetime | None
    charged: int = 0  # units charged so far in the session (billable)


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
    ``requested`` units. The same key again, for the same line, service and destination,
    gives the first answer again, grant or refusal, whatever became of the session since;
    for another, it raises SessionKeyReused. Raises ChargingRefused: nothing is held then,
    and the refusal is kept as the answer (but for UserUnknown: no line to keep it with)."""
    now = require_aware(now)
    if not 1 <= len(session_key) <= 128:
        raise RatingFailed("a session key is 1 to 128 characters")
    request = (msisdn, service, destination)
    with uow.reading():
        existing = uow.charging.get_by_key(operator_id=operator_id, session_key=session_key)
    if existing is not None:
        return _retried(existing, request)
    with uow:
        record = _line(uow, operator_id=operator_id, msisdn=msisdn)
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
            return _retried(found, request)
        session = uow.charging.get_session(session_id, for_update=True)
        assert session is not None
        refusal: ChargingRefused | None = None
        try:
            check_active(record, now=now)
            session = reserve(uow, record=record, session=session, requested=requested, now=now)
        except ChargingRefused as refused:
            # Kept, closed with nothing held, so that a retry gets this answer again.
            refusal = refused
            session = replace(session, state="closed")
        opening = _refused(refusal) if refusal is not None else _granted(_grant(session))
        session = replace(session, last_answer={"opening": opening})
        uow.charging.save_session(session, now=now)
        uow.commit()
    if refusal is not None:
        raise refusal
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
                session = give_back(uow, record=record, session=session, now=now)
                uow.charging.save_session(replace(session, state="expired"), now=now)
                uow.commit()
                expired += 1
        except Exception:  # logged; the next pass tries again
            log.exception("charging session %s could not expire", session_id)
    return expired


# -- the work ----------------------------------------------------------------------------


def _retried(session: StoredSession, request: tuple[str, Service, str | None]) -> Grant:
    """The session's grant for a retried request; SessionKeyReused when the request is
    another one (another line, service or destination under the same id)."""
    msisdn, service, destination = request
    if (same_number(msisdn), service.value, _optional(destination)) != (
        session.msisdn,
        session.service,
        _optional(session.destination),
    ):
        raise SessionKeyReused(
            f"id {session.session_key!r} is already the session of another request"
        )
    return _replayed((session.last_answer or {}).get("opening", {}), session)


_REFUSALS: Final = {
    refusal.code: refusal for refusal in (ServiceDenied, CreditLimitReached, RatingFailed)
}


def _refused(refusal: ChargingRefused) -> dict[str, Any]:
    """A refusal as a stored answer."""
    return {"refused": {"code": refusal.code, "message": refusal.message}}


def _granted(grant: Grant) -> dict[str, Any]:
    """A grant as a stored answer."""
    expires_at = None if grant.expires_at is None else grant.expires_at.isoformat()
    return {"granted": grant.granted, "expires_at": expires_at, "charged": grant.charged}


def _replayed(answer: dict[str, Any], session: StoredSession) -> Grant:
    """A stored answer again: the refusal raised, or the grant as it was given. A session
    stored before answers were kept whole has none (or only ``granted``): the session as it
    stands answers then."""
    refused = answer.get("refused")
    if refused is not None:
        raise _REFUSALS[refused["code"]](refused["message"])
    if "expires_at" not in answer:
        return _grant(session)
    expires_at = answer["expires_at"]
    return Grant(
        session_id=session.id,
        granted=answer["granted"],
        expires_at=None if expires_at is None else datetime.fromisoformat(expires_at),
        charged=answer["charged"],
    )


def _last_report(session: StoredSession) -> dict[str, Any] | None:
    """The answer to the session's last report; a session stored before openings kept their
    answer holds it as the whole ``last_answer``."""
    stored = session.last_answer or {}
    return stored.get("report", stored if "granted" in stored else None)


def _grant(session: StoredSession) -> Grant:
    return Grant(
        session_id=session.id,
        granted=session.reserved,
        expires_at=session.expires_at if session.state == "open" and session.reserved else None,
        charged=session.used,
    )


def _optional(destination: str | None) -> str | None:
    return None if destination is None else same_number(destination)


def _line(uow: UnitOfWork, *, operator_id: int, msisdn: str) -> LineRecord:
    try:
        number = lookup_msisdn(msisdn)
    except SaldoError:
        raise UserUnknown(f"{msisdn!r} is not a number") from None
    record = uow.lines.get_by_msisdn(number, for_update=True)
    if record is None or record.operator.id != operator_id:
        raise UserUnknown(f"no line {number} here")
    return record


def _on_net(uow: UnitOfWork, *, record: LineRecord, destination: str | None) -> bool:
    if destination is None:
        return False
    callee = uow.lines.get_by_msisdn(destination)
    return callee is not None and callee.operator.id == record.operator.id


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
        last = _last_report(session)
        if request_number == session.last_request and last is not None:
            # A retried report: the first answer, nothing charged.
            return _replayed(last, session)
        if request_number <= session.last_request:
            raise StaleRequest(f"report {request_number} of session {session_id} is old")
        if session.state != "open":
            raise UnknownSession(f"session {session_id} is {session.state}")
        session = charge_held(uow, record=record, session=session, used=used, now=now)
        session = give_back(uow, record=record, session=session, now=now)
        session = replace(session, last_request=request_number)
        refusal: ChargingRefused | None = None
        if requested is None:
            session = replace(session, state="closed")
        else:
            try:
                check_active(record, now=now)
                session = reserve(uow, record=record, session=session, requested=requested, now=now)
            except ChargingRefused as refused:
                refusal = refused
        report = _refused(refusal) if refusal is not None else _granted(_grant(session))
        session = replace(session, last_answer={**(session.last_answer or {}), "report": report})
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
