"""Top-ups and balance inquiries through Saldo's service layer, beside the raw database doing
the minimal same work, on the same machine in the same run.

    .venv/bin/python bench/topup_inquiry.py                 # SQLite, and PostgreSQL if it can
    .venv/bin/python bench/topup_inquiry.py --n 5000 --json

Raw work per top-up: one INSERT and one UPDATE in one durable transaction (SQLite in WAL mode
with synchronous=FULL, as Saldo runs it; PostgreSQL with its defaults). Raw work per inquiry:
one indexed JOIN of a line and its buckets. Saldo does the whole use case: line lock,
idempotency check, conditional balance update, top-up row, balanced ledger transaction,
validity update; and for an inquiry, the line with all buckets plus its operator's rules.

On SQLite a third rate is printed: Saldo's own top-up statements, prepared, run from raw
``sqlite3`` with no Python layer above them, on Saldo's database right after Saldo's run. Its
ratio to raw is what code issuing Saldo's statements could reach on this machine; the gap
between it and Saldo's ratio is what Saldo's Python costs.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from saldo.adapters.clock import FixedClock
from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.migrate import upgrade
from saldo.bootstrap import Saldo
from saldo.catalog.schema import bundled_specs
from saldo.config import Settings
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.periods import end_of_local_day_after
from saldo.domain.topup import validity_days_for
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import NewLine, import_lines
from saldo.services.operators import register_operator
from saldo.services.top_up import top_up

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
LINES = 1000


class Scenario(NamedTuple):
    """What the top-ups are. By default 1,000 COP each (Claro Colombia's minimum, 7 days of
    validity, on lines valid for 30: no validity moves), all at ``NOW``. With ``--extend``,
    20,000 COP (60 days), a day later for each round of the lines: every top-up extends its
    line's validity, and writes the line."""

    amount: Money
    extend: bool

    def at(self, i: int) -> datetime:
        return NOW + timedelta(days=i // LINES) if self.extend else NOW


SMALL = Scenario(Money.of("1000", "COP"), extend=False)
EXTENDING = Scenario(Money.of("20000", "COP"), extend=True)


def msisdn(number: int) -> str:
    return f"+57300{number:07d}"


class Side(NamedTuple):
    """One way of doing the work: ``topup(i)`` and ``inquiry(i)`` for i = 0, 1, ..."""

    topup: Callable[[int], object]
    inquiry: Callable[[int], object] | None


def race(sides: dict[str, Side], n: int, *, rounds: int = 10) -> dict[str, tuple[float, float]]:
    """Top-ups and inquiries per second of each side. The sides take turns, ``n // rounds``
    operations at a time, so that each sees the machine in the same state: a durable commit's
    cost drifts over seconds with the disk, and measuring one side after the other put that
    drift into the ratio."""
    block = max(1, n // rounds)
    spent = {name: [0.0, 0.0] for name in sides}
    done = 0
    while done < n:
        count = min(block, n - done)
        for kind in (0, 1):
            for name, side in sides.items():
                work = side.topup if kind == 0 else side.inquiry
                if work is None:
                    continue
                started = time.perf_counter()
                for i in range(done, done + count):
                    work(i)
                spent[name][kind] += time.perf_counter() - started
        done += count
    return {
        name: (n / topups, n / inquiries if inquiries else float("nan"))
        for name, (topups, inquiries) in spent.items()
    }


# -- Saldo ---------------------------------------------------------------------------------


@contextmanager
def saldo_side(url: str, scenario: Scenario = SMALL) -> Iterator[Side]:
    saldo = Saldo(
        settings=Settings(database_url=url), engine=make_engine(url), clock=FixedClock(NOW)
    )
    upgrade(saldo.engine)
    for spec in bundled_specs():
        register_operator(
            saldo.uow(), operator=spec.to_operator(), spec=spec.model_dump(mode="json"), now=NOW
        )
    import_lines(
        saldo.uow(),
        # The first thousand lines are Saldo's; the second are the replayed statements'.
        rows=((i, NewLine(msisdn=msisdn(i), operator="claro-co")) for i in range(2 * LINES)),
        now=NOW,
    )

    def one_topup(i: int) -> object:
        return top_up(
            saldo.uow(),
            msisdn=msisdn(i % LINES),
            amount=scenario.amount,
            channel=Channel.STORE,
            idempotency_key=f"bench-{i}",
            now=scenario.at(i),
        )

    def one_inquiry(i: int) -> object:
        return inquire_balance(saldo.uow(), msisdn=msisdn((i * 7919) % LINES), now=NOW)

    one_topup(-1)  # warm the statement cache
    try:
        yield Side(one_topup, one_inquiry)
    finally:
        saldo.close()


# -- raw SQLite ------------------------------------------------------------------------------

RAW_SCHEMA = """
CREATE TABLE lines (id INTEGER PRIMARY KEY, msisdn TEXT NOT NULL UNIQUE, valid_until TEXT);
CREATE TABLE buckets (id INTEGER PRIMARY KEY, line_id INTEGER NOT NULL, kind TEXT NOT NULL,
                      balance INTEGER NOT NULL, expires_at TEXT);
CREATE INDEX ix_buckets_line ON buckets (line_id);
CREATE TABLE topups (id INTEGER PRIMARY KEY, line_id INTEGER NOT NULL, amount INTEGER NOT NULL,
                     idempotency_key TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
"""
RAW_ADD_LINE = "INSERT INTO lines (id, msisdn, valid_until) VALUES (?, ?, ?)"
RAW_ADD_BUCKET = "INSERT INTO buckets (line_id, kind, balance) VALUES (?, 'main', 0)"
RAW_TOPUP_INSERT = (
    "INSERT INTO topups (line_id, amount, idempotency_key, created_at) VALUES (?, ?, ?, ?)"
)
RAW_TOPUP_UPDATE = "UPDATE buckets SET balance = balance + ? WHERE line_id = ? AND kind = 'main'"
RAW_INQUIRY = (
    "SELECT l.id, l.msisdn, l.valid_until, b.kind, b.balance, b.expires_at "
    "FROM lines l LEFT JOIN buckets b ON b.line_id = l.id WHERE l.msisdn = ?"
)


@contextmanager
def raw_sqlite_side(path: Path) -> Iterator[Side]:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(RAW_SCHEMA)
    db.execute("BEGIN")
    for i in range(LINES):
        db.execute(RAW_ADD_LINE, (i + 1, msisdn(i), "2026-12-23"))
        db.execute(RAW_ADD_BUCKET, (i + 1,))
    db.execute("COMMIT")
    now = NOW.isoformat()

    def one_topup(i: int) -> None:
        line_id = i % LINES + 1
        db.execute("BEGIN IMMEDIATE")
        db.execute(RAW_TOPUP_INSERT, (line_id, 100000, f"raw-{i}", now))
        db.execute(RAW_TOPUP_UPDATE, (100000, line_id))
        db.execute("COMMIT")

    def one_inquiry(i: int) -> list[object]:
        return db.execute(RAW_INQUIRY, (msisdn((i * 7919) % LINES),)).fetchall()

    try:
        yield Side(one_topup, one_inquiry)
    finally:
        db.close()


# -- Saldo's statements from raw sqlite3 ------------------------------------------------------

# What a Saldo top-up runs on SQLite, in order (SqlLineRepository.get_by_msisdn with the key,
# SqlTopUpRepository.credit): the line lock that also finds the key's earlier top-up, the
# balance update (of the line's bucket of the top-up's operator), the top-up row, the ledger
# transaction, its two entries in one statement, and the line's new validity when it changes
# (of the operator's line). Columns and values as Saldo writes them.
SALDO_LOCK = (
    "SELECT lines.id, lines.operator_id, lines.msisdn, lines.iccid, lines.sim_kind, "
    "lines.language, lines.state, lines.activated_at, lines.valid_until, lines.email, "
    "lines.low_balance_threshold, operators.spec_hash, accounts.id, topups.id "
    "FROM lines JOIN operators ON operators.id = lines.operator_id "
    "JOIN accounts ON accounts.line_id = lines.id AND accounts.kind = 'main' "
    "LEFT OUTER JOIN topups ON topups.operator_id = lines.operator_id "
    "AND topups.idempotency_key = ? "
    "WHERE lines.id = (SELECT max(lines.id) FROM lines WHERE lines.msisdn = ?)"
)
SALDO_BALANCE = (
    "UPDATE accounts SET balance = balance + ? "
    "WHERE id = ? AND operator_id = ? AND line_id = ? RETURNING balance"
)
SALDO_TOPUP = (
    "INSERT INTO topups (operator_id, line_id, idempotency_key, request_fingerprint, amount, "
    "currency, channel, validity_days, state_before, valid_until_before, valid_until_after, "
    "balance_after, created_at, bonus) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "RETURNING id"
)
SALDO_TRANSACTION = (
    "INSERT INTO ledger_transactions (operator_id, line_id, event_type, event_id, memo, "
    "created_at) VALUES (?, ?, 'topup', ?, 'top-up via store', ?) RETURNING id"
)
SALDO_ENTRIES = (
    "INSERT INTO ledger_entries (transaction_id, account_id, amount, balance_after) "
    "VALUES (?, ?, ?, NULL), (?, ?, ?, ?)"
)
SALDO_VALIDITY = "UPDATE lines SET valid_until = ? WHERE id = ? AND operator_id = ?"


@contextmanager
def saldo_statements_side(path: Path, scenario: Scenario = SMALL) -> Iterator[Side]:
    """Saldo's top-up statements from raw ``sqlite3``, on Saldo's database (set up by
    ``saldo_side``), on lines and with keys of their own; the line's validity read from its
    locked row."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    lines = db.execute(
        "SELECT lines.operator_id, lines.id, lines.msisdn, accounts.id "
        "FROM lines JOIN accounts ON accounts.line_id = lines.id AND accounts.kind = 'main' "
        "ORDER BY lines.id"
    ).fetchall()[LINES:]
    operator_id = lines[0][0]
    (clearing,) = db.execute(
        "SELECT account_id FROM ledger_entries WHERE amount < 0 LIMIT 1"
    ).fetchone()
    fingerprint = "0" * 64
    # Saldo's rule: the later of the line's end of validity and the end of the local day the
    # amount's denomination reaches.
    claro = next(spec for spec in bundled_specs() if spec.slug == "claro-co").to_operator()
    days = validity_days_for(scenario.amount, rules=claro.topup)
    amount, currency = scenario.amount.minor, scenario.amount.currency

    @functools.cache
    def granted(at: datetime) -> datetime:
        return end_of_local_day_after(at, days, timezone=claro.timezone).replace(tzinfo=None)

    def one_topup(i: int) -> None:
        _, line_id, number, bucket = lines[i % len(lines)]
        key = f"statements-{i}"
        cursor = db.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        locked = cursor.execute(SALDO_LOCK, (key, number)).fetchone()
        before = datetime.fromisoformat(locked[8])
        at = scenario.at(i)
        after = max(before, granted(at))
        stamp = at.replace(tzinfo=None).isoformat(" ", "microseconds")
        (balance,) = cursor.execute(
            SALDO_BALANCE, (amount, bucket, operator_id, line_id)
        ).fetchone()
        (topup_id,) = cursor.execute(
            SALDO_TOPUP,
            (
                operator_id,
                line_id,
                key,
                fingerprint,
                amount,
                currency,
                "store",
                days,
                "active",
                before.isoformat(" ", "microseconds"),
                after.isoformat(" ", "microseconds"),
                balance,
                stamp,
                None,
            ),
        ).fetchone()
        (transaction_id,) = cursor.execute(
            SALDO_TRANSACTION, (operator_id, line_id, topup_id, stamp)
        ).fetchone()
        cursor.execute(
            SALDO_ENTRIES,
            (transaction_id, clearing, -amount, transaction_id, bucket, amount, balance),
        )
        if after != before:
            cursor.execute(
                SALDO_VALIDITY, (after.isoformat(" ", "microseconds"), line_id, operator_id)
            )
        cursor.execute("COMMIT")
        cursor.close()

    try:
        yield Side(one_topup, None)
    finally:
        db.close()


# -- raw PostgreSQL --------------------------------------------------------------------------


@contextmanager
def raw_postgres_side(url: str) -> Iterator[Side]:
    """The same raw work as on SQLite, in a schema of its own beside Saldo's tables."""
    import psycopg

    def pg(sql: str) -> str:
        return sql.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY").replace("?", "%s")

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as db:
        db.execute("DROP SCHEMA IF EXISTS raw CASCADE")
        db.execute("CREATE SCHEMA raw")
        db.execute("SET search_path TO raw")
        for statement in RAW_SCHEMA.split(";"):
            if statement.strip():
                db.execute(pg(statement))
        with db.transaction():
            for i in range(LINES):
                db.execute(pg(RAW_ADD_LINE), (i + 1, msisdn(i), "2026-12-23"))
                db.execute(pg(RAW_ADD_BUCKET), (i + 1,))
        now = NOW.isoformat()

        def one_topup(i: int) -> None:
            line_id = i % LINES + 1
            with db.transaction():
                db.execute(pg(RAW_TOPUP_INSERT), (line_id, 100000, f"raw-{i}", now))
                db.execute(pg(RAW_TOPUP_UPDATE), (100000, line_id))

        def one_inquiry(i: int) -> object:
            return db.execute(pg(RAW_INQUIRY), (msisdn((i * 7919) % LINES),)).fetchall()

        try:
            yield Side(one_topup, one_inquiry)
        finally:
            db.execute("DROP SCHEMA raw CASCADE")


@contextmanager
def postgres(url: str | None) -> Iterator[str | None]:
    """The given server, else a throwaway one (as the tests start it), else None."""
    if url:
        yield url
        return
    from tests.postgres import postgres_server, unavailable_reason

    if unavailable_reason() is not None:
        yield None
        return
    with postgres_server(durable=True) as server:
        yield server


def fresh_postgres_database(server_url: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS saldo_bench WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE saldo_bench"))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + "/saldo_bench"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=3000, help="operations of each kind")
    parser.add_argument("--postgres-url", default=os.environ.get("SALDO_BENCH_POSTGRES_URL"))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--extend",
        action="store_true",
        help="top-ups that extend their line's validity (20,000 COP, a day apart per round)",
    )
    args = parser.parse_args()

    scenario = EXTENDING if args.extend else SMALL
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as workdir:
        saldo_db = Path(workdir) / "saldo.db"
        with (
            saldo_side(f"sqlite:///{saldo_db}", scenario) as saldo,
            raw_sqlite_side(Path(workdir) / "raw.db") as raw,
            saldo_statements_side(saldo_db, scenario) as statements,
        ):
            rates = race({"saldo": saldo, "raw": raw, "statements": statements}, args.n)
        results.append(result("sqlite", rates))
    with nullcontext(None) if args.no_postgres else postgres(args.postgres_url) as server:
        if server is not None:
            url = fresh_postgres_database(server)
            with saldo_side(url, scenario) as saldo, raw_postgres_side(url) as raw:
                rates = race({"saldo": saldo, "raw": raw}, args.n)
            results.append(result("postgresql", rates))

    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'database':<11} {'work':<24} {'saldo/s':>10} {'raw/s':>10} {'ratio':>7}  goal")
    for r in results:
        db, raw_rate = r["database"], r["raw_topups_per_s"]
        print(
            f"{db:<11} {'top-up':<24} {r['topups_per_s']:>10,.0f} {raw_rate:>10,.0f} "
            f"{r['topup_ratio']:>6.2f}x  ≥ 0.50x"
        )
        if "statements_topups_per_s" in r:
            print(
                f"{db:<11} {'top-up, its SQL alone':<24} {r['statements_topups_per_s']:>10,.0f} "
                f"{raw_rate:>10,.0f} {r['statements_topup_ratio']:>6.2f}x  (Saldo's SQL, no Python)"
            )
        print(
            f"{db:<11} {'inquiry':<24} {r['inquiries_per_s']:>10,.0f} "
            f"{r['raw_inquiries_per_s']:>10,.0f} {r['inquiry_ratio']:>6.2f}x  ≥ 0.25x"
        )


def result(database: str, rates: dict[str, tuple[float, float]]) -> dict[str, object]:
    (topups, inquiries), (raw_topups, raw_inquiries) = rates["saldo"], rates["raw"]
    found: dict[str, object] = {
        "database": database,
        "topups_per_s": topups,
        "raw_topups_per_s": raw_topups,
        "topup_ratio": topups / raw_topups,
        "inquiries_per_s": inquiries,
        "raw_inquiries_per_s": raw_inquiries,
        "inquiry_ratio": inquiries / raw_inquiries,
    }
    if "statements" in rates:
        statements = rates["statements"][0]
        found["statements_topups_per_s"] = statements
        found["statements_topup_ratio"] = statements / raw_topups
    return found


if __name__ == "__main__":
    main()
