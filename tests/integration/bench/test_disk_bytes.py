"""The disk benchmark measures what it says (no size is asserted): on PostgreSQL, each step
writes through Saldo's use cases and grows the tables it names, every CDR is charged."""

from __future__ import annotations

import pytest
from bench import disk_bytes as bench
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.postgres


def test_each_step_grows_the_tables_it_writes_and_every_cdr_is_charged(postgres_url: str) -> None:
    server = postgres_url.rsplit("/", 1)[0] + "/postgres"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS saldo_disk_bytes WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE saldo_disk_bytes"))
    try:
        result = bench.measure(postgres_url.rsplit("/", 1)[0] + "/saldo_disk_bytes", 10)
    finally:
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS saldo_disk_bytes WITH (FORCE)"))
        admin.dispose()

    per = result["per"]
    assert isinstance(per, dict)
    assert {"lines", "accounts"} <= set(per["line"]["tables"])
    assert {"topups", "ledger_transactions", "ledger_entries"} <= set(per["topup"]["tables"])
    assert {"usage_records", "usage_daily"} <= set(per["cdr"]["tables"])
    assert all(step["bytes"] > 0 for step in per.values())
    assert "charged=40," in str(result["cdrs_reported"])
