"""The top-up benchmark's sides do the work they claim (no timing is asserted). Saldo's
statements replayed from raw sqlite3 must be real Saldo top-ups: a balanced ledger that
matches the buckets, as after Saldo's own. If the schema changes under them, this fails
before the benchmark's 'SQL alone' side starts measuring something else."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench import topup_inquiry as bench
from sqlalchemy import func, select

from saldo.adapters.db import tables as t
from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.unit_of_work import SqlUnitOfWork
from saldo.services.audit import audit_ledger


@pytest.mark.parametrize("scenario", [bench.SMALL, bench.EXTENDING], ids=["small", "extending"])
def test_each_side_runs_and_the_replayed_statements_leave_a_clean_ledger(
    tmp_path: Path, scenario: bench.Scenario
) -> None:
    database = tmp_path / "saldo.db"
    with (
        bench.saldo_side(f"sqlite:///{database}", scenario) as saldo,
        bench.raw_sqlite_side(tmp_path / "raw.db") as raw,
        bench.saldo_statements_side(database, scenario) as statements,
    ):
        rates = bench.race({"saldo": saldo, "raw": raw, "statements": statements}, 24, rounds=3)

    assert set(rates) == {"saldo", "raw", "statements"}
    assert all(topups > 0 for topups, _ in rates.values())
    assert rates["saldo"][1] > 0 and rates["raw"][1] > 0

    engine = make_engine(f"sqlite:///{database}")
    try:
        report = audit_ledger(SqlUnitOfWork(engine))
        with engine.connect() as connection:
            keys = connection.execute(select(t.topups.c.idempotency_key)).scalars().all()
            extended = connection.execute(
                select(func.count()).where(
                    t.topups.c.valid_until_after > t.topups.c.valid_until_before
                )
            ).scalar_one()
    finally:
        engine.dispose()
    assert report.clean
    # The warm-up top-up, then 24 of Saldo's and 24 replayed, each with its ledger transaction.
    assert report.transactions == 49
    assert sum(key.startswith("statements-") for key in keys) == 24
    assert sum(key.startswith("bench-") for key in keys) == 25
    assert extended == (49 if scenario.extend else 0)
