"""Real-time charging cycles and rated CDRs through Saldo's services, beside the raw database
doing the minimal same writes, on the same machine in the same run.

    .venv/bin/python bench/charging.py                  # SQLite
    .venv/bin/python bench/charging.py --n 500 --cdrs 1000
    .venv/bin/python bench/charging.py --postgres       # or --database-url postgresql+psycopg://…

Movistar-ar lines, built through the migrations and the demo catalog and topped up through
``top_up``; Saldo runs first, then raw, on the same tables, every commit durable (SQLite in
WAL mode with synchronous=FULL, as Saldo runs it; PostgreSQL's defaults).

- cycle: ``start_session`` for a 60-second national call, ``end_session`` with 60 used. Raw,
  in two transactions: the main bucket's conditional UPDATE, the session, a ledger
  transaction of two entries (bucket → reservations); the session closed, a ledger
  transaction of two entries (reservations → usage), the day's use upserted (Saldo does too).
- CDR: ``import_usage`` over calls (national, mobile, on-net), SMS and data, IMPORT_BATCH
  records a transaction (rated in memory, written one statement per table). Raw, per record
  as a one-at-a-time import would, in the same transactions, a savepoint each (a bad record
  undone alone): the conditional UPDATE, the usage record, a ledger transaction of two
  entries (bucket → usage), the day's use upserted, at the prices Saldo rated.

The run fails unless both sides wrote the same rows and took the same money.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sweep import is_sqlite, sql, stored
from bench.topup_inquiry import fresh_postgres_database, postgres
from saldo.adapters.clock import FixedClock
from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.migrate import upgrade
from saldo.bootstrap import Saldo
from saldo.catalog.schema import bundled_specs
from saldo.config import Settings
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.periods import local_date
from saldo.domain.rating import Service
from saldo.services import charging, network_elements
from saldo.services.cdr_import import IMPORT_BATCH, import_usage
from saldo.services.charge_usage import UsageEvent
from saldo.services.lines import NewLine, import_lines
from saldo.services.operators import register_operator
from saldo.services.top_up import top_up

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
BUILT_AT = NOW - timedelta(days=1)
OPERATOR = "movistar-ar"
LANDLINE = "+541143210000"
CALL_SECONDS = 60
CALL_PRICE = 15000  # minor units: a national minute
DEAREST_CDR = 825  # ARS: five minutes to a mobile, the dearest record generated
err = Console(stderr=True)
Tick = Callable[[], None]

# Raw statements take named parameters (:name), all from one dict per operation.
TAKE = (
    "UPDATE accounts SET balance = balance - :money WHERE id = :bucket AND balance >= :money "
    "RETURNING balance"
)
OPEN = (
    "INSERT INTO charging_sessions (operator_id, line_id, element_id, msisdn, session_key, "
    "service, destination, on_net, state, reserved, held, used_raw, used, money_units, "
    "money_billed, last_request, expires_at, created_at, updated_at) "
    "VALUES (:operator, :line, :element, :msisdn, :key, 'voice', :destination, FALSE, 'open', "
    ":billable, :held, 0, 0, 0, 0, 0, :expires, :now, :now) RETURNING id"
)
CLOSE = (
    "UPDATE charging_sessions SET state = 'closed', reserved = 0, held = '[]', "
    "used_raw = :billable, used = :billable, money_units = :billable, money_billed = :money, "
    "last_request = 1, last_answer = '{\"granted\": 0}', updated_at = :now WHERE id = :event"
)
TRANSACTION = (
    "INSERT INTO ledger_transactions (operator_id, line_id, event_type, event_id, memo, "
    "created_at) VALUES (:operator, :line, :type, :event, :memo, :now) RETURNING id"
)
ENTRIES = (
    "INSERT INTO ledger_entries (transaction_id, account_id, amount, balance_after) "
    "VALUES (:transaction, :source, :debit, :after), (:transaction, :target, :money, NULL)"
)
RECORD = (
    "INSERT INTO usage_records (operator_id, line_id, record_id, service, started_at, used, "
    "billable, zone, destination, allowance_used, money, shortfall, currency, created_at) "
    "VALUES (:operator, :line, :record, :service, :started, :used, :billable, :zone, "
    ":destination, 0, :money, 0, 'ARS', :now) RETURNING id"
)
DAILY = (
    "INSERT INTO usage_daily (line_id, day, service, operator_id, events, used, billable, "
    "allowance_used, money, currency) VALUES (:line, :day, :service, :operator, 1, :used, "
    ":billable, 0, :money, 'ARS') ON CONFLICT (line_id, day, service) DO UPDATE SET "
    "events = usage_daily.events + 1, used = usage_daily.used + excluded.used, "
    "billable = usage_daily.billable + excluded.billable, "
    "money = usage_daily.money + excluded.money"
)
WRITTEN = {
    "sessions": "SELECT count(*) FROM charging_sessions",
    "usage records": "SELECT count(*) FROM usage_records",
    "ledger transactions": "SELECT count(*) FROM ledger_transactions",
    "ledger entries": "SELECT count(*) FROM ledger_entries",
    "daily events": "SELECT coalesce(sum(events), 0) FROM usage_daily",
    "minor units taken from lines": "SELECT -sum(balance) FROM accounts WHERE line_id IS NOT NULL",
}


@dataclass(frozen=True, slots=True)
class Result:
    database: str
    work: str
    n: int
    saldo_per_s: float
    raw_per_s: float
    written: dict[str, int]


def msisdn(i: int) -> str:
    return f"+549115{i:07d}"


def cdrs(n: int, *, lines: int, prefix: str) -> list[UsageEvent]:
    """Six calls, two SMS and two data sessions in ten, to national, mobile and on-net
    numbers in turn; the same stream whatever the prefix of the record ids."""
    events = []
    for i in range(n):
        to = (f"+541143{i % 10**6:06d}", f"+5491166{i % 10**6:06d}", msisdn(i * 7 % lines))
        service, quantity, destination = (
            (Service.VOICE, 1 + i * 37 % 300, to[i // 10 % 3])
            if i % 10 < 6
            else (Service.SMS, 1, to[i // 10 % 3])
            if i % 10 < 8
            else (Service.DATA, 1 + i * 7919 % 5_000_000, None)
        )
        started_at = NOW - timedelta(seconds=1 + i % 3600)
        events.append(UsageEvent(f"{prefix}-{i}", msisdn(i % lines), service, started_at,
                                 quantity, destination))  # fmt: skip
    return events


def build(saldo: Saldo, *, lines: int, money_each: int, progress: Progress) -> tuple[int, int, str]:
    """The schema, the catalog, ``lines`` lines with ``money_each`` ARS each and a network
    element; return the operator's id and time zone and the element's id."""
    upgrade(saldo.engine)
    for spec in bundled_specs():
        operator, as_loaded = spec.to_operator(), spec.model_dump(mode="json")
        register_operator(saldo.uow(), operator=operator, spec=as_loaded, now=BUILT_AT)
    task = progress.add_task(f"{lines:,} lines, topped up", total=2 * lines)
    rows = ((i, NewLine(msisdn=msisdn(i), operator=OPERATOR)) for i in range(lines))
    import_lines(saldo.uow(), rows=rows, now=BUILT_AT, on_rows=lambda n: progress.advance(task, n))
    amount = Money.of(money_each, "ARS")
    for i in range(lines):
        top_up(saldo.uow(), msisdn=msisdn(i), amount=amount, channel=Channel.STORE,
               idempotency_key=f"seed-{i}", now=BUILT_AT)  # fmt: skip
        progress.advance(task)
    key_hash = saldo.element_key_hash("ne_bench")
    element = network_elements.register_element(
        saldo.uow(), operator_slug=OPERATOR, name="msc-bench", key_hash=key_hash, now=BUILT_AT
    )
    with saldo.uow().reading() as uow:
        found = uow.operators.get_by_slug(OPERATOR)
        assert found is not None and found.id is not None
        return found.id, element, found.timezone


def written(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {k: int(connection.exec_driver_sql(q).scalar_one()) for k, q in WRITTEN.items()}


def each(n: int, work: Callable[[int], object]) -> Callable[[Tick], None]:
    def run(tick: Tick) -> None:
        for i in range(n):
            work(i)
            tick()

    return run


def timed(
    engine: Engine, n: int, label: str, progress: Progress, run: Callable[[Tick], object]
) -> tuple[float, dict[str, int]]:
    """Operations per second of ``run`` (n of them, each calling the tick it is given) and
    what it wrote."""
    before = written(engine)
    task = progress.add_task(label, total=n)
    started = time.perf_counter()
    run(lambda: progress.advance(task))
    took = time.perf_counter() - started
    return n / took, {k: v - before[k] for k, v in written(engine).items() if v != before[k]}


@cache
def for_driver(statement: str, *, sqlite: bool) -> str:
    return statement if sqlite else re.sub(r":(\w+)", r"%(\1)s", statement)


class Raw:
    """The minimal same writes in plain SQL through the driver's own connection (with
    Saldo's connection settings), every id known beforehand."""

    def __init__(self, engine: Engine, *, operator_id: int, element_id: int, timezone: str) -> None:
        self.engine, self.sqlite = engine, is_sqlite(engine)
        with engine.connect() as connection:
            lines, accounts = (
                connection.exec_driver_sql(sql(engine, query), (operator_id,)).all()
                for query in (
                    "SELECT l.msisdn, l.id, a.id FROM lines l JOIN accounts a "
                    "ON a.line_id = l.id AND a.kind = 'main' WHERE l.operator_id = ?",
                    "SELECT kind, id FROM accounts WHERE line_id IS NULL AND operator_id = ? "
                    "AND unit = 'ARS'",
                )
            )
        self.lines = {str(number): (int(line), int(bucket)) for number, line, bucket in lines}
        account = {str(kind): int(id_) for kind, id_ in accounts}
        self.reservations, self.usage = account["reservations"], account["usage"]
        self.timezone = timezone
        self.fixed = {"operator": operator_id, "element": element_id, "now": stored(engine, NOW),
                      "expires": stored(engine, NOW + charging.RESERVATION_VALIDITY)}  # fmt: skip
        self.connection = engine.raw_connection()
        self.cursor = self.connection.cursor()
        self.pending = 0  # records in the open transaction

    def run(self, statement: str, p: dict[str, Any]) -> Any:
        self.cursor.execute(for_driver(statement, sqlite=self.sqlite), p)
        if "RETURNING" in statement:
            row = self.cursor.fetchone()
            assert row is not None, f"nothing returned: {statement}"
            return row[0]
        return None

    def begin(self) -> None:
        if self.sqlite:
            self.cursor.execute("BEGIN IMMEDIATE")

    def ledger(self, p: dict[str, Any], source: int, target: int, after: int | None,
               memo: str) -> None:  # fmt: skip
        """A ledger transaction of two entries: ``money`` from source to target."""
        p = {**p, "source": source, "target": target, "after": after, "memo": memo}
        p["transaction"] = self.run(TRANSACTION, p)
        self.run(ENTRIES, {**p, "debit": -p["money"]})

    def cycle(self, i: int) -> None:
        """Reserve a minute of a national call, then charge it: two transactions."""
        number = msisdn(i % len(self.lines))
        line, bucket = self.lines[number]
        day = local_date(NOW, timezone=self.timezone).isoformat()
        p = {**self.fixed, "line": line, "bucket": bucket, "msisdn": number, "type": "charging",
             "destination": LANDLINE, "service": "voice", "used": CALL_SECONDS,
             "billable": CALL_SECONDS, "money": CALL_PRICE, "day": day,
             "key": f"raw-{i}"}  # fmt: skip
        self.begin()
        after = self.run(TAKE, p)
        held = [{"bucket": bucket, "unit": "ARS", "amount": CALL_PRICE}]
        p["event"] = self.run(OPEN, {**p, "held": json.dumps(held)})
        self.ledger(p, bucket, self.reservations, after, f"reserved {CALL_SECONDS} for voice")
        self.connection.commit()
        self.begin()
        self.run(CLOSE, p)
        memo = f"voice: {CALL_SECONDS} used of {CALL_SECONDS} reserved"
        self.ledger(p, self.reservations, self.usage, None, memo)
        self.run(DAILY, p)
        self.connection.commit()

    def record(self, e: UsageEvent, rated: tuple[int, int, str, int]) -> None:
        """Charge one record at what Saldo rated its twin (used, billable, zone, money)."""
        line, bucket = self.lines[e.msisdn]
        used, billable, zone, money = rated
        day = local_date(e.started_at, timezone=self.timezone).isoformat()
        p = {**self.fixed, "line": line, "bucket": bucket, "record": e.record_id, "type": "usage",
             "service": e.service.value, "started": stored(self.engine, e.started_at),
             "used": used, "billable": billable, "zone": zone, "destination": e.destination,
             "money": money, "day": day}  # fmt: skip
        # As Saldo's import: IMPORT_BATCH records per transaction, a savepoint each.
        if not self.pending:
            self.begin()
        self.cursor.execute("SAVEPOINT record")
        after = self.run(TAKE, p) if money else None
        p["event"] = self.run(RECORD, p)
        if money:
            self.ledger(p, bucket, self.usage, after, f"{e.service.value} {zone} {billable}")
        self.run(DAILY, p)
        self.cursor.execute("RELEASE SAVEPOINT record")
        self.pending += 1
        if self.pending == IMPORT_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.connection.commit()
            self.pending = 0


