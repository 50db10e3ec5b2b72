"""One worker pass over many lines (lifecycle sweep and expiry reminders) beside the raw
database doing the minimal same writes, on the same machine in the same run.

    .venv/bin/python bench/sweep.py                     # 100,000 and 1,000,000 lines, SQLite
    .venv/bin/python bench/sweep.py --lines 100000
    .venv/bin/python bench/sweep.py --postgres          # or --database-url postgresql+psycopg://…

N lines of the seven demo operators and their main buckets, inserted in bulk with plain SQL;
1 % are due (validity ended in the hour before NOW), the rest end 8 to 373 days after NOW,
so no reminder is due. Sizes above the smallest also run with as many due lines as the
smallest: the same pass time there means the cost follows the due lines, not all lines.

- Saldo: ``sweep_lifecycle()`` (per due line, in its own transaction: lock, state computed
  again, a line event, the state written) and ``queue_expiry_reminders()`` (the previous
  run one worker interval ago); each alone, then both, as a worker pass runs them.
- raw: the due lines selected through the same index (state, valid_until), then per line,
  in its own transaction, one UPDATE of its state, one INSERT of a line event and one of
  the SMS that tells the subscriber (the outbox).

The database is put back as built before each measurement. SQLite runs as Saldo runs it
(WAL, synchronous=FULL, never analyzed); PostgreSQL is analyzed after loading and vacuumed
after each reset, as autovacuum would do.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import Engine, event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.topup_inquiry import fresh_postgres_database, postgres
from saldo.adapters.clock import FixedClock
from saldo.adapters.db.engine import WRITE, make_engine
from saldo.adapters.db.migrate import upgrade
from saldo.bootstrap import Saldo
from saldo.catalog.schema import bundled_specs
from saldo.config import Settings
from saldo.services.lifecycle_sweep import sweep_lifecycle
from saldo.services.operators import register_operator
from saldo.services.reminders import JOB, queue_expiry_reminders

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
BUILT_AT = NOW - timedelta(days=30)
PREVIOUS_PASS = NOW - timedelta(seconds=60)  # `saldo worker`'s default interval
ROWS_PER_INSERT = 1000
SAME_ENOUGH = 1.5  # 10x the lines in the same time, within this factor: cost follows due lines
err = Console(stderr=True)

# Per operator, as Saldo reads them (each operator has its own rules), through the same index.
RAW_OPERATORS = "SELECT id FROM operators ORDER BY id"
RAW_DUE = (
    "SELECT id, operator_id, msisdn, valid_until FROM lines "
    "WHERE state = 'active' AND operator_id = ? AND valid_until <= ? ORDER BY valid_until, id"
)
RAW_MOVE = "UPDATE lines SET state = 'grace', state_changed_at = ? WHERE id = ?"
RAW_EVENT = (
    "INSERT INTO line_events (operator_id, line_id, from_state, to_state, reason, "
    "effective_at, recorded_at) VALUES (?, ?, 'active', 'grace', 'validity ended', ?, ?)"
)
RAW_SMS = (
    "INSERT INTO outbox (operator_id, line_id, channel, key, recipient, payload, state, "
    "next_attempt_at, created_at) VALUES (?, ?, 'sms', ?, ?, ?, 'pending', ?, ?)"
)
RESET_LINES = "UPDATE lines SET state = 'active', state_changed_at = ? WHERE state <> 'active'"
LINE_COLUMNS = (
    "operator_id, msisdn, sim_kind, language, state, activated_at, valid_until, "
    "state_changed_at, created_at"
)
MAIN_BUCKETS = (
    "INSERT INTO accounts (operator_id, line_id, kind, unit, balance, created_at) "
    "SELECT l.operator_id, l.id, 'main', o.currency, 0, l.created_at "
    "FROM lines l JOIN operators o ON o.id = l.operator_id"
)


@dataclass(frozen=True, slots=True)
class Run:
    database: str
    lines: int
    due: int
    sweep_s: float
    reminders_s: float
    pass_s: float
    raw_s: float


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sql(engine: Engine, statement: str) -> str:
    return statement if is_sqlite(engine) else statement.replace("?", "%s")


def stored(engine: Engine, moment: datetime) -> object:
    """A moment as the driver takes it for a ``TZDateTime`` column: naive UTC text in
    SQLAlchemy's format on SQLite, the aware datetime on PostgreSQL."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}" if is_sqlite(engine) else moment


def valid_until(i: int, *, due_every: int) -> datetime:
    if i % due_every == 0:
        return NOW - timedelta(seconds=1 + i % 3600)
    return NOW + timedelta(days=8, seconds=(i * 7919) % (365 * 86400))


