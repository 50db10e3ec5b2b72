"""``saldo db backup``: a complete copy of a SQLite database while Saldo has it open (what
``cp`` gets wrong with write-ahead logging), and pg_dump guidance on PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.migrate import pending_revisions
from saldo.bootstrap import Saldo
from saldo.services.lines import NewLine, add_line
from tests.cli import Cli


@pytest.fixture
def cli(saldo_sqlite: Saldo, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(saldo_sqlite, capsys)


def database_file(saldo: Saldo) -> Path:
    assert saldo.engine.url.database is not None
    return Path(saldo.engine.url.database)


def test_a_backup_taken_while_saldo_writes_has_every_committed_line_and_no_pending_migration(
    saldo_sqlite: Saldo, cli: Cli, tmp_path: Path
) -> None:
    # Given a committed line still in the write-ahead log (Saldo keeps the database open),
    add_line(
        saldo_sqlite.uow(),
        new_line=NewLine(msisdn="+32470123456", operator="proximus-be"),
        now=saldo_sqlite.clock.now(),
    )
    source = database_file(saldo_sqlite)
    assert Path(f"{source}-wal").stat().st_size > 0
    # …and another process in the middle of a transaction it has not committed,
    writer = sqlite3.connect(source, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE operators SET name = 'uncommitted'")

    # When the database is backed up,
    out = cli.ok("db", "backup", str(tmp_path / "copy.db"))
    writer.execute("ROLLBACK")
    writer.close()

    # Then the copy is a whole database: migrated, with the line, without the open change.
    assert out.startswith(f"Backup written to {tmp_path / 'copy.db'} (")
    assert not Path(f"{tmp_path / 'copy.db'}-wal").exists()
    copy = make_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    assert pending_revisions(copy) == []
    copy.dispose()
    with sqlite3.connect(tmp_path / "copy.db") as db:
        assert db.execute("SELECT msisdn FROM lines").fetchall() == [("+32470123456",)]
        assert db.execute(
            "SELECT count(*) FROM operators WHERE name = 'uncommitted'"
        ).fetchone() == (0,)
    assert cli.ok("--database-url", f"sqlite:///{tmp_path / 'copy.db'}", "audit")


def test_a_backup_never_overwrites_a_file(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "kept.db").write_bytes(b"mine")

    refused = cli.refused("db", "backup", str(tmp_path / "kept.db"))

    assert refused == f"{tmp_path / 'kept.db'} already exists: choose a new file name"
    assert (tmp_path / "kept.db").read_bytes() == b"mine"


def test_on_postgresql_the_backup_says_how_to_use_pg_dump(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from saldo.channels.cli.main import run

    code = run(
        ["--database-url", "postgresql+psycopg://saldo@127.0.0.1:9/saldo", "db", "backup", "x"]
    )

    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "pg_dump --format=custom" in captured.err
