"""Shared fixtures: databases (SQLite and PostgreSQL, migrated once, emptied between tests),
a fixed clock, and a wired Saldo with the bundled catalog loaded."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from copy import deepcopy
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from saldo.adapters.clock import FixedClock
from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.migrate import upgrade
from saldo.adapters.db.tables import metadata
from saldo.bootstrap import Saldo
from saldo.catalog.schema import bundled_specs
from saldo.config import Settings
from saldo.domain.operator import Operator
from saldo.services.operators import register_operator
from tests.postgres import postgres_server, unavailable_reason

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


def pytest_report_header() -> list[str]:
    reason = unavailable_reason()
    return [f"postgresql: {'available' if reason is None else 'SKIPPED: ' + reason}"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated, empty PostgreSQL database for this test session."""
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {reason}")
        pytest.skip(reason)
    with postgres_server() as server_url:
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        name = f"saldo_test_{os.getpid()}"
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = server_url.rsplit("/", 1)[0] + f"/{name}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        try:
            yield url
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "saldo.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _empty_postgres(url: str) -> None:
    """Every table emptied and every sequence back at 1. DELETE rather than TRUNCATE: on
    tables holding a few rows, TRUNCATE's new files per table cost ten times as much. The
    session runs as a replica would, so neither foreign keys nor the ledger's append-only
    triggers fire (the test server's user is a superuser)."""
    engine = _postgres_engine(url)
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(metadata.sorted_tables):
            connection.execute(text(f"DELETE FROM {table.name}"))
        connection.execute(
            text(
                "SELECT setval(c.oid, 1, false) FROM pg_class c "
                "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"
            )
        )


@cache
def _postgres_engine(url: str) -> Engine:
    return create_engine(url, poolclass=NullPool)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database: a fresh SQLite file, or the session's PostgreSQL
    database emptied. Tests that take it run once on each."""
    if request.param == "sqlite":
        path = tmp_path / "saldo.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture
def fresh(database_url: str, request: pytest.FixtureRequest) -> Callable[[], str]:
    """An empty migrated database at each call (the same one emptied, on PostgreSQL): for
    property tests that compare two ways of doing the same work, each from nothing."""
    runs = iter(range(10**9))

    def make() -> str:
        if database_url.startswith("sqlite"):
            template: Path = request.getfixturevalue("sqlite_template")
            path = Path(database_url.removeprefix("sqlite:///")).with_name(f"run{next(runs)}.db")
            shutil.copy(template, path)
            return f"sqlite:///{path}"
        _empty_postgres(database_url)
        return database_url

    return make


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """An empty, migrated SQLite database, for tests that need only one database."""
    path = tmp_path / "saldo.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session", autouse=True)
def _operator_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Built operators (saldo.adapters.db.operator_cache) are kept in this session's temporary
    folder, for the subprocesses too, never in the home folder of whoever runs the tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


@pytest.fixture(autouse=True)
def _sandbox_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox card processor keeps its payments in the test's own directory."""
    monkeypatch.setenv("SALDO_SANDBOX_PATH", str(tmp_path / "sandbox.db"))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def wire(url: str, clock: FixedClock) -> Saldo:
    return Saldo(
        settings=Settings(database_url=url, environment="test"),
        engine=make_engine(url),
        clock=clock,
    )


@cache
def _bundled_operators() -> tuple[tuple[Operator, dict[str, Any]], ...]:
    """The bundled catalog's operators (frozen) and specs, read once per session: most tests
    load them, and parsing and validating seven files each time cost half their set-up."""
    return tuple((spec.to_operator(), spec.model_dump(mode="json")) for spec in bundled_specs())


def load_catalog(saldo: Saldo) -> None:
    for operator, spec in _bundled_operators():
        register_operator(
            saldo.uow(), operator=operator, spec=deepcopy(spec), now=saldo.clock.now()
        )


@pytest.fixture
def saldo(database_url: str, clock: FixedClock) -> Iterator[Saldo]:
    """Saldo on each database, with the seven demo operators loaded."""
    wired = wire(database_url, clock)
    load_catalog(wired)
    yield wired
    wired.close()


@pytest.fixture
def saldo_sqlite(sqlite_url: str, clock: FixedClock) -> Iterator[Saldo]:
    """Saldo on SQLite only, with the seven demo operators loaded."""
    wired = wire(sqlite_url, clock)
    load_catalog(wired)
    yield wired
    wired.close()
