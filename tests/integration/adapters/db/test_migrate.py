"""The schema check every command makes first: an up-to-date database is recognised with one
query (Alembic is not loaded), and a database behind is still told how far behind it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.migrate import alembic_config, is_up_to_date, newest_revision, upgrade
from saldo.bootstrap import DatabaseNotReady, Saldo
from saldo.config import Settings


def test_the_newest_migration_file_names_alembic_s_only_head(tmp_path: Path) -> None:
    # given Alembic's own reading of the migrations
    engine = make_engine(f"sqlite:///{tmp_path}/any.db")
    script = ScriptDirectory.from_config(alembic_config(engine))

    # when the newest revision is read from the files' names
    newest = newest_revision()

    # then it is Alembic's one head
    assert script.get_heads() == [newest]
    engine.dispose()


def test_a_migrated_database_is_up_to_date(database_url: str) -> None:
    # given a database migrated to the newest revision (the fixture's)
    engine = make_engine(database_url)

    # when it is checked, then it is up to date
    assert is_up_to_date(engine)
    engine.dispose()


def test_an_empty_database_is_not_up_to_date(tmp_path: Path) -> None:
    # given a database without any table
    engine = make_engine(f"sqlite:///{tmp_path}/empty.db")
    engine.connect().close()

    # when it is checked, then it is not up to date
    assert not is_up_to_date(engine)
    engine.dispose()


def test_a_database_one_migration_behind_is_told_it_needs_one(tmp_path: Path) -> None:
    # given a database migrated to the revision before the newest
    url = f"sqlite:///{tmp_path}/old.db"
    engine = make_engine(url)
    previous = f"{int(newest_revision()) - 1:04d}"
    upgrade(engine, revision=previous)
    saldo = Saldo(settings=Settings(database_url=url), engine=engine)

    # when its schema is checked
    # then it is not up to date, and the check says how many migrations it needs
    assert not is_up_to_date(engine)
    with pytest.raises(DatabaseNotReady, match=r"needs 1 migration\(s\)"):
        saldo.check_schema()
    saldo.close()