def build(saldo: Saldo, *, lines: int, due_every: int, progress: Progress) -> None:
    engine = saldo.engine
    upgrade(engine)
    for spec in bundled_specs():
        register_operator(
            saldo.uow(), operator=spec.to_operator(), spec=spec.model_dump(mode="json"), now=NOW
        )
    with saldo.uow().reading() as uow:
        operators = [(o.id, o.languages[0]) for o in uow.operators.list()]
    built = stored(engine, BUILT_AT)
    task = progress.add_task(f"{lines:,} lines", total=lines)
    with engine.execution_options(**{WRITE: True}).begin() as connection:
        for start in range(0, lines, ROWS_PER_INSERT):
            rows = range(start, min(start + ROWS_PER_INSERT, lines))
            values: list[object] = []
            for i in rows:
                operator_id, language = operators[i % len(operators)]
                end = stored(engine, valid_until(i, due_every=due_every))
                values += [operator_id, f"+57300{i:07d}", "physical", language, "active"]
                values += [built, end, built, built]
            marks = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows))
            statement = f"INSERT INTO lines ({LINE_COLUMNS}) VALUES {marks}"
            connection.exec_driver_sql(sql(engine, statement), tuple(values))
            progress.advance(task, len(rows))
        connection.exec_driver_sql(MAIN_BUCKETS)
    maintain(engine, "ANALYZE")


def reset(engine: Engine) -> None:
    """Put back what a pass changes: the lines' state, their events, queued messages and
    the time of the previous reminder run."""
    with engine.execution_options(**{WRITE: True}).begin() as connection:
        connection.exec_driver_sql(sql(engine, RESET_LINES), (stored(engine, BUILT_AT),))
        for table in ("line_events", "outbox", "job_runs"):
            connection.exec_driver_sql(f"DELETE FROM {table}")
        connection.exec_driver_sql(
            sql(engine, "INSERT INTO job_runs (job, last_run_at) VALUES (?, ?)"),
            (JOB, stored(engine, PREVIOUS_PASS)),
        )
    maintain(engine, "VACUUM ANALYZE lines, line_events")


def maintain(engine: Engine, statement: str) -> None:
    """What autovacuum does on PostgreSQL in time; nothing on SQLite."""
    if not is_sqlite(engine):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(statement)


def seconds(engine: Engine, work: Callable[[], object], *, moves: int) -> float:
    """How long ``work`` takes on the database as built; check it moved ``moves`` lines."""
    reset(engine)
    started = time.perf_counter()
    work()
    took = time.perf_counter() - started
    with engine.connect() as connection:
        events = connection.exec_driver_sql("SELECT count(*) FROM line_events").scalar_one()
    assert events == moves, f"{events} line events, expected {moves}"
    return took


def raw_pass(engine: Engine) -> int:
    """The minimal same writes as the sweep, through the driver's own connection (with
    Saldo's connection settings)."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(RAW_OPERATORS)
        due = []
        for (operator_id,) in cursor.fetchall():
            cursor.execute(sql(engine, RAW_DUE), (operator_id, stored(engine, NOW)))
            due += cursor.fetchall()
        connection.commit()
        now = stored(engine, NOW)
        for line_id, operator_id, msisdn, ended_at in due:
            if is_sqlite(engine):
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(sql(engine, RAW_MOVE), (now, line_id))
            cursor.execute(sql(engine, RAW_EVENT), (operator_id, line_id, ended_at, now))
            payload = json.dumps(
                {"kind": "line_in_grace", "line_id": line_id, "valid_until": str(ended_at)}
            )
            cursor.execute(
                sql(engine, RAW_SMS),
                (operator_id, line_id, f"line_in_grace-{line_id}", msisdn, payload, now, now),
            )
            connection.commit()
        return len(due)
    finally:
        connection.close()


def print_plans(saldo: Saldo) -> None:
    """How the database answers Saldo's due query, its reminders query and the raw one."""
    engine = saldo.engine
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    reset(engine)
    event.listen(engine, "before_cursor_execute", record)
    sweep_lifecycle(saldo.uow(), now=NOW)
    queue_expiry_reminders(saldo.uow(), now=NOW)
    event.remove(engine, "before_cursor_execute", record)
    # Both order by end of validity; only the reminders' query has a lower bound on it.
    lines_queries = [
        (s, p) for s, p in seen if s.startswith("SELECT") and "ORDER BY lines.valid_until" in s
    ]
    queries = {
        "Saldo, due lines (sweep_lifecycle)": next(
            (s, p) for s, p in lines_queries if "lines.valid_until >" not in s
        ),
        "Saldo, lines to remind (queue_expiry_reminders)": next(
            (s, p) for s, p in lines_queries if "lines.valid_until >" in s
        ),
    }
    queries["raw, due lines"] = (sql(engine, RAW_DUE), (1, stored(engine, NOW)))
    explain = "EXPLAIN QUERY PLAN " if is_sqlite(engine) else "EXPLAIN "
    with engine.connect() as connection:
        for label, (statement, parameters) in queries.items():
            print(f"{explain.strip()} — {label}:")
            for row in connection.exec_driver_sql(explain + statement, parameters):
                print(f"    {row[-1]}")
    print()


