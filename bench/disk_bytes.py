"""Bytes on disk per line, per top-up and per charged CDR on PostgreSQL, for docs/scaling.md.

    .venv/bin/python bench/disk_bytes.py                 # 5,000 lines, a throwaway PostgreSQL
    .venv/bin/python bench/disk_bytes.py --lines 20000 --postgres-url postgresql+psycopg://…

Through Saldo's own use cases: ``import_lines`` adds N Movistar Argentina lines, then each
line gets one top-up (``top_up``), then four CDRs each (``import_usage``: two calls, an SMS
and a data session). After each step the database is vacuumed and analyzed, and every
table's ``pg_total_relation_size`` (rows, indexes, TOAST) is read; what a step added,
divided by what it wrote, is the figure: bytes per line, per top-up (its row, the ledger
transaction and entries, the bucket's new row version, the receipt's SMS in the outbox) and
per CDR (its usage record, its share of the ledger and of the daily use). A table's
growth is counted in whole 8 KiB pages, so a few thousand rows are enough.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.topup_inquiry import fresh_postgres_database, postgres
from saldo.adapters.clock import FixedClock
from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.migrate import upgrade
from saldo.bootstrap import Saldo
from saldo.catalog.schema import bundled_specs
from saldo.config import Settings
from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.rating import Service
from saldo.services.cdr_import import import_usage
from saldo.services.charge_usage import UsageEvent
from saldo.services.lines import NewLine, import_lines
from saldo.services.operators import register_operator
from saldo.services.top_up import top_up

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
FIRST = 1155000000  # +54 9 11 5500-0000 onwards: Buenos Aires mobiles (movistar-ar)


def msisdn(n: int) -> str:
    return f"+549{FIRST + n}"


def sizes(engine: Engine) -> dict[str, int]:
    """Every table of the public schema and its total size in bytes, after a vacuum."""
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
        found = connection.execute(
            text(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
                "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
            )
        )
        return {name: int(size) for name, size in found}


def grown(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {
        name: after[name] - before.get(name, 0)
        for name in sorted(after)
        if after[name] != before.get(name, 0)
    }


def cdrs(lines: int) -> Iterator[tuple[int, UsageEvent | SaldoError]]:
    kinds = [(Service.VOICE, 95), (Service.VOICE, 30), (Service.SMS, 1), (Service.DATA, 50 << 20)]
    row = 1
    for n in range(lines):
        for k, (service, quantity) in enumerate(kinds):
            row += 1
            started = NOW - timedelta(hours=6, minutes=k)
            to = None if service is Service.DATA else "+541143210000"
            event = UsageEvent(record_id=f"cdr-{n}-{k}", msisdn=msisdn(n), service=service,
                               started_at=started, quantity=quantity, destination=to)  # fmt: skip
            yield row, event


def measure(url: str, lines: int) -> dict[str, object]:
    engine = make_engine(url)
    upgrade(engine)
    saldo = Saldo(settings=Settings(database_url=url), engine=engine, clock=FixedClock(NOW))
    for spec in bundled_specs():
        register_operator(saldo.uow(), operator=spec.to_operator(),
                          spec=spec.model_dump(mode="json"), now=NOW)  # fmt: skip
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    empty = sizes(admin)
    rows = ((n + 1, NewLine(msisdn=msisdn(n), operator="movistar-ar")) for n in range(lines))
    report = import_lines(saldo.uow(), rows=rows, now=NOW - timedelta(days=1))
    assert report.imported == lines, report.rejected[:3]
    with_lines = sizes(admin)
    for n in range(lines):
        top_up(saldo.uow(), msisdn=msisdn(n), amount=Money.of("5000", "ARS"),
               channel=Channel.WEB, idempotency_key=f"bytes-{n}", now=NOW)  # fmt: skip
    with_topups = sizes(admin)
    summary = import_usage(saldo.uow(), rows=cdrs(lines), now=NOW)
    with_cdrs = sizes(admin)
    admin.dispose()
    saldo.close()
    records = lines * 4
    steps = {
        "line": (grown(empty, with_lines), lines),
        "topup": (grown(with_lines, with_topups), lines),
        "cdr": (grown(with_topups, with_cdrs), records),
    }
    return {
        "lines": lines,
        "cdrs_reported": repr(summary),
        "per": {
            step: {"bytes": round(sum(tables.values()) / count), "tables": tables}
            for step, (tables, count) in steps.items()
        },
        "total_bytes": sum(with_cdrs.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()
    with postgres(args.postgres_url) as server:
        if server is None:
            sys.exit("no PostgreSQL to measure on (set --postgres-url)")
        result = measure(fresh_postgres_database(server), args.lines)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
