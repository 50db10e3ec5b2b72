"""A CDR import rates its records in batches, in memory; this proves, on random CDR files and
on SQLite and PostgreSQL, that a batch does exactly what charging its records one at a time
does: the same per-row report, balances, ledger and daily use, for files with several lines
and operators, unknown lines, bad rows, record ids repeated (the same record, or another one
under its id), allowances of several expiries, bonus and main money, and money running out
mid-batch; and that importing the file again charges nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from saldo.adapters.clock import FixedClock
from saldo.bootstrap import Saldo
from saldo.domain.buckets import BucketKind
from saldo.domain.errors import SaldoError
from saldo.domain.rating import Service
from saldo.services.adjust_balance import adjust_balance
from saldo.services.audit import audit_ledger
from saldo.services.cdr_import import ImportSummary, import_usage
from saldo.services.charge_usage import UsageEvent, charge_usage
from saldo.services.lines import NewLine, add_line
from tests.conftest import NOW, load_catalog, wire

PROPERTY = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

SET_UP_AT = NOW - timedelta(days=2)
MOVISTAR = ("+5491155551234", "+5491155550000", "+5491155557777")
CLARO_CO = "+573001234567"
UNKNOWN = "+5491199999999"
NUMBERS = (*MOVISTAR, CLARO_CO, UNKNOWN, "not a number")
DESTINATIONS = (
    None, "+541143210000", "+5491166667777", *MOVISTAR, CLARO_CO, "+34911234567", "12345",
)  # fmt: skip
ROWS = Callable[[], list[tuple[int, UsageEvent | SaldoError]]]


def set_up(saldo: Saldo) -> None:
    """Three Movistar lines and a Claro Colombia one: the first with minutes of two expiries,
    SMS, data and bonus money; the second with a few pesos only (it runs out mid-batch)."""
    load_catalog(saldo)
    lines = [(number, "movistar-ar") for number in MOVISTAR] + [(CLARO_CO, "claro-co")]
    for number, operator in lines:
        add_line(saldo.uow(), new_line=NewLine(msisdn=number, operator=operator),
                 now=SET_UP_AT)  # fmt: skip
    for n, (number, kind, amount, days) in enumerate((
        (MOVISTAR[0], BucketKind.MAIN, 30000, 0), (MOVISTAR[1], BucketKind.MAIN, 400, 0),
        (MOVISTAR[2], BucketKind.MAIN, 4000, 0), (CLARO_CO, BucketKind.MAIN, 3000, 0),
        (MOVISTAR[0], BucketKind.VOICE, 120, 1), (MOVISTAR[0], BucketKind.VOICE, 300, 10),
        (MOVISTAR[0], BucketKind.SMS, 3, 10), (MOVISTAR[0], BucketKind.DATA, 2_000_000, 10),
        (MOVISTAR[0], BucketKind.BONUS, 1500, 10), (CLARO_CO, BucketKind.VOICE, 90, 10),
    )):  # fmt: skip
        adjust_balance(saldo.uow(), msisdn=number, kind=kind, amount=amount, reason="test",
                       actor="qa", idempotency_key=f"grant-{n}", now=SET_UP_AT,
                       expires_at=NOW - timedelta(hours=2) + timedelta(days=days - 1)
                       if days else None)  # fmt: skip


@st.composite
def cdr_files(draw: st.DrawFn) -> list[tuple[int, UsageEvent | SaldoError]]:
    """1 to 40 rows: some bad, the others records of the lines above (and of no line), some
    ids repeated, started from three days before the import to ten minutes after it."""
    rows: list[tuple[int, UsageEvent | SaldoError]] = []
    for n in range(draw(st.integers(1, 40))):
        if draw(st.integers(0, 9)) == 0:
            rows.append((n + 2, SaldoError(f"row {n + 2} cannot be read")))
            continue
        service = draw(st.sampled_from(Service))
        quantity = draw(
            {Service.VOICE: st.integers(0, 700), Service.SMS: st.integers(0, 3),
             Service.DATA: st.integers(0, 3_000_000)}[service]
        )  # fmt: skip
        destination = draw(st.sampled_from(DESTINATIONS))
        if service is not Service.DATA and destination is None and draw(st.booleans()):
            destination = "+541143210000"
        minutes = draw(st.integers(-10, 3 * 24 * 60))
        rows.append((n + 2, UsageEvent(
            record_id=f"r{draw(st.integers(0, 11))}",
            msisdn=draw(st.sampled_from(NUMBERS)),
            service=service,
            started_at=NOW - timedelta(minutes=minutes),
            quantity=quantity,
            destination=destination,
        )))  # fmt: skip
    return rows


def one_at_a_time(saldo: Saldo, rows: list[tuple[int, UsageEvent | SaldoError]]) -> ImportSummary:
    """What charging each row with ``charge_usage``, in order, reports."""
    summary = ImportSummary()
    for number, row in rows:
        if isinstance(row, SaldoError):
            summary.reject(number, row.message)
            continue
        try:
            summary.count(charge_usage(saldo.uow(), event=row, now=NOW))
        except SaldoError as error:
            summary.reject(number, error.message)
    return summary


DUMPS = {
    "buckets": "SELECT l.msisdn, a.kind, a.unit, a.expires_at, a.balance FROM accounts a "
    "JOIN lines l ON l.id = a.line_id",
    "operator accounts": "SELECT operator_id, kind, unit, balance FROM accounts "
    "WHERE line_id IS NULL",
    "records": "SELECT u.record_id, u.operator_id, l.msisdn, u.service, u.started_at, u.used, "
    "u.billable, u.zone, u.destination, u.allowance_used, u.money, u.shortfall, u.currency "
    "FROM usage_records u JOIN lines l ON l.id = u.line_id ORDER BY u.id",
    "usage ledger": "SELECT u.record_id, t.line_id = u.line_id, t.memo, coalesce(l.msisdn, "
    "'operator'), a.kind, a.unit, e.amount, e.balance_after FROM ledger_entries e "
    "JOIN ledger_transactions t ON t.id = e.transaction_id "
    "JOIN usage_records u ON u.id = t.event_id AND t.event_type = 'usage' "
    "JOIN accounts a ON a.id = e.account_id LEFT JOIN lines l ON l.id = a.line_id "
    "ORDER BY t.id, e.id",
    "transactions": "SELECT event_type, count(*) FROM ledger_transactions GROUP BY event_type",
    "daily use": "SELECT l.msisdn, d.day, d.service, d.operator_id, d.events, d.used, "
    "d.billable, d.allowance_used, d.money, d.currency FROM usage_daily d "
    "JOIN lines l ON l.id = d.line_id",
}


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        found = {k: [tuple(r) for r in connection.execute(text(q))] for k, q in DUMPS.items()}
    return {
        k: rows if "ORDER BY" in DUMPS[k] else sorted(rows, key=repr) for k, rows in found.items()
    }


def run(url: str, charge: Callable[[Saldo], list[ImportSummary]]) -> tuple[Any, ...]:
    saldo = wire(url, FixedClock(SET_UP_AT))
    try:
        set_up(saldo)
        summaries = charge(saldo)
        assert audit_ledger(saldo.uow()).clean
        return summaries, dump(saldo.engine)
    finally:
        saldo.close()


@PROPERTY
@given(rows=cdr_files(), batch=st.integers(1, 9))
def test_a_batched_import_does_what_charging_the_records_one_at_a_time_does(
    fresh: Callable[[], str], rows: list[tuple[int, UsageEvent | SaldoError]], batch: int
) -> None:
    # given a CDR file, imported twice in batches, and charged twice one record at a time
    def batched(saldo: Saldo) -> list[ImportSummary]:
        return [import_usage(saldo.uow(), rows=rows, now=NOW, batch=batch) for _ in range(2)]

    def singly(saldo: Saldo) -> list[ImportSummary]:
        return [one_at_a_time(saldo, rows) for _ in range(2)]

    # when both are done on the same lines
    (first, again), in_batches = run(fresh(), batched)
    expected, one_by_one = run(fresh(), singly)

    # then they report the same rows, and leave the same balances, ledger and daily use
    assert [first, again] == expected
    assert in_batches == one_by_one
    # and the second import charged nothing
    assert again.charged == 0 and not again.money
