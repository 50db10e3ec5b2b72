"""What the health and metrics endpoints report, read in one short transaction."""

from __future__ import annotations

from dataclasses import dataclass

from saldo.domain.lifecycle import LineState
from saldo.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class LineCount:
    operator: str
    state: LineState
    count: int


def count_lines(uow: UnitOfWork) -> list[LineCount]:
    """Lines per operator and stored state."""
    with uow.reading():
        operators = {op.id: op.slug for op in uow.operators.list()}
        counts = uow.lines.count_by_state()
    return [
        LineCount(operator=operators[operator_id], state=state, count=count)
        for (operator_id, state), count in sorted(counts.items())
    ]
