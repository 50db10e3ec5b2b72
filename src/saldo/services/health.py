"""What the health and metrics endpoints report, read in one short transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from saldo.domain.lifecycle import LineState, valid_until_window
from saldo.domain.periods import require_aware
from saldo.services.ports import UnitOfWork, ValidityWindow


def database_answers(uow: UnitOfWork) -> None:
    """Return when the database answers a read; raise whatever the driver raises otherwise
    (the health endpoint reports its kind)."""
    with uow.reading():
        uow.payments.installation_id()  # one row of one table


@dataclass(frozen=True, slots=True)
class LineCount:
    operator: str
    state: LineState
    count: int


def count_lines(uow: UnitOfWork, *, now: datetime) -> list[LineCount]:
    """Lines per operator and state at ``now``, by the rule ``saldo lines list`` shows them
    with (``state_at``: from each line's validity, recycled once the worker recycled it), not
    the state the worker last wrote down, which a replayed day may have written ahead.
    A gauge scraped every few seconds may lag: a read replica may serve it."""
    now = require_aware(now)
    counts: list[LineCount] = []
    with uow.reading(may_lag=True):
        operators = {op.id: op for op in uow.operators.list() if op.id is not None}
        for state in LineState:
            windows = [
                ValidityWindow(operator_id, *valid_until_window(state, rules=op.lifecycle, now=now))
                for operator_id, op in operators.items()
            ]
            found = uow.lines.count(windows=windows, recycled=state is LineState.RECYCLED)
            counts.extend(
                LineCount(operator=operators[operator_id].slug, state=state, count=count)
                for operator_id, count in found.items()
            )
    return sorted(counts, key=lambda row: (row.operator, row.state.value))
