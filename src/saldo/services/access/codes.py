"""Asking for a verification code and confirming one, inside the caller's open transaction:
the part signing in and adding a line share.

Asking is counted against the number's and the address's limits first; then, whether or not
a live line has the number, an attempt is recorded with the hash of a fresh code, and only
when one has it is the code queued to it by SMS. So an unknown number is answered exactly as
a known one, and counts against the same limits. A sign-in code asked for by email goes to
the line's email when a code proved it (``email_verified_at``), and by SMS otherwise: the
answer and the work done are the same whichever, so the choice tells nobody whether the
number has a line or its line an email.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from saldo.domain.access import (
    CODE_VALID_FOR,
    CodeAttempt,
    CodeExpired,
    CodePurpose,
    RateLimit,
    Verdict,
    admit,
    judge,
    kept_until,
    keyed_hash,
    refusal,
    same_code,
)
from saldo.domain.lifecycle import LineState, state_at
from saldo.domain.lines import Line
from saldo.services.access.policy import CODES_PER_NUMBER, AccessPolicy
from saldo.services.notices import ADD_LINE_CODE, SIGN_IN_CODE
from saldo.services.notifications import EMAIL, SMS
from saldo.services.ports import LineRecord, UnitOfWork

_NOTICE_KINDS = {CodePurpose.SIGN_IN: SIGN_IN_CODE, CodePurpose.ADD_LINE: ADD_LINE_CODE}


@dataclass(frozen=True, slots=True)
class CodeRequested:
    """The answer to every accepted request for a code, whether or not a line has the
    number: a code sent to it would work until ``expires_at``. ``message_key`` names the
    outbox message that carries it (none is queued when no line has the number), for the
    channel to have it sent at once, after answering; it is never shown."""

    expires_at: datetime
    expires_in: int  # seconds
    message_key: str = field(default="", repr=False, compare=False)


def ask_code(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    number: str,
    purpose: CodePurpose,
    account_id: int | None,
    address: str | None,
    draw: Callable[[], str],
    now: datetime,
    by_email: bool = False,
) -> CodeRequested:
    """Record a request for a code for ``number`` (E.164) in the open unit of work and queue
    the code to the live line that has it, if any: ``by_email``, to the line's proven email
    when it has one, by SMS otherwise. Raises TooManyCodes before anything is written when
    the number or the address asked too often."""
    address_hash = keyed_hash(address or "unknown", key=policy.key, purpose="address")
    count_request(
        uow,
        scope="code:number",
        key=keyed_hash(number, key=policy.key, purpose="number"),
        limits=CODES_PER_NUMBER,
        what="this number",
        now=now,
    )
    count_request(
        uow,
        scope="code:address",
        key=address_hash,
        limits=policy.codes_from_an_address,
        what="this address",
        now=now,
    )
    uow.access.forget_rate_hits(before=now)
    line = _live_line(uow.lines.get_by_msisdn(number), now=now)
    code = draw()
    expires_at = now + CODE_VALID_FOR
    attempt_id = uow.access.open_attempt(
        msisdn=number,
        purpose=purpose,
        account_id=account_id,
        line_id=None if line is None else line.id,
        code_hash=keyed_hash(code, key=policy.key, purpose="code"),
        address_hash=address_hash,
        expires_at=expires_at,
        now=now,
    )
    message_key = f"access-code-{attempt_id}"
    if line is not None:
        email = proven_email(line) if by_email else None
        uow.outbox.add(
            operator_id=line.operator_id,
            line_id=line.id,
            channel=SMS if email is None else EMAIL,
            key=message_key,
            recipient=line.msisdn if email is None else email,
            payload={"kind": _NOTICE_KINDS[purpose], "attempt_id": attempt_id},
            now=now,
            secret=code,
        )
    return CodeRequested(
        expires_at=expires_at,
        expires_in=int(CODE_VALID_FOR.total_seconds()),
        message_key=message_key,
    )


def take_code(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    number: str,
    purpose: CodePurpose,
    account_id: int | None,
    code: str,
    now: datetime,
) -> LineRecord:
    """Check ``code`` against the latest attempt for ``number`` in the open unit of work and
    return the line it was sent to, locked. A wrong code is counted and committed before the
    refusal is raised: WrongCode, then TooManyTries at the fifth. Raises NoCodeAsked,
    CodeUsed, CodeExpired or TooManyTries for an attempt that takes no more codes."""
    attempt = uow.access.latest_attempt(msisdn=number, purpose=purpose, account_id=account_id)
    # Hashed and compared whatever the attempt, in constant time.
    matches = same_code(code, stored_hash=attempt.code_hash if attempt else "", key=policy.key)
    verdict = judge(attempt, matches=matches and _sent(attempt), now=now)
    assert attempt is not None  # judge raised otherwise
    if verdict is not Verdict.ACCEPTED:
        uow.access.count_wrong_try(attempt.id, ends=verdict is Verdict.LAST_WRONG, now=now)
        uow.commit()
        raise refusal(verdict, attempt=attempt)
    record = uow.lines.get_by_msisdn(number, for_update=True)
    if record is None or record.line.id != attempt.line_id or _live_line(record, now=now) is None:
        # The line was recycled (or its number given to another line) since the code went.
        raise CodeExpired("this code is no longer valid: ask for a new one")
    uow.access.use_attempt(attempt.id, now=now)
    return record


def proven_email(line: Line) -> str | None:
    """The line's email when a code sent to it proved it; None otherwise (no email, or one
    set another way: the CLI's, which was never proven)."""
    return line.email if line.email and line.email_verified_at is not None else None


def _sent(attempt: CodeAttempt | None) -> bool:
    """Only a code that was sent to a line can be right."""
    return attempt is not None and attempt.line_id is not None


def _live_line(record: LineRecord | None, *, now: datetime) -> Line | None:
    if record is None:
        return None
    line, rules = record.line, record.operator.lifecycle
    state = state_at(stored_state=line.state, valid_until=line.valid_until, rules=rules, now=now)
    return None if state is LineState.RECYCLED else line


def count_request(
    uow: UnitOfWork,
    *,
    scope: str,
    key: str,
    limits: Sequence[RateLimit],
    what: str,
    now: datetime,
) -> None:
    """Count a request for a code under ``scope`` and ``key`` in the open unit of work.
    Raises TooManyCodes (naming ``what`` was limited) past ``limits``."""
    hits = admit(
        uow.access.rate_hits(scope=scope, key=key, now=now), limits=limits, now=now, what=what
    )
    uow.access.save_rate_hits(
        scope=scope, key=key, hits=hits, keep_until=kept_until(hits, limits=limits)
    )
