"""``import_lines`` in chunks, on SQLite and PostgreSQL: whatever the rows (good ones, numbers
twice, ICCIDs twice, numbers already live, numbers resting after recycling, unknown operators,
languages an operator does not offer, rows unreadable from the start), it reports the same rows
and leaves the same lines and buckets as adding each row with ``add_line``, in order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from saldo.adapters.clock import FixedClock
from saldo.bootstrap import Saldo
from saldo.domain.errors import SaldoError
from saldo.domain.operator import SimKind
from saldo.services.lifecycle_sweep import sweep_lifecycle
from saldo.services.lines import ImportReport, NewLine, add_line, import_lines
from tests.conftest import NOW, load_catalog, wire

PROPERTY = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

LIVE = "+5491155551234"  # a Movistar line that exists before the import
RESTING = "+5491155550000"  # a Movistar number recycled 10 days ago: in quarantine
OLD = "+5491155557777"  # recycled long ago: free for a new line
NUMBERS = (
    LIVE, RESTING, OLD, "+5491155558888", "5491155559999", "1155556666",
    "+573001234567", "+32470123456", "not a number",
)  # fmt: skip
OPERATORS = ("movistar-ar", "claro-co", "proximus-be", "nope")
ICCIDS = (None, None, "8954310000000000001", "8954310000000000019", "89543")
LANGUAGES = (None, None, "es", "nl", "fr", "zh")


def set_up(saldo: Saldo) -> None:
    """The catalog; a live Movistar line; a Movistar number recycled 10 days ago (resting for
    180) and one recycled 280 days ago (free again)."""
    load_catalog(saldo)
    for number, days_ago in ((OLD, 400), (RESTING, 130), (LIVE, 1)):
        add_line(saldo.uow(), new_line=NewLine(msisdn=number, operator="movistar-ar"),
                 now=NOW - timedelta(days=days_ago))  # fmt: skip
    sweep_lifecycle(saldo.uow(), now=NOW)


@st.composite
def line_rows(draw: st.DrawFn) -> list[tuple[int, NewLine | SaldoError]]:
    rows: list[tuple[int, NewLine | SaldoError]] = []
    for number in range(2, 2 + draw(st.integers(0, 25))):
        if draw(st.integers(0, 9)) == 0:
            rows.append((number, SaldoError("row unreadable")))
            continue
        rows.append((number, NewLine(
            msisdn=draw(st.sampled_from(NUMBERS)),
            operator=draw(st.sampled_from(OPERATORS)),
            iccid=draw(st.sampled_from(ICCIDS)),
            sim_kind=draw(st.sampled_from(SimKind)),
            language=draw(st.sampled_from(LANGUAGES)),
        )))  # fmt: skip
    return rows


def one_at_a_time(saldo: Saldo, rows: list[tuple[int, NewLine | SaldoError]]) -> ImportReport:
    report = ImportReport()
    for number, row in rows:
        try:
            if isinstance(row, SaldoError):
                raise row
            add_line(saldo.uow(), new_line=row, now=NOW)
            report.imported += 1
        except SaldoError as error:
            report.rejected.append((number, error.message))
    return report


DUMPS = {
    "lines": "SELECT operator_id, msisdn, iccid, sim_kind, language, state, activated_at, "
    "valid_until, state_changed_at FROM lines ORDER BY id",
    "buckets": "SELECT l.msisdn, l.state, a.operator_id, a.kind, a.unit, a.balance, a.expires_at "
    "FROM accounts a JOIN lines l ON l.id = a.line_id ORDER BY a.line_id, a.id",
}


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {k: [tuple(r) for r in connection.execute(text(q))] for k, q in DUMPS.items()}


def run(url: str, work: Callable[[Saldo], ImportReport]) -> tuple[ImportReport, Any]:
    saldo = wire(url, FixedClock(NOW))
    try:
        set_up(saldo)
        return work(saldo), dump(saldo.engine)
    finally:
        saldo.close()


@PROPERTY
@given(rows=line_rows(), chunk=st.integers(1, 9))
def test_an_import_in_chunks_does_what_adding_each_row_in_order_does(
    fresh: Callable[[], str], rows: list[tuple[int, NewLine | SaldoError]], chunk: int
) -> None:
    # given the same rows, imported in chunks and added one at a time on the same lines
    chunked = run(
        fresh(), lambda saldo: import_lines(saldo.uow(), rows=rows, now=NOW, chunk_size=chunk)
    )
    singly = run(fresh(), lambda saldo: one_at_a_time(saldo, rows))

    # then both report the same rows, for the same reasons, and keep the same lines
    assert chunked == singly
