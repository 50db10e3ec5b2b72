"""The lifecycle sweep: writing down what the calendar already decided.

A line's state follows from its validity and its operator's rules (``domain.lifecycle``):
at ``valid_until`` it enters grace (it can receive and top up, not spend); after the grace
days it is suspended; after the suspension days it is recycled: its remaining balances are
forfeited through the ledger and its number goes back to the pool, where it rests for the
quarantine days before a new line may take it. The sweep finds the lines whose stored state
lags behind (through an index on state and end of validity, so its cost follows the lines
that are due, not all lines), and moves each one step by step, in order, recording when
each step took effect by the rules: a worker that was down for three days does each
transition once, in order, and never more.

Operators with a ``webhook_url`` hear of every transition (a ``line_state_changed`` event in
the outbox, in the same transaction). The subscriber is told by SMS when the line enters grace
and when it is suspended (``line_in_grace``, ``line_suspended``), in the same transaction,
after the quiet hours; a line that went through both while the worker was down hears only
of where it is now. Each line moves in a transaction of its own, with its row locked and its
state computed again from what is stored then: a top-up that reactivated the line a moment
earlier wins.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from saldo.domain.buckets import Bucket
from saldo.domain.ledger import OperatorAccount, Posting, check_balanced
from saldo.domain.lifecycle import LifecycleRules, LineState, state_at
from saldo.domain.numbering import mask_msisdn
from saldo.domain.operator import Operator
from saldo.domain.periods import add_days_local, require_aware
from saldo.services.notifications import SMS, WEBHOOK, queue, sms_allowed_from
from saldo.services.ports import UnitOfWork

log = logging.getLogger(__name__)

BATCH: Final = 500
_ORDER: Final = (LineState.ACTIVE, LineState.GRACE, LineState.SUSPENDED, LineState.RECYCLED)
# The states a subscriber is told of by SMS (the kind of notification), while the number can
# still be kept.
_TOLD: Final = {LineState.GRACE: "line_in_grace", LineState.SUSPENDED: "line_suspended"}


@dataclass(slots=True)
class SweepReport:
    moved: dict[LineState, int] = field(default_factory=lambda: dict.fromkeys(_ORDER, 0))
    lines: int = 0
    failed: int = 0

    def count(self, state: LineState) -> None:
        self.moved[state] += 1


def _entered_at(state: LineState, *, valid_until: datetime, rules: LifecycleRules) -> datetime:
    """When a line with this validity entered ``state`` by the rules."""
    if state is LineState.GRACE:
        return valid_until
    if state is LineState.SUSPENDED:
        return rules.grace_ends_at(valid_until)
    if state is LineState.RECYCLED:
        return rules.recycles_at(valid_until)
    raise ValueError(f"no line enters {state} by the calendar")


def _due_before(state: LineState, *, rules: LifecycleRules, now: datetime) -> datetime:
    """The latest ``valid_until`` of a line stored in ``state`` that is due to move on (the
    rules' local calendar days, counted back from ``now``)."""
    if state is LineState.ACTIVE:
        return now
    days = (
        rules.grace_days if state is LineState.GRACE else rules.grace_days + rules.suspension_days
    )
    return add_days_local(now, -days, timezone=rules.timezone)


def sweep_lifecycle(uow: UnitOfWork, *, now: datetime, batch: int = BATCH) -> SweepReport:
    """Move every line whose stored state lags behind its validity to the state it is in
    at ``now``; return what moved. Safe to run again at any time: a line already written
    down is not due."""
    now = require_aware(now)
    report = SweepReport()
    with uow.reading():
        operators = uow.operators.list()
    for operator in operators:
        assert operator.id is not None
        for stored in (LineState.ACTIVE, LineState.GRACE, LineState.SUSPENDED):
            up_to = _due_before(stored, rules=operator.lifecycle, now=now)
            start: tuple[datetime, int] | None = None
            while True:
                with uow.reading():
                    due = uow.lines.due(
                        state=stored,
                        operator_id=operator.id,
                        up_to=up_to,
                        limit=batch,
                        start_after=start,
                    )
                for line in due:
                    try:
                        _move(uow, operator=operator, msisdn=line.msisdn, now=now, report=report)
                    except Exception:  # one line must not stop the others; the next pass retries
                        log.exception("line %s could not be moved", mask_msisdn(line.msisdn))
                        report.failed += 1
                if len(due) < batch:
                    break
                start = (due[-1].valid_until, due[-1].id)
    return report


def _move(
    uow: UnitOfWork, *, operator: Operator, msisdn: str, now: datetime, report: SweepReport
) -> None:
    assert operator.id is not None
    rules = operator.lifecycle
    with uow:
        record = uow.lines.get_by_msisdn(msisdn, for_update=True)
        if record is None or record.line.state is LineState.RECYCLED:
            return
        line = record.line
        target = state_at(
            stored_state=line.state, valid_until=line.valid_until, rules=rules, now=now
        )
        if target is line.state:
            return  # renewed or topped up meanwhile
        steps = _ORDER[_ORDER.index(line.state) + 1 : _ORDER.index(target) + 1]
        previous = line.state
        for step in steps:
            effective_at = _entered_at(step, valid_until=line.valid_until, rules=rules)
            uow.lines.record_event(
                operator_id=operator.id,
                line_id=line.id,
                from_state=previous,
                to_state=step,
                reason=_reason(step, rules=rules),
                effective_at=effective_at,
                now=now,
            )
            if operator.webhook_url:
                queue(
                    uow,
                    operator_id=operator.id,
                    line_id=line.id,
                    channel=WEBHOOK,
                    key=f"line-state-{line.id}-{step.value}-{effective_at:%Y%m%d%H%M}",
                    recipient=operator.webhook_url,
                    payload={
                        "kind": "line_state_changed",
                        "line_id": line.id,
                        "msisdn": line.msisdn,
                        "from": previous.value,
                        "to": step.value,
                        "effective_at": effective_at.isoformat(),
                    },
                    now=now,
                )
            report.count(step)
            previous = step
        if target in _TOLD:
            queue(
                uow,
                operator_id=operator.id,
                line_id=line.id,
                channel=SMS,
                key=f"{_TOLD[target]}-{line.id}-{line.valid_until:%Y%m%d%H%M}",
                recipient=line.msisdn,
                payload={
                    "kind": _TOLD[target],
                    "line_id": line.id,
                    "valid_until": line.valid_until.isoformat(),
                },
                now=now,
                not_before=sms_allowed_from(now, timezone=operator.timezone),
            )
        if target is LineState.RECYCLED:
            found = uow.lines.get_with_buckets(msisdn)
            assert found is not None
            _forfeit(uow, operator=operator, line_id=line.id, buckets=found.buckets, now=now)
        uow.lines.set_validity(line.id, valid_until=line.valid_until, state=target, now=now)
        uow.commit()
    report.lines += 1
    log.info("line %s: %s → %s", mask_msisdn(msisdn), line.state, target)


def _reason(step: LineState, *, rules: LifecycleRules) -> str:
    if step is LineState.GRACE:
        return "validity ended"
    if step is LineState.SUSPENDED:
        return f"{rules.grace_days} days of grace ended"
    return (
        f"{rules.suspension_days} days of suspension ended; "
        f"the number rests {rules.quarantine_days} days"
    )


def _forfeit(
    uow: UnitOfWork,
    *,
    operator: Operator,
    line_id: int,
    buckets: tuple[Bucket, ...],
    now: datetime,
) -> None:
    """Take every remaining balance of a recycled line to the operator's forfeits, in one
    balanced transaction."""
    assert operator.id is not None
    postings: list[Posting] = []
    after: dict[int, int] = {}
    for bucket in buckets:
        if bucket.balance <= 0:
            continue
        balance = uow.accounts.change_balance(bucket.id, -bucket.balance)
        assert balance == 0
        after[bucket.id] = 0
        forfeits = uow.accounts.operator_account(
            operator_id=operator.id, kind=OperatorAccount.FORFEITS, unit=bucket.unit, now=now
        )
        postings += [
            Posting(account_id=bucket.id, unit=bucket.unit, amount=-bucket.balance),
            Posting(account_id=forfeits, unit=bucket.unit, amount=bucket.balance),
        ]
    if not postings:
        return
    check_balanced(postings)
    uow.ledger.record(
        operator_id=operator.id,
        line_id=line_id,
        event_type="recycling",
        event_id=line_id,
        postings=postings,
        balances_after=after,
        memo="balances forfeited when the number was recycled",
        now=now,
    )
