"""How far a streaming read replica on loopback is behind its primary, for docs/scaling.md.

    .venv/bin/python bench/replica_lag.py            # 300 top-ups
    .venv/bin/python bench/replica_lag.py --n 1000

A primary and its replica (``pg_basebackup -R``) as tests/replica.py starts them, on
127.0.0.1, with ``fsync=off`` on both. Saldo tops up a line N times through ``top_up`` on
the primary; after each commit the replica is polled (a read-only connection, no sleep)
until the top-up's row is there. Printed: the median, p90 and p99 of that wait, and the
replica's own ``replay_lag`` as the primary's ``pg_stat_replication`` last reported it. On
one machine this is replay and polling cost, not a network: a replica in another rack adds
its round trip.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.replica import streaming_pair

from saldo.adapters.clock import FixedClock
from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.migrate import upgrade
from saldo.bootstrap import bootstrap
from saldo.catalog.schema import bundled_specs
from saldo.config import Settings
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.lines import NewLine, add_line
from saldo.services.operators import register_operator
from saldo.services.top_up import top_up

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
LINE = "+5491155551234"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=300, help="top-ups")
    args = parser.parse_args()
    with streaming_pair() as pair:
        with pair.primary.connect() as connection:
            connection.execute(text("CREATE DATABASE saldo"))
        primary_url, replica_url = pair.database("saldo")
        engine = make_engine(primary_url)
        upgrade(engine)
        engine.dispose()
        settings = Settings(database_url=primary_url, read_database_url=replica_url)
        saldo = bootstrap(settings, clock=FixedClock(NOW))
        for spec in bundled_specs():
            register_operator(saldo.uow(), operator=spec.to_operator(),
                              spec=spec.model_dump(mode="json"), now=NOW)  # fmt: skip
        add_line(saldo.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=NOW)
        assert saldo.replica is not None
        waits: list[float] = []
        seen = text("SELECT 1 FROM topups WHERE idempotency_key = :key")
        with saldo.replica.connect() as replica:
            for n in range(args.n):
                key = f"lag-{n}"
                top_up(saldo.uow(), msisdn=LINE, amount=Money.of("2000", "ARS"),
                       channel=Channel.STORE, idempotency_key=key, now=NOW)  # fmt: skip
                committed = time.perf_counter()
                while replica.execute(seen, {"key": key}).first() is None:
                    replica.rollback()
                waits.append(time.perf_counter() - committed)
                replica.rollback()
        with pair.primary.connect() as connection:
            reported = connection.execute(
                text("SELECT replay_lag::text FROM pg_stat_replication")
            ).scalar()
        saldo.close()
    ms = sorted(wait * 1000 for wait in waits)
    print(
        json.dumps(
            {
                "topups": args.n,
                "median_ms": round(statistics.median(ms), 3),
                "p90_ms": round(ms[int(len(ms) * 0.9)], 3),
                "p99_ms": round(ms[int(len(ms) * 0.99)], 3),
                "max_ms": round(ms[-1], 3),
                "replay_lag_reported": reported,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
