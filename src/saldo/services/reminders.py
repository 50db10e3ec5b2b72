"""Reminders before a line's validity ends, and alerts when its money runs low.

Expiry reminders go 7, 3 and 1 days before the end of validity (each operator may choose
other days in its catalog: ``reminder_days``; a subscriber may keep only some of them for a
line, or none), by SMS, and by email too when the line has an address; each once per
validity period (its key names the line, the end of validity and the day count). SMS wait
for the end of the quiet hours (21:00–09:00 in the operator's time zone). A run looks only
at the lines that crossed a reminder threshold since the previous run, so its cost follows
those lines; after downtime it catches up on exactly the time it missed, and a line that
crossed several thresholds meanwhile gets only the nearest one. A reminder for a line
renewed before it goes out is dropped at delivery (its end of validity no longer matches).

A low-balance alert is queued by the debit that takes main money below the line's threshold
(the operator's unless the subscriber chose one), in the same transaction, once per validity period.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from saldo.domain.lines import Line
from saldo.domain.operator import Operator
from saldo.domain.periods import require_aware
from saldo.services.notifications import EMAIL, SMS, queue, sms_allowed_from
from saldo.services.ports import UnitOfWork

JOB: Final = "expiry_reminders"
_PAGE: Final = 1000


def queue_expiry_reminders(uow: UnitOfWork, *, now: datetime) -> int:
    """Queue the reminders that fell due since the previous run (or, on the first run,
    those due now); return how many were queued."""
    now = require_aware(now)
    with uow.reading():
        last_run = uow.job_runs.last_run(JOB)
        operators = uow.operators.list()
    queued = 0
    for operator in operators:
        assert operator.id is not None
        days = sorted(operator.reminder_days)
        since = min(last_run or now - timedelta(days=days[-1]), now)
        for d in days:
            # The lines that crossed "d days left" since the previous run.
            after = max(since + timedelta(days=d), now)
            up_to = now + timedelta(days=d)
            start: tuple[datetime, int] | None = None
            while after < up_to:
                with uow.reading():
                    lines = uow.lines.expiring(
                        operator_id=operator.id,
                        after=after,
                        up_to=up_to,
                        limit=_PAGE,
                        start_after=start,
                    )
                with uow:
                    for line in lines:
                        queued += _remind(uow, operator=operator, line=line, days=days, now=now)
                    uow.commit()
                if len(lines) < _PAGE:
                    break
                start = (lines[-1].valid_until, lines[-1].id)
    with uow:
        uow.job_runs.record_run(JOB, at=now)
        uow.commit()
    return queued


def _remind(
    uow: UnitOfWork, *, operator: Operator, line: Line, days: list[int], now: datetime
) -> int:
    """Queue the nearest reminder due for the line; 1 if it was new."""
    assert operator.id is not None
    chosen = days if line.reminder_days is None else [d for d in days if d in line.reminder_days]
    due = [d for d in chosen if line.valid_until <= now + timedelta(days=d)]
    if not due or line.valid_until <= now:
        return 0
    nearest = min(due)
    key = f"expiry-reminder-{line.id}-{line.valid_until:%Y%m%d%H%M}-{nearest}"
    payload = {
        "kind": "expiry_reminder",
        "line_id": line.id,
        "valid_until": line.valid_until.isoformat(),
        "days": nearest,
    }
    queued = queue(
        uow,
        operator_id=operator.id,
        line_id=line.id,
        channel=SMS,
        key=key,
        recipient=line.msisdn,
        payload=payload,
        now=now,
        not_before=sms_allowed_from(now, timezone=operator.timezone),
    )
    if line.email:
        queue(
            uow,
            operator_id=operator.id,
            line_id=line.id,
            channel=EMAIL,
            key=key + "-email",
            recipient=line.email,
            payload=payload,
            now=now,
        )
    return int(queued)


def alert_low_balance(
    uow: UnitOfWork,
    *,
    operator: Operator,
    line: Line,
    before: int,
    after: int,
    now: datetime,
) -> bool:
    """Inside the transaction of a debit of main money from ``before`` to ``after`` (minor
    units): queue a low-balance SMS if it crossed the line's threshold (the operator's,
    unless the subscriber chose one). True if one was queued."""
    threshold = line.low_balance_threshold
    if threshold is None and operator.low_balance_threshold is not None:
        threshold = operator.low_balance_threshold.minor
    if threshold is None or not after < threshold <= before:
        return False
    assert operator.id is not None
    return queue(
        uow,
        operator_id=operator.id,
        line_id=line.id,
        channel=SMS,
        key=f"low-balance-{line.id}-{line.valid_until:%Y%m%d%H%M}",
        recipient=line.msisdn,
        payload={
            "kind": "low_balance",
            "line_id": line.id,
            "balance": after,
            "threshold": threshold,
        },
        now=now,
        not_before=sms_allowed_from(now, timezone=operator.timezone),
    )