def measure(url: str, *, lines: int, due: int, plans: bool) -> Run:
    saldo = Saldo(
        settings=Settings(database_url=url), engine=make_engine(url), clock=FixedClock(NOW)
    )
    with Progress(console=err, transient=True) as progress:
        build(saldo, lines=lines, due_every=lines // due, progress=progress)
    engine = saldo.engine
    if plans:
        print_plans(saldo)
    due = len(range(0, lines, lines // due))
    err.print(f"[dim]{lines:,} lines, {due:,} due: timing Saldo and raw…[/dim]")

    def sweep() -> object:
        return sweep_lifecycle(saldo.uow(), now=NOW)

    def remind() -> object:
        return queue_expiry_reminders(saldo.uow(), now=NOW)

    run = Run(
        database=engine.dialect.name,
        lines=lines,
        due=due,
        sweep_s=seconds(engine, sweep, moves=due),
        reminders_s=seconds(engine, remind, moves=0),
        pass_s=seconds(engine, lambda: (sweep(), remind()), moves=due),
        raw_s=seconds(engine, lambda: raw_pass(engine), moves=due),
    )
    saldo.close()
    return run


def print_runs(runs: list[Run]) -> None:
    print("database       lines     due  job         Saldo s   raw s raw/Saldo ms/due line")
    for r in runs:
        jobs = (("sweep", r.sweep_s, r.raw_s), ("reminders", r.reminders_s, None))
        for job, took, raw in (*jobs, ("pass", r.pass_s, r.raw_s)):
            row = f"{r.database:<10} {r.lines:>9,} {r.due:>7,}  {job:<10} {took:>8.3f}"
            if raw is None:
                print(row, f"{'—':>7} {'—':>9} {'—':>11}")
            else:
                print(row, f"{raw:>7.3f} {raw / took:>8.2f}x {took / r.due * 1000:>11.3f}")
    smallest = min(runs, key=lambda r: r.lines)
    for r in runs:
        if r.lines > smallest.lines and r.due == smallest.due:
            factor = r.pass_s / smallest.pass_s
            same = factor <= SAME_ENOUGH
            verdict = "about the same: the cost follows the due lines" if same else "NOT the same"
            print(
                f"\n{r.due:,} due lines: a pass takes {smallest.pass_s:.3f} s over "
                f"{smallest.lines:,} lines and {r.pass_s:.3f} s over {r.lines:,} "
                f"({factor:.2f}x for {r.lines / smallest.lines:.0f}x the lines): {verdict}"
                f"\n(sweep {r.sweep_s / smallest.sweep_s:.2f}x, "
                f"reminders {r.reminders_s / smallest.reminders_s:.2f}x)"
            )


@contextmanager
def databases(url: str | None, *, postgresql: bool) -> Iterator[Callable[[], str]]:
    """A maker of empty databases: on the PostgreSQL server given or started, else SQLite
    files in a temporary directory."""
    if not (url or postgresql):
        numbers = itertools.count(1)
        with tempfile.TemporaryDirectory() as workdir:
            yield lambda: f"sqlite:///{workdir}/sweep-{next(numbers)}.db"
        return
    with postgres(url) as server:
        if server is None:
            raise SystemExit("no PostgreSQL: give --database-url or install PostgreSQL")
        yield lambda: fresh_postgres_database(server)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--lines", type=int, action="append", help="a size to run (repeatable; default both)"
    )
    parser.add_argument("--due-fraction", type=float, default=0.01)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server (postgresql+psycopg://...) to create a database saldo_bench "
        "on, afresh for each size; by default, SQLite files in a temporary directory",
    )
    parser.add_argument("--postgres", action="store_true", help="start a throwaway cluster")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    sizes = sorted(args.lines or [100_000, 1_000_000])
    fixed_due = max(1, round(sizes[0] * args.due_fraction))
    plan = [(n, max(1, round(n * args.due_fraction))) for n in sizes]
    plan += [(n, fixed_due) for n in sizes[1:]]
    with databases(args.database_url, postgresql=args.postgres) as fresh_url:
        runs = [
            measure(fresh_url(), lines=lines, due=due, plans=i == 0 and not args.json)
            for i, (lines, due) in enumerate(plan)
        ]
    if args.json:
        print(json.dumps([asdict(r) for r in runs], indent=2))
    else:
        print_runs(runs)


if __name__ == "__main__":
    main()