def measure(url: str, *, lines: int, n: int, records: int) -> list[Result]:
    saldo = Saldo(
        settings=Settings(database_url=url), engine=make_engine(url), clock=FixedClock(NOW)
    )
    engine = saldo.engine
    per_side = -(-n // lines) * CALL_PRICE // 100 + -(-records // lines) * DEAREST_CDR
    money_each = 2 * per_side + 1000  # ARS a line needs, for both sides, and some to spare
    with Progress(console=err, transient=True) as progress:
        op, ne, timezone = build(saldo, lines=lines, money_each=money_each, progress=progress)

        def cycle(i: int) -> None:
            grant = charging.start_session(
                saldo.uow(), operator_id=op, element_id=ne, session_key=f"saldo-{i}",
                msisdn=msisdn(i % lines),
                service=Service.VOICE, destination=LANDLINE, requested=CALL_SECONDS, now=NOW,
            )  # fmt: skip
            charging.end_session(saldo.uow(), operator_id=op, session_id=grant.session_id,
                                 request_number=1, used=CALL_SECONDS, now=NOW)  # fmt: skip

        events = cdrs(records, lines=lines, prefix="saldo")

        def rate_all(tick: Tick) -> None:
            summary = import_usage(saldo.uow(), rows=enumerate(events), now=NOW, on_row=tick)
            assert summary.charged == records, summary.rejections[:3]

        saldo_cycles = timed(engine, n, "Saldo: cycles", progress, each(n, cycle))
        raw = Raw(engine, operator_id=op, element_id=ne, timezone=timezone)
        raw_cycles = timed(engine, n, "raw: cycles", progress, each(n, raw.cycle))
        saldo_cdrs = timed(engine, records, "Saldo: CDRs", progress, rate_all)
        with engine.connect() as connection:
            rated = {
                int(str(r[0]).split("-")[1]): (int(r[1]), int(r[2]), str(r[3]), int(r[4]))
                for r in connection.exec_driver_sql(
                    "SELECT record_id, used, billable, zone, money FROM usage_records"
                )
            }
        twins = cdrs(records, lines=lines, prefix="raw")

        def rate_twin(i: int) -> None:
            raw.record(twins[i], rated[i])
            if i == records - 1:
                raw.flush()

        rate_twins = each(records, rate_twin)
        raw_cdrs = timed(engine, records, "raw: CDRs", progress, rate_twins)
        raw.connection.close()
    saldo.close()
    results = []
    for work, count, (saldo_rate, saldo_rows), (raw_rate, raw_rows) in (
        ("cycle", n, saldo_cycles, raw_cycles),
        ("CDR", records, saldo_cdrs, raw_cdrs),
    ):
        if saldo_rows != raw_rows:
            raise SystemExit(f"{work}: not the same work: Saldo {saldo_rows}, raw {raw_rows}")
        results.append(Result(engine.dialect.name, work, count, saldo_rate, raw_rate, saldo_rows))
    return results


@contextmanager
def database(url: str | None, *, postgresql: bool) -> Iterator[str]:
    """An empty database: on the PostgreSQL server given or started, else a SQLite file."""
    if not (url or postgresql):
        with tempfile.TemporaryDirectory() as workdir:
            yield f"sqlite:///{workdir}/charging.db"
        return
    with postgres(url) as server:
        if server is None:
            raise SystemExit("no PostgreSQL: give --database-url or install PostgreSQL")
        yield fresh_postgres_database(server)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000, help="charging cycles on each side")
    parser.add_argument("--cdrs", type=int, default=5000, help="CDRs rated on each side")
    parser.add_argument("--lines", type=int, default=1000, help="lines they are spread over")
    parser.add_argument("--database-url", help="a PostgreSQL server to make saldo_bench on")
    parser.add_argument("--postgres", action="store_true", help="start a throwaway cluster")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with database(args.database_url, postgresql=args.postgres) as url:
        results = measure(url, lines=args.lines, n=args.n, records=args.cdrs)
    command = shlex.join(sys.orig_argv)
    if args.json:
        print(json.dumps({"command": command, "results": [asdict(r) for r in results]}, indent=2))
        return
    print(f"{'database':<11} {'work':<6} {'n':>7} {'Saldo/s':>9} {'raw/s':>9} {'ratio':>7}")
    for r in results:
        ratio = r.saldo_per_s / r.raw_per_s
        print(f"{r.database:<11} {r.work:<6} {r.n:>7,} {r.saldo_per_s:>9,.0f} "
              f"{r.raw_per_s:>9,.0f} {ratio:>6.2f}x")  # fmt: skip
    for r in results:
        same = ", ".join(f"{v:,} {k}" for k, v in r.written.items())
        print(f"same work on both sides, {r.work}: {same}")
    print(f"command: {command}")


if __name__ == "__main__":
    main()
