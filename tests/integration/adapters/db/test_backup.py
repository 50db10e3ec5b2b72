"""``saldo db backup``: a complete copy of a SQLite database while Saldo has it open (what
``cp`` gets wrong with write-ahead logging), and pg_dump guidance on PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.migrate import pending_revisions
from saldo.bootstrap import Saldo, bootstrap
from saldo.config import Settings
from saldo.services.lines import NewLine, add_line
from saldo.services.payment_flow import installation_id
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


def installation_of(file: Path) -> str | None:
    with sqlite3.connect(file) as db:
        row = db.execute("SELECT installation_id FROM installation").fetchone()
    return None if row is None else str(row[0])


def test_a_backup_is_the_same_installation_unless_asked_for_a_new_one(
    saldo_sqlite: Saldo, cli: Cli, tmp_path: Path
) -> None:
    # Given a database that has paid once (so it has made its installation id),
    installation = installation_id(saldo_sqlite.uow())

    # When it is copied as a restore, and as a staging copy,
    cli.ok("db", "backup", str(tmp_path / "restore.db"))
    cli.ok("db", "backup", str(tmp_path / "staging.db"), "--new-installation")

    # Then the restore keys payments as the original does; the staging copy will make its own.
    assert installation_of(tmp_path / "restore.db") == installation
    assert installation_of(tmp_path / "staging.db") is None
    staging = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'staging.db'}"))
    assert installation_id(staging.uow()) not in (None, installation)
    staging.close()


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
