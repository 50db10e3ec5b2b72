"""Schema migrations (Alembic), run from code: ``saldo db upgrade`` and the tests use this.

Alembic is imported only to migrate or to count pending migrations: every command checks the
schema first, and an up-to-date database is recognised without it (``is_up_to_date``).
SQLAlchemy is imported by the functions too: ``newest_revision`` is also what a balance read on
SQLite's own driver checks against (``saldo.adapters.db.sqlite_reads``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine
    from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"


def newest_revision() -> str:
    """The revision of the newest migration. Migrations are numbered in order and each file is
    named after its revision (``0009_unread_indexes.py`` is revision ``"0009"``); a test checks
    this against Alembic's own head."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("*_*.py"))


def is_up_to_date(engine: Engine) -> bool:
    """Whether the database is at the newest revision (one cheap query, no Alembic)."""
    from sqlalchemy import inspect, text

    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return False
        versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    return [row.version_num for row in versions] == [newest_revision()]


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine, *, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the newest by default); safe to run again."""
    from alembic import command

    config = alembic_config(engine)
    with _migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, *, revision: str) -> None:
    """Take the database back to ``revision``: all of it or, when a step refuses (a
    migration that would lose data says so), none of it."""
    from alembic import command

    config = alembic_config(engine)
    with _migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction for the whole run, on SQLite too: its connections are in the driver's
    autocommit, where each DDL statement would stand alone, unless marked as a writer's
    (``BEGIN IMMEDIATE``, engine.py)."""
    from saldo.adapters.db.engine import WRITE

    with engine.connect().execution_options(**{WRITE: True}) as connection, connection.begin():
        yield connection


def pending_revisions(engine: Engine) -> list[str]:
    """Revisions not yet applied to this database."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    heads = script.get_revisions("heads")
    pending: list[str] = []
    for head in heads:
        for revision in script.iterate_revisions(head.revision, None):
            if revision.revision in current:
                break
            pending.append(revision.revision)
    return pending
