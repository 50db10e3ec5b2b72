"""Top-ups and balance inquiries through Saldo's service layer, beside the raw database doing
the minimal same work, on the same machine in the same run.

    .venv/bin/python bench/topup_inquiry.py                 # SQLite, and PostgreSQL if it can
    .venv/bin/python bench/topup_inquiry.py --n 5000 --json

Raw work per top-up: one INSERT and one UPDATE in one durable transaction (SQLite in WAL mode
with synchronous=FULL, as Saldo runs it; PostgreSQL with its defaults). Raw work per inquiry:
one indexed JOIN of a line and its buckets. Saldo does the whole use case: line lock,
idempotency check, conditional balance update, top-up row, balanced ledger transaction,
validity update; and for an inquiry, the line with all buckets plus its operator's rules.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from saldo.adapters.clock import FixedClock
from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.migrate import upgrade
from saldo.bootstrap import Saldo
from saldo.catalog.schema import bundled_specs
from saldo.config import Settings
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import NewLine, import_lines
from saldo.services.operators import register_operator
from saldo.services.top_up import top_up

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
LINES = 1000


def msisdn(number: int) -> str:
    return f"+57300{number:07d}"


def timed(n: int, work: Callable[[int], object]) -> float:
    """Operations per second of ``work(i)`` for i in range(n)."""
    started = time.perf_counter()
    for i in range(n):
        work(i)
    return n / (time.perf_counter() - started)


# -- Saldo ---------------------------------------------------------------------------------


def saldo_rates(url: str, n: int) -> tuple[float, float]:
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
        rows=((i, NewLine(msisdn=msisdn(i), operator="claro-co")) for i in range(LINES)),
        now=NOW,
    )
    amount = Money.of("1000", "COP")

    def one_topup(i: int) -> object:
        return top_up(
            saldo.uow(),
            msisdn=msisdn(i % LINES),
            amount=amount,
            channel=Channel.STORE,
            idempotency_key=f"bench-{i}",
            now=NOW,
        )

    def one_inquiry(i: int) -> object:
        return inquire_balance(saldo.uow(), msisdn=msisdn((i * 7919) % LINES), now=NOW)

    one_topup(-1)  # warm the statement cache
    rates = timed(n, one_topup), timed(n, one_inquiry)
    saldo.close()
    return rates


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


def raw_sqlite_rates(path: Path, n: int) -> tuple[float, float]:
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

    rates = timed(n, one_topup), timed(n, one_inquiry)
    db.close()
    return rates


# -- raw PostgreSQL --------------------------------------------------------------------------


def raw_postgres_rates(url: str, n: int) -> tuple[float, float]:
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

        def one_inquiry(i: int) -> list[object]:
            return db.execute(pg(RAW_INQUIRY), (msisdn((i * 7919) % LINES),)).fetchall()

        rates = timed(n, one_topup), timed(n, one_inquiry)
        db.execute("DROP SCHEMA raw CASCADE")
    return rates


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
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory() as workdir:
        saldo_topups, saldo_inquiries = saldo_rates(f"sqlite:///{workdir}/saldo.db", args.n)
        raw_topups, raw_inquiries = raw_sqlite_rates(Path(workdir) / "raw.db", args.n)
        results.append(("sqlite", saldo_topups, raw_topups, saldo_inquiries, raw_inquiries))
    with nullcontext(None) if args.no_postgres else postgres(args.postgres_url) as server:
        if server is not None:
            url = fresh_postgres_database(server)
            saldo_topups, saldo_inquiries = saldo_rates(url, args.n)
            raw_topups, raw_inquiries = raw_postgres_rates(url, args.n)
            results.append(("postgresql", saldo_topups, raw_topups, saldo_inquiries, raw_inquiries))

    if args.json:
        print(
            json.dumps(
                [
                    {
                        "database": db,
                        "topups_per_s": st,
                        "raw_topups_per_s": rt,
                        "topup_ratio": st / rt,
                        "inquiries_per_s": si,
                        "raw_inquiries_per_s": ri,
                        "inquiry_ratio": si / ri,
                    }
                    for db, st, rt, si, ri in results
                ],
                indent=2,
            )
        )
        return
    print(f"{'database':<11} {'work':<10} {'saldo/s':>10} {'raw/s':>10} {'ratio':>7}  goal")
    for db, st, rt, si, ri in results:
        print(f"{db:<11} {'top-up':<10} {st:>10,.0f} {rt:>10,.0f} {st / rt:>6.2f}x  ≥ 0.50x")
        print(f"{db:<11} {'inquiry':<10} {si:>10,.0f} {ri:>10,.0f} {si / ri:>6.2f}x  ≥ 0.25x")


if __name__ == "__main__":
    main()
